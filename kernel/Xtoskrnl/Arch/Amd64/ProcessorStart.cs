using ExectOS.Boot;
using ExectOS.Hardware;
using ExectOS.Memory;

namespace ExectOS.Kernel
{
    /// <summary>amd64's part of the start-up page: the 64-bit code segment and part, and EFER for long mode.</summary>
    internal static unsafe partial class ProcessorStart
    {
        private const uint EferActive = 1 << 10;

        /// <summary>
        /// The shared part, then the 64-bit segment, the far pointer to the 64-bit part, and this processor's EFER (long
        /// mode enabled, not yet active), so the others run in the same paging mode with the same features on.
        /// </summary>
        internal static void Prepare<TMemory>(ref TMemory memory, ulong page) where TMemory : struct, IPhysicalMemory
        {
            PrepareShared(ref memory, page);
            ulong p = page + ProcessorStartLayout.Parameters, gdt = p + ProcessorStartLayout.Gdt;
            memory.Write64(new PhysicalAddress(gdt + HandOffLayout.Code64Selector), HandOffLayout.Code64Descriptor);
            memory.Write32(new PhysicalAddress(p + ProcessorStartLayout.Jump64), (uint)(page + ProcessorStartLayout.Code64));
            memory.Write32(new PhysicalAddress(p + ProcessorStartLayout.Jump64 + 4), HandOffLayout.Code64Selector);
            memory.Write32(new PhysicalAddress(p + ProcessorStartLayout.Efer), (uint)Cpu.ReadMsr(EferMsr) & ~EferActive);
        }
    }
}
