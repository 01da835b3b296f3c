using ExectOS.Hardware;
using ExectOS.Memory;
using ExectOS.Text;

namespace ExectOS.Loader
{
    /// <summary>
    /// The AArch64 hand-off page: where the stub that sets MAIR_EL1, TCR_EL1, TTBR0_EL1 and TTBR1_EL1 and enters the
    /// kernel in the high half will be copied. That stub is not written yet, so this says so and stops the boot
    /// before boot services are left.
    /// </summary>
    internal static unsafe class HandOffPage
    {
        /// <summary>The page and the tables may lie anywhere: TTBRn take any physical address the processor has.</summary>
        internal const ulong Limit = ulong.MaxValue;

        internal const ulong TableLimit = ulong.MaxValue;

        internal static byte* Prepare<TMode>(ulong page, ulong root, ulong entry, ulong stackTop, ulong block) where TMode : struct, IPagingMode
        {
            // The exception level decides which registers the hand-off sets (EL1's TTBR1, or EL2 with VHE), so say it.
            TextLine line = default;
            line.Append("not there yet on aarch64: the hand-off (MAIR/TCR/TTBR0/TTBR1 and the jump to the kernel in the high half); the loader runs at EL");
            line.AppendDecimal((ulong)Processor.ExceptionLevel);
            LoaderConsole.Error(line.AsSpan());
            return null;
        }
    }
}
