namespace ExectOS.Memory
{
    /// <summary>What a mapping allows, in architecture-neutral terms (descriptor roles turn it into bits).</summary>
    [System.Flags]
    public enum PageProtection : uint
    {
        /// <summary>Readable by the kernel only: every mapping is at least readable.</summary>
        Read = 0,
        Writable = 1,
        Executable = 2,
        User = 4,
        Global = 8,

        /// <summary>
        /// Device registers: a memory type that is never cached, merged or read ahead, where the mode's leaf format has
        /// a <c>device</c> role (AArch64: MAIR attribute 1, Device-nGnRnE; x86: PCD, UC- with the default PAT). A mode
        /// without one (RISC-V) maps device memory as any other, and reading such an entry back never says Device.
        /// </summary>
        Device = 16,
    }

    /// <summary>What a raw entry is at its level.</summary>
    public enum EntryKind
    {
        NotPresent = 0,
        Table = 1,
        Page = 2,
    }
}
