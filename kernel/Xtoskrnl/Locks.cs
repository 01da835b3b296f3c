using ExectOS.Diagnostics;
using ExectOS.Hardware;
using ExectOS.Threading;

namespace ExectOS.Kernel
{
    /// <summary>
    /// IRQL and spin locks on the running processors, with NT's bug checks for misuse: a raise to a lower level
    /// (IRQL_NOT_GREATER_OR_EQUAL), a lowering to a higher one (IRQL_NOT_LESS_OR_EQUAL), a recursive acquire
    /// (SPIN_LOCK_ALREADY_OWNED), a release by a processor that does not own the lock (SPIN_LOCK_NOT_OWNED). A spin
    /// lock is held at DISPATCH_LEVEL. Interrupts stay off in this kernel so far: the IRQL is each processor's
    /// bookkeeping, checked, not yet a mask in the interrupt controller.
    /// </summary>
    internal static unsafe class Locks
    {
        [System.Runtime.CompilerServices.InlineArray(Processors.Capacity)]
        private struct Levels
        {
            private Irql _element;
        }

        private static Levels s_irql;

        internal static Irql CurrentIrql => s_irql[(int)Processor.Number()];

        internal static Irql Raise(Irql level)
        {
            uint processor = Processor.Number();
            Irql current = s_irql[(int)processor];
            if (!IrqlRules.CanRaise(current, level))
                BugCheck.Raise(BugCheckCode.IrqlNotGreaterOrEqual, (ulong)current, (ulong)level, processor, 0);
            s_irql[(int)processor] = level;
            return current;
        }

        internal static void Lower(Irql level)
        {
            uint processor = Processor.Number();
            Irql current = s_irql[(int)processor];
            if (!IrqlRules.CanLower(current, level))
                BugCheck.Raise(BugCheckCode.IrqlNotLessOrEqual, (ulong)level, (ulong)current, 0, processor);
            s_irql[(int)processor] = level;
        }

        /// <summary>Raises to DISPATCH_LEVEL and takes the lock; returns the IRQL to give back to <see cref="Release(SpinLock*, Irql)"/>.</summary>
        internal static Irql Acquire(SpinLock* spinLock)
        {
            Irql previous = Raise(Irql.Dispatch);
            uint processor = Processor.Number();
            if (SpinLock.Acquire(spinLock, processor) != LockError.None)
                BugCheck.Raise(BugCheckCode.SpinLockAlreadyOwned, (ulong)spinLock, processor, 0, 0);
            return previous;
        }

        internal static void Release(SpinLock* spinLock, Irql previous)
        {
            // Invalidations made under the lock reach the other processors before anyone else can take it.
            InterProcessor.Complete();
            uint processor = Processor.Number();
            if (SpinLock.Release(spinLock, processor) != LockError.None)
                BugCheck.Raise(BugCheckCode.SpinLockNotOwned, (ulong)spinLock, processor, (ulong)spinLock->Owner, 0);
            Lower(previous);
        }

        internal static Irql Acquire(QueuedSpinLock* spinLock, LockQueueEntry* entry)
        {
            Irql previous = Raise(Irql.Dispatch);
            uint processor = Processor.Number();
            if (QueuedSpinLock.Acquire(spinLock, entry, processor) != LockError.None)
                BugCheck.Raise(BugCheckCode.SpinLockAlreadyOwned, (ulong)spinLock, processor, 0, 0);
            return previous;
        }

        internal static void Release(QueuedSpinLock* spinLock, LockQueueEntry* entry, Irql previous)
        {
            // Invalidations made under the lock reach the other processors before anyone else can take it.
            InterProcessor.Complete();
            uint processor = Processor.Number();
            if (QueuedSpinLock.Release(spinLock, entry, processor) != LockError.None)
                BugCheck.Raise(BugCheckCode.SpinLockNotOwned, (ulong)spinLock, processor, 0, 0);
            Lower(previous);
        }
    }

    /// <summary>The kernel's lock policy for shared code (<see cref="ILockPolicy"/>): <see cref="Locks"/>, with its IRQL and bug checks.</summary>
    internal unsafe struct KernelLocks : ILockPolicy
    {
        public static uint CurrentProcessor => Processor.Number();

        public static Irql Acquire(QueuedSpinLock* spinLock, LockQueueEntry* entry) => Locks.Acquire(spinLock, entry);

        public static void Release(QueuedSpinLock* spinLock, LockQueueEntry* entry, Irql previous) => Locks.Release(spinLock, entry, previous);
    }
}
