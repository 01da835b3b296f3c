namespace ExectOS.Boot
{
    /// <summary>
    /// The application processors' start-up page: a 4 KiB page below 1 MiB that the loader reserved, into which the
    /// kernel copies the ArProcessorStart stub and fills the parameter block below. A start-up IPI enters it in real
    /// mode at its first byte (CS = page >> 4); the 16-bit part loads the page's GDT and enters 32-bit protected mode,
    /// the 32-bit part loads the boot processor's CR4, page-table root, EFER and CR0 (paging on: the page is
    /// identity-mapped for the moment), the 64-bit part takes the stack and calls the kernel's entry with the argument.
    /// One definition for the kernel and the stub assembler.
    /// </summary>
#if EXECTOS_STUB_ASSEMBLER
    internal // the stub assembler links this file; tests see both assemblies and use the kernel's
#else
    public
#endif
    static class ProcessorStartLayout
    {
        /// <summary>Room for the stub's code at the start of the page.</summary>
        public const int CodeBytes = 0x400;

        /// <summary>Offsets of the 32-bit and 64-bit parts (the 16-bit part starts the page).</summary>
        public const int Code32 = 0x100, Code64 = 0x200;

        /// <summary>Offset of the parameter block in the page.</summary>
        public const int Parameters = 0x800;

        // Offsets inside the parameter block.
        /// <summary>The GDT pseudo-descriptor as 16-bit code loads it: 16-bit limit, then the base (below 1 MiB).</summary>
        public const int GdtLimit = 0, GdtBase = 2;
        /// <summary>Far pointers (32-bit offset, then selector) to the 32-bit and the 64-bit parts.</summary>
        public const int Jump32 = 8, Jump64 = 16;
        /// <summary>The boot processor's CR4, page-table root (below 4 GiB), EFER (low half) and CR0, loaded in this order.</summary>
        public const int Cr4 = 24, PageTableRoot = 28, Efer = 32, Cr0 = 36;
        public const int StackTop = 40, Entry = 48, Argument = 56;
        public const int Gdt = 64, GdtEntries = 4;

        /// <summary>The highest address the start-up page may reach: a start-up IPI's vector is its page number, and below 0xA0000 is RAM.</summary>
        public const ulong Limit = 0x9FFFF;
    }
}
