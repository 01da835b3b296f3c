namespace ExectOS.Boot
{
    /// <summary>
    /// The AArch64 hand-off page: the loader copies the stub's 4 KiB piece from ArHandOff on (the hand-off code, room
    /// for the parameters, the early fault handler and its vectors: generators/StubAssembler/Arch/AArch64/Stubs.s) and
    /// fills the parameter block; the hand-off code reads it, points VBAR_EL1 at the early vectors, switches to the
    /// kernel's tables and jumps to the kernel. The page is identity-mapped in the firmware's tables and in the
    /// kernel's (the low half), so a kernel that faults before it installs its own vectors ends with a line naming the
    /// fault and a semihosting exit, never a hang.
    /// </summary>
    public static class HandOffLayout
    {
        /// <summary>Room for the stub's code at the start of the page (a test checks the stub fits).</summary>
        public const int CodeBytes = 0x100;

        /// <summary>Offset of the parameter block in the page.</summary>
        public const int Parameters = 0x100;

        // Offsets inside the parameter block, in the order the stub loads them (ldp pairs).
        public const int LowRoot = 0;
        public const int HighRoot = 8;
        public const int Entry = 16;
        public const int StackTop = 24;
        public const int Argument = 32;
        public const int MemoryAttributes = 40;
        public const int TranslationControl = 48;
        /// <summary>The console's registers in the kernel's tables (the early handler writes there), 0 when none.</summary>
        public const int ConsoleRegisters = 56;
        /// <summary>The semihosting SYS_EXIT block the early handler passes: reason, then status.</summary>
        public const int SemihostingBlock = 64;
        /// <summary>The early handler's message (zero-terminated), up to the end of the parameter block.</summary>
        public const int EarlyMessage = 80;
        public const int EarlyMessageBytes = 0x100 - EarlyMessage;

        /// <summary>The early fault handler and its vector table (2 KiB aligned) in the page.</summary>
        public const int EarlyCode = 0x200;
        public const int EarlyVectors = 0x800;

        /// <summary>Bytes the loader copies from the stub: the whole piece.</summary>
        public const int PieceBytes = 0x1000;

        /// <summary>Semihosting's ADP_Stopped_ApplicationExit, the SYS_EXIT reason that carries a status.</summary>
        public const ulong ApplicationExit = 0x20026;

        /// <summary>
        /// MAIR_EL1 as the descriptors' AttrIndx values mean it (descriptors/aarch64/paging.xd): attribute 0 normal
        /// write-back (0xFF), 1 Device-nGnRnE (0x00), 2 normal non-cacheable (0x44).
        /// </summary>
        public const ulong MemoryAttributeIndirection = 0x0000_0000_0044_00FF;
    }
}
