using ExectOS.Diagnostics;
using ExectOS.Memory;

namespace ExectOS.Kernel
{
    /// <summary>
    /// Requests between processors on AArch64. TLB maintenance needs none: TLBI ... IS (<see cref="Hardware.Processor.InvalidatePage"/>)
    /// reaches every processor of the inner shareable domain in hardware, so <see cref="Queue"/> and <see cref="Complete"/>
    /// have nothing to send. Waking a processor needs the GIC's software-generated interrupts, which come with starting
    /// processors (PSCI CPU_ON, not written yet): until then only the boot processor runs, and a wake-up is a bug.
    /// </summary>
    internal static class InterProcessor
    {
        /// <summary>TLB shootdowns sent by software: none, the hardware broadcasts them.</summary>
        internal static ulong Shootdowns => 0;

        /// <summary>The address is invalidated everywhere already (TLBI VAAE1IS): nothing to gather.</summary>
        internal static void Queue(VirtualAddress address)
        {
        }

        internal static void Complete()
        {
        }

        /// <summary>Several processors run: never, until processors can be started.</summary>
        internal static void Open() => BugCheck.Raise(BugCheckCode.ProcessorRequestTimeout, 0, 0, 0, 0);

        /// <summary>No other processor runs to be woken: a caller that thinks so is wrong.</summary>
        internal static void Wake(int number) => BugCheck.Raise(BugCheckCode.ProcessorRequestTimeout, (ulong)number, 0, 0, 0);
    }
}
