namespace ExectOS.Hardware
{
    /// <summary>
    /// The trap entry stubs (ArTrapEntryTable): one entry per interrupt vector (the exceptions 0 to 31, then the
    /// interrupts: inter-processor requests, the local APIC's spurious vector, anything unexpected) at a fixed stride,
    /// each pushing a zero where the processor pushes no error code, then the vector, and joining a common
    /// path that saves the general registers as a <c>TrapFrame</c> and calls the dispatcher whose address
    /// the processor block (GS base on x64, FS base on x86) holds at <see cref="DispatcherOffset"/>.
    /// One definition for the kernel and the stub assembler.
    /// </summary>
#if EXECTOS_STUB_ASSEMBLER
    internal
#else
    public
#endif
    static class TrapLayout
    {
        /// <summary>Every vector, 0 to 255: exceptions below <see cref="FirstInterrupt"/>, interrupts from there.</summary>
        public const int EntryCount = 256;

        /// <summary>The first vector that is not a processor exception.</summary>
        public const int FirstInterrupt = 32;

        /// <summary>Bytes from one entry to the next.</summary>
        public const int EntryStride = 16;

        /// <summary>Offset of the dispatcher's address in the processor block.</summary>
        public const int DispatcherOffset = 0;

        /// <summary>Where the processor block holds the processor's number: after the dispatcher and the block's own address.</summary>
        public const int NumberOffset64 = 16, NumberOffset32 = 8;

        /// <summary>Vectors for which the processor pushes an error code: #DF, #TS, #NP, #SS, #GP, #PF, #AC, #CP, #VC, #SX.</summary>
        public const uint ErrorCodeVectors = (1u << 8) | (1u << 10) | (1u << 11) | (1u << 12) | (1u << 13) | (1u << 14) | (1u << 17) | (1u << 21) | (1u << 29) | (1u << 30);

        public static bool HasErrorCode(int vector) => vector < FirstInterrupt && (ErrorCodeVectors & (1u << vector)) != 0;
    }
}
