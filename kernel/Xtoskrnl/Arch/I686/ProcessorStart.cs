using ExectOS.Boot;
using ExectOS.Hardware;
using ExectOS.Memory;

namespace ExectOS.Kernel
{
    /// <summary>i686's part of the start-up page: its 32-bit part turns paging on and calls the kernel (no 64-bit part).</summary>
    internal static unsafe partial class ProcessorStart
    {
        private const uint LongModeBits = (1 << 8) | (1 << 10);

        /// <summary>
        /// The shared part, and this processor's EFER for NX (0 when the processor has none: the stub then leaves it), so
        /// the others run in the same paging mode (PAE or 2-level; the root is below 4 GiB) with the same features on.
        /// </summary>
        internal static void Prepare<TMemory>(ref TMemory memory, ulong page) where TMemory : struct, IPhysicalMemory
        {
            PrepareShared(ref memory, page);
            ulong p = page + ProcessorStartLayout.Parameters;
            memory.Write32(new PhysicalAddress(p + ProcessorStartLayout.Efer), HasEfer ? (uint)Cpu.ReadMsr(EferMsr) & ~LongModeBits : 0);
        }

        /// <summary>Whether the processor has EFER (CPUID 0x80000001 EDX: NX, bit 20, or long mode, bit 29).</summary>
        private static bool HasEfer => Cpu.CpuId(0x80000000).Eax >= 0x80000001 && (Cpu.CpuId(0x80000001).Edx & (1u << 20 | 1u << 29)) != 0;
    }
}
