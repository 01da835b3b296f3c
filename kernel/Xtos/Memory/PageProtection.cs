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
    }

    /// <summary>What a raw entry is at its level.</summary>
    public enum EntryKind
    {
        NotPresent = 0,
        Table = 1,
        Page = 2,
    }
}
