namespace ExectOS.Boot
{
    /// <summary>
    /// The hand-off page: the loader copies the ArHandOff stub to its start and fills the parameter block
    /// and GDT below; the stub loads the kernel's tables (switching to 5-level paging through 32-bit
    /// code when asked), then jumps to the kernel. The page is identity-mapped before and after, below
    /// 4 GiB. One definition for the loader and the stub assembler.
    /// </summary>
#if EXECTOS_STUB_ASSEMBLER
    internal // the stub assembler links this file; tests see both assemblies and use the kernel's
#else
    public
#endif
    static class HandOffLayout
    {
        /// <summary>Room for the stub's code at the start of the page (the stub assembler checks it fits).</summary>
        public const int CodeBytes = 0x400;

        /// <summary>Offset of the parameter block in the page.</summary>
        public const int Parameters = 0x800;

        // Offsets inside the parameter block.
        public const int PageTableRoot = 0;
        public const int Entry = 8;
        public const int StackTop = 16;
        public const int Argument = 24;
        public const int Flags = 32;
        /// <summary>The GDT pseudo-descriptor: 16-bit limit, then the 64-bit base.</summary>
        public const int GdtLimit = 46;
        public const int GdtBase = 48;
        /// <summary>Far pointer (32-bit offset, then selector) the 32-bit code jumps through back to 64-bit code.</summary>
        public const int FarPointer = 56;
        public const int Gdt = 64;
        public const int GdtEntries = 4;

        // The early fault handler: until the kernel loads its own IDT, exceptions reach ArEarlyFault (copied to
        // EarlyCode in the page), which prints EarlyMessage and the vector on COM1 and ends the run.

        /// <summary>The early IDT's pseudo-descriptor: 16-bit limit, then the base (64-bit on amd64, low half read on i686).</summary>
        public const int EarlyIdtLimit = 110;
        public const int EarlyIdtBase = 112;
        /// <summary>The line printed before the vector's two hex digits: ASCII, zero-terminated, at most EarlyMessageBytes.</summary>
        public const int EarlyMessage = 128;
        public const int EarlyMessageBytes = 128;
        /// <summary>The early IDT (32 gates of 16 bytes on amd64, 8 on i686).</summary>
        public const int EarlyIdt = 0x200;
        public const int EarlyVectors = 32;

        /// <summary>Page offset of the ArEarlyFault copy, and the room it has (the stub assembler checks it fits).</summary>
        public const int EarlyCode = 0x400;
        public const int EarlyCodeBytes = 0x400;
        /// <summary>ArEarlyFault starts with one entry per vector at this stride: push the vector, jump to the common path.</summary>
        public const int EarlyEntryStride = 8;

        /// <summary>Flags bit (amd64): enable 5-level paging (CR4.LA57) on the way.</summary>
        public const ulong FiveLevel = 1;

        /// <summary>Flags bits (i686): PAE paging (CR4.PAE), 4 MiB pages in 2-level paging (CR4.PSE), no-execute (EFER.NXE).</summary>
        public const ulong Pae = 2, LargePages = 4, NoExecute = 8;

        public const ushort Code64Selector = 0x08;
        public const ushort Code32Selector = 0x10;
        public const ushort DataSelector = 0x18;

        // Flat segments (Intel SDM Vol. 3A, 3.4.5): 64-bit code (L=1), 32-bit code (D=1), data. The accessed
        // bit is set up front: the page is mapped read+execute, so the processor could not write it on a load.
        public const ulong Code64Descriptor = 0x00AF9B000000FFFF;
        public const ulong Code32Descriptor = 0x00CF9B000000FFFF;
        public const ulong DataDescriptor = 0x00CF93000000FFFF;
    }
}
