using ExectOS.Boot;
using ExectOS.Memory;

namespace ExectOS.Kernel
{
    /// <summary>
    /// AArch64's way of waking the other processors would be PSCI CPU_ON (through HVC or SMC, as the FADT or the
    /// device tree says) with an entry that turns on the MMU with the boot processor's MAIR, TCR and TTBRs. It is not
    /// written yet: the processors line says so and the boot goes on with the boot processor.
    /// </summary>
    internal unsafe struct ProcessorWakeup
    {
        internal const string NotWritten = "starting AArch64 processors (PSCI CPU_ON) is not written yet";

        internal static string? Open<TMode>(LoaderBlock* block, ulong interruptController, out ProcessorWakeup wakeup) where TMode : struct, IPagingMode
        {
            wakeup = default;
            return NotWritten;
        }

        internal readonly bool Start<TMode>(int number, uint id, ulong stackTop, ulong doubleFaultTop, ulong nmiTop) where TMode : struct, IPagingMode => false;

        internal readonly string? ModeNote => null;

        internal readonly void Close<TMode>() where TMode : struct, IPagingMode
        {
        }
    }
}
