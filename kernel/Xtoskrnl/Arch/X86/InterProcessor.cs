using System.Runtime.CompilerServices;
using ExectOS.Diagnostics;
using ExectOS.Hardware;
using ExectOS.Memory;
using ExectOS.Threading;

namespace ExectOS.Kernel
{
    /// <summary>
    /// Requests between running processors on x86: one fixed interrupt vector (<see cref="RequestVector"/>, NT's
    /// IPI vector), sent through the local APIC, that either only wakes an idle processor or carries TLB
    /// invalidations. A shootdown (as NT's KeFlushMultipleTb) gathers the addresses a processor unmapped, up to
    /// <see cref="BatchCapacity"/>, marks every other running processor, sends each the vector and waits until all have
    /// invalidated them too; an interrupt never waits for anything, so a processor spinning on a lock (interrupts on)
    /// answers while it spins.
    /// <para>
    /// Interrupts are on only while more than one processor runs: then every processor's APIC lets through vectors
    /// above <see cref="BlockedBelow"/> only (the task priority), the legacy PIC is masked, and the timer and LINT0
    /// entries are masked, so nothing but these requests (and NMIs) arrives. The page fault handler turns
    /// interrupts back on when the faulting code had them, so a fault that waits for a lock still answers.
    /// </para>
    /// </summary>
    internal static unsafe class InterProcessor
    {
        /// <summary>The request vector (NT's IPI vector on x86 and amd64), above the task priority every processor keeps.</summary>
        internal const int RequestVector = 0xE1;

        /// <summary>The local APIC's spurious vector: taken without an end of interrupt.</summary>
        internal const int SpuriousVector = 0xFF;

        /// <summary>Task priority: vector classes 0x0 to 0xD wait, so only 0xE0 and up arrive.</summary>
        private const uint BlockedBelow = 0xD0;

        /// <summary>How long a shootdown waits for the others before the system stops (they answer in microseconds).</summary>
        private const ulong TimeoutMicroseconds = 2000000;

        private static LocalApic s_apic;
        private static volatile bool s_open;
        /// <summary>Addresses a processor gathers before it must send them (one request carries them all).</summary>
        internal const int BatchCapacity = 16;

#pragma warning disable CS0649 // changed through pointers, atomically
        private static SpinLock s_lock;
        private static nuint s_pending;
        private static Flags s_flush;
#pragma warning restore CS0649
        // The request being answered: its addresses (the sender's batch, copied under s_lock).
        private static Addresses s_addresses;
        private static int s_count;
        private static Batches s_batches;

        [InlineArray(BatchCapacity)]
        private struct Addresses
        {
            private ulong _element;
        }

        /// <summary>One processor's invalidations not yet sent to the others.</summary>
        private struct Batch
        {
            public Addresses Addresses;
            public int Count;
        }

        [InlineArray(Processors.Capacity)]
        private struct Batches
        {
            private Batch _element;
        }
        private static ulong s_shootdowns;

        [InlineArray(Processors.Capacity)]
        private struct Flags
        {
            private nuint _element;
        }

        private static nuint* Pending => (nuint*)Unsafe.AsPointer(ref s_pending);

        private static nuint* FlushFlags => (nuint*)Unsafe.AsPointer(ref s_flush);

        /// <summary>Shootdowns sent so far (each one request, for up to <see cref="BatchCapacity"/> addresses, to every other running processor).</summary>
        internal static ulong Shootdowns => s_shootdowns;

        /// <summary>
        /// Readies the processor it runs on (its APIC in the boot processor's mode, the masks, the task priority): each
        /// processor calls it on itself before interrupts go on.
        /// </summary>
        internal static void PrepareThisProcessor()
        {
            if (s_apic.X2Apic)
                LocalApic.SwitchToX2Apic();
            s_apic.PrepareForInterrupts(BlockedBelow);
        }

        /// <summary>The local APIC (mapped) every processor's requests go through: set before the others start.</summary>
        internal static void Attach(in LocalApic apic) => s_apic = apic;

        /// <summary>On the boot processor once the others run: masks the legacy PIC, readies this processor's APIC and turns interrupts on.</summary>
        internal static void Open()
        {
            Cpu.OutByte(0x21, 0xFF);
            Cpu.OutByte(0xA1, 0xFF);
            PrepareThisProcessor();
            s_open = true;
            Processor.EnableInterrupts();
        }

