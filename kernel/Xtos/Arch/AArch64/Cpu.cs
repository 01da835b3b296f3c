using System.Runtime;
using System.Runtime.CompilerServices;

namespace ExectOS.Hardware
{
    /// <summary>
    /// The AArch64 system instructions, bound to the stubs LLVM's assembler builds from
    /// generators/StubAssembler/Arch/AArch64/Stubs.s; those every architecture has are in Hardware/Cpu.cs.
    /// </summary>
    public static unsafe partial class Cpu
    {
        /// <summary>A store observed after every earlier load and store of this processor (STLR).</summary>
        [RuntimeImport("ArStoreRelease"), MethodImpl(MethodImplOptions.InternalCall)]
        public static extern void StoreRelease(nuint* location, nuint value);

        /// <summary>ID_AA64MMFR0_EL1: granules, physical address range.</summary>
        [RuntimeImport("ArReadIdAa64Mmfr0"), MethodImpl(MethodImplOptions.InternalCall)]
        public static extern ulong ReadIdAa64Mmfr0();

        /// <summary>CurrentEL: the exception level in bits 3:2.</summary>
        [RuntimeImport("ArReadCurrentEl"), MethodImpl(MethodImplOptions.InternalCall)]
        public static extern nuint ReadCurrentEl();

        /// <summary>The generic timer's virtual count (CNTVCT_EL0).</summary>
        [RuntimeImport("ArReadCounter"), MethodImpl(MethodImplOptions.InternalCall)]
        public static extern ulong ReadCounter();

        /// <summary>One 32-bit device-register read.</summary>
        [RuntimeImport("ArRead32"), MethodImpl(MethodImplOptions.InternalCall)]
        public static extern uint Read32(void* address);

        /// <summary>One 32-bit device-register write.</summary>
        [RuntimeImport("ArWrite32"), MethodImpl(MethodImplOptions.InternalCall)]
        public static extern void Write32(void* address, uint value);

        /// <summary>TTBR0_EL1: the low half's table base (bits 47:1) and ASID (63:48).</summary>
        [RuntimeImport("ArReadTtbr0"), MethodImpl(MethodImplOptions.InternalCall)]
        public static extern ulong ReadTtbr0();

        /// <summary>TTBR1_EL1: the high half's table base and ASID.</summary>
        [RuntimeImport("ArReadTtbr1"), MethodImpl(MethodImplOptions.InternalCall)]
        public static extern ulong ReadTtbr1();

        /// <summary>Drops a page's translations on every processor of the inner shareable domain (TLBI VAAE1IS, with barriers).</summary>
        [RuntimeImport("ArInvalidatePage"), MethodImpl(MethodImplOptions.InternalCall)]
        public static extern void InvalidatePage(void* address);

        /// <summary>Writes a range's data-cache lines back to memory and invalidates the instruction cache (code written as data).</summary>
        [RuntimeImport("ArCleanToPointOfCoherency"), MethodImpl(MethodImplOptions.InternalCall)]
        public static extern void CleanToPointOfCoherency(void* address, nuint bytes);

        /// <summary>MPIDR_EL1: the processor's affinity fields.</summary>
        [RuntimeImport("ArReadMpidr"), MethodImpl(MethodImplOptions.InternalCall)]
        public static extern ulong ReadMpidr();

        /// <summary>ID_AA64ISAR0_EL1: instruction-set features (RNDR in bits 63:60).</summary>
        [RuntimeImport("ArReadIdAa64Isar0"), MethodImpl(MethodImplOptions.InternalCall)]
        public static extern ulong ReadIdAa64Isar0();

        /// <summary>RNDR: a random number, 0 when the generator gave none (FEAT_RNG only).</summary>
        [RuntimeImport("ArReadRandom"), MethodImpl(MethodImplOptions.InternalCall)]
        public static extern ulong ReadRandom();

        /// <summary>TPIDR_EL1 := this processor's block.</summary>
        [RuntimeImport("ArWriteProcessorBlock"), MethodImpl(MethodImplOptions.InternalCall)]
        public static extern void WriteProcessorBlock(void* block);

        /// <summary>The number in this processor's block (its third word), 0 before it has a block.</summary>
        [RuntimeImport("ArProcessorNumber"), MethodImpl(MethodImplOptions.InternalCall)]
        public static extern nuint ProcessorNumber();

        /// <summary>Calls function(argument) on the stack whose top is <paramref name="stackTop"/>, then returns to this one.</summary>
        [RuntimeImport("ArCallOnStack"), MethodImpl(MethodImplOptions.InternalCall)]
        public static extern void CallOnStack(void* stackTop, void* function, nuint argument);

        /// <summary>Interrupts masked, wfi for good.</summary>
        [RuntimeImport("ArHaltForever"), MethodImpl(MethodImplOptions.InternalCall)]
        public static extern void HaltForever();

        /// <summary>Semihosting SYS_EXIT with ADP_Stopped_ApplicationExit: the emulator ends with <paramref name="status"/>.</summary>
        [RuntimeImport("ArSemihostingExit"), MethodImpl(MethodImplOptions.InternalCall)]
        public static extern void SemihostingExit(nuint status);

        /// <summary>Moves the current stack to SP_EL0 (SPSel = 0) and makes <paramref name="exceptionStackTop"/> SP_EL1; once, from SPSel = 1.</summary>
        [RuntimeImport("ArUseThreadStack"), MethodImpl(MethodImplOptions.InternalCall)]
        public static extern void UseThreadStack(void* exceptionStackTop);

        /// <summary>SP_EL1, the stack exceptions run on, from now on.</summary>
        [RuntimeImport("ArSetExceptionStack"), MethodImpl(MethodImplOptions.InternalCall)]
        public static extern void SetExceptionStack(void* top);

        /// <summary>VBAR_EL1.</summary>
        [RuntimeImport("ArSetVectorBase"), MethodImpl(MethodImplOptions.InternalCall)]
        public static extern void SetVectorBase(void* table);

        /// <summary>The exception vector table (16 entries of 128 bytes, 2 KiB aligned).</summary>
        [RuntimeImport("ArTrapVectors"), MethodImpl(MethodImplOptions.InternalCall)]
        public static extern void* TrapVectors();

        /// <summary>One-way: the hand-off (see <see cref="Boot.HandOffLayout"/>), called through its copy in the hand-off page.</summary>
        [RuntimeImport("ArHandOff"), MethodImpl(MethodImplOptions.InternalCall)]
        public static extern void HandOff(void* parameters);
    }
}
