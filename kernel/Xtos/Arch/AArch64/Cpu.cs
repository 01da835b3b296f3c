using System.Runtime;
using System.Runtime.CompilerServices;

namespace ExectOS.Hardware
{
    /// <summary>
    /// The AArch64 system instructions, bound to the stubs LLVM's assembler builds from
    /// generators/StubAssembler/Arch/AArch64/Stubs.s (only those the loader uses so far); those every architecture has
    /// are in Hardware/Cpu.cs.
    /// </summary>
    public static unsafe partial class Cpu
    {
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
    }
}