        /// <summary>Interrupt vectors from <see cref="Hardware.TrapLayout.FirstInterrupt"/> up: true when it was a request (handled) or spurious.</summary>
        internal static bool Dispatch(ulong vector)
        {
            if (vector == SpuriousVector)
                return true;
            if (vector != RequestVector)
                return false;
            uint me = Processor.Number();
            if (Atomic.Exchange(&FlushFlags[me], 0) != 0)
            {
                for (int i = 0; i < s_count; i++)
                    Processor.InvalidatePage(new VirtualAddress(s_addresses[i]));
                nuint pending;
                do
                    pending = Atomic.Read(Pending);
                while (Atomic.CompareExchange(Pending, pending - 1, pending) != pending);
            }
            s_apic.EndOfInterrupt();
            return true;
        }

        /// <summary>Wakes processor <paramref name="number"/> from its idle wait (it then looks for work).</summary>
        internal static void Wake(int number) => s_apic.SendFixed(Processors.ApicIdOf(number), RequestVector);

        /// <summary>
        /// Adds <paramref name="address"/> (invalidated here already) to this processor's batch for the others; a full
        /// batch is sent first. The batch goes out at the latest when this processor lets go of a lock
        /// (<see cref="Complete"/> from <see cref="KernelLocks.Release"/>): every kernel unmap runs under the PFN lock, so
        /// no frame it freed can be handed out again before every processor has forgotten its old translation.
        /// </summary>
        internal static void Queue(VirtualAddress address)
        {
            if (!s_open)
                return;
            ref Batch batch = ref s_batches[(int)Processor.Number()];
            if (batch.Count == BatchCapacity)
                Complete();
            batch.Addresses[batch.Count++] = address.Value;
        }

        /// <summary>Sends this processor's batch and waits until every other running processor has invalidated it.</summary>
        internal static void Complete()
        {
            if (!s_open)
                return;
            ref Batch batch = ref s_batches[(int)Processor.Number()];
            if (batch.Count == 0)
                return;
            FlushOthers(ref batch.Addresses, batch.Count);
            batch.Count = 0;
        }

        /// <summary>
        /// The first <paramref name="count"/> of <paramref name="addresses"/> no longer translate as they did on any
        /// other running processor once this returns: one request to each, acknowledged.
        /// </summary>
        private static void FlushOthers(ref Addresses addresses, int count)
        {
            uint me = Processor.Number();
            var spinLock = (SpinLock*)Unsafe.AsPointer(ref s_lock);
            if (SpinLock.Acquire(spinLock, me) != LockError.None)
                BugCheck.Raise(BugCheckCode.SpinLockAlreadyOwned, (ulong)spinLock, me, 0, 0);
            nuint* pending = Pending, flush = FlushFlags;
            for (int i = 0; i < count; i++)
                s_addresses[i] = addresses[i];
            s_count = count;
            nuint targets = 0;
            for (int n = 0; n < Processors.Capacity; n++)
            {
                if (n != me && Processors.IsRunning(n))
                    targets++;
            }
            Atomic.Exchange(pending, targets);
            for (int n = 0; n < Processors.Capacity; n++)
            {
                if (n == me || !Processors.IsRunning(n))
                    continue;
                Atomic.Exchange(&flush[n], 1);
                s_apic.SendFixed(Processors.ApicIdOf(n), RequestVector);
            }
            ulong start = Cpu.ReadTimeStampCounter(), limit = TimeoutMicroseconds * Timing.CyclesPerMicrosecond;
            while (Atomic.Read(pending) != 0)
            {
                if (Cpu.ReadTimeStampCounter() - start > limit)
                {
                    int late = 0;
                    while (late < Processors.Capacity && Atomic.Read(&flush[late]) == 0)
                        late++;
                    BugCheck.Raise(BugCheckCode.ProcessorRequestTimeout, late < Processors.Capacity ? Processors.ApicIdOf(late) : ulong.MaxValue, RequestVector, Atomic.Read(pending), s_addresses[0]);
                }
                Cpu.Pause();
            }
            s_shootdowns++;
            SpinLock.Release(spinLock, me);
        }
    }
}
