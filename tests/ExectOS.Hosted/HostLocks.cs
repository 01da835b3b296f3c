using System;
using System.Runtime.CompilerServices;
using ExectOS.Threading;

namespace ExectOS.Hosted
{
    /// <summary>A lock misuse the kernel would bug-check on (SPIN_LOCK_ALREADY_OWNED, SPIN_LOCK_NOT_OWNED), seen by a hosted test.</summary>
    public sealed class LockMisuseException(LockError error, ulong spinLock, uint processor)
        : InvalidOperationException($"{error} on lock 0x{spinLock:X} by processor {processor}")
    {
        public LockError Error { get; } = error;
    }

    /// <summary>
    /// The hosted lock policy: the kernel's queued spin locks under real threads. Each thread is a processor: its
    /// managed thread id, unless a test names it (<see cref="Processor"/>). Misuse throws <see cref="LockMisuseException"/>;
    /// each thread keeps its own IRQL, raised to DISPATCH_LEVEL while it holds a lock, as the kernel's.
    /// </summary>
    public unsafe struct HostLocks : ILockPolicy
    {
        // The processor number plus one when a test named the thread (0: not named): one thread-local read, as the
        // kernel's processor number is one read of its processor block.
        [ThreadStatic] private static ulong t_named;
        [ThreadStatic] private static Irql t_irql;

        /// <summary>The running thread's processor number.</summary>
        public static uint Processor
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            get
            {
                ulong named = t_named;
                return named != 0 ? (uint)(named - 1) : (uint)Environment.CurrentManagedThreadId;
            }
            set => t_named = (ulong)value + 1;
        }

        public static Irql CurrentIrql => t_irql;

        public static uint CurrentProcessor
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            get => Processor;
        }

        public static Irql Acquire(QueuedSpinLock* spinLock, LockQueueEntry* entry)
        {
            LockError error = QueuedSpinLock.Acquire(spinLock, entry, Processor);
            if (error != LockError.None)
                throw new LockMisuseException(error, (ulong)spinLock, Processor);
            Irql previous = t_irql;
            t_irql = Irql.Dispatch > previous ? Irql.Dispatch : previous;
            return previous;
        }

        public static void Release(QueuedSpinLock* spinLock, LockQueueEntry* entry, Irql previous)
        {
            LockError error = QueuedSpinLock.Release(spinLock, entry, Processor);
            if (error != LockError.None)
                throw new LockMisuseException(error, (ulong)spinLock, Processor);
            if (!IrqlRules.CanLower(t_irql, previous))
                throw new InvalidOperationException($"IRQL lowered from {t_irql} to the higher {previous}");
            t_irql = previous;
        }
    }
}
