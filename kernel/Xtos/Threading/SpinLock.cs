using ExectOS.Hardware;

namespace ExectOS.Threading
{
    /// <summary>What a lock or IRQL request got wrong; the kernel turns each into NT's bug check.</summary>
    public enum LockError : uint
    {
        None = 0,
        /// <summary>The processor already owns the lock (SPIN_LOCK_ALREADY_OWNED).</summary>
        AlreadyOwned = 1,
        /// <summary>A release by a processor that does not own the lock (SPIN_LOCK_NOT_OWNED).</summary>
        NotOwned = 2,
    }

    /// <summary>
    /// A spin lock that knows its owner: 0 when free, else the owning processor's number + 1. Acquire spins on a plain
    /// read and tries the compare-exchange only when the lock looks free (test and test-and-set), so waiters do not
    /// bounce the line between caches. A recursive acquire and a release by another processor are refused.
    /// </summary>
    public unsafe struct SpinLock
    {
        private nuint _owner;

        public readonly bool IsHeld => _owner != 0;

        /// <summary>The owner's processor number, or -1 when free.</summary>
        public readonly long Owner => _owner == 0 ? -1 : (long)(_owner - 1);

        public static LockError Acquire(SpinLock* spinLock, uint processor)
        {
            nuint me = (nuint)processor + 1;
            if (Atomic.Read(&spinLock->_owner) == me)
                return LockError.AlreadyOwned;
            while (Atomic.CompareExchange(&spinLock->_owner, me, 0) != 0)
            {
                while (Atomic.Read(&spinLock->_owner) != 0)
                    Atomic.SpinPause();
            }
            return LockError.None;
        }

        /// <summary>One attempt: true when the lock was free and is now ours.</summary>
        public static bool TryAcquire(SpinLock* spinLock, uint processor) => Atomic.CompareExchange(&spinLock->_owner, (nuint)processor + 1, 0) == 0;

        public static LockError Release(SpinLock* spinLock, uint processor)
        {
            if (Atomic.Read(&spinLock->_owner) != (nuint)processor + 1)
                return LockError.NotOwned;
            // A release store: whatever the holder did is seen before the lock is seen free.
            Atomic.Write(&spinLock->_owner, 0);
            return LockError.None;
        }
    }

    /// <summary>A waiter's place in a queued spin lock (NT's KLOCK_QUEUE_HANDLE): on the acquirer's stack until it releases.</summary>
    public unsafe struct LockQueueEntry
    {
        internal LockQueueEntry* Next;
        internal nuint Waiting;
    }

    /// <summary>
    /// A queued (MCS) spin lock: each waiter spins on its own entry, and the lock is handed over in arrival order,
    /// so a contended lock is fair and each hand-over touches one waiter's line. Knows its owner like <see cref="SpinLock"/>;
    /// the owner field takes release stores, so an uncontended acquire and release are one atomic operation each.
    /// </summary>
    public unsafe struct QueuedSpinLock
    {
        private LockQueueEntry* _tail;
        private nuint _owner;

        public readonly bool IsHeld => _owner != 0 || _tail != null;

        /// <summary>The owner's processor number, or -1 when free (or between a hand-over and the new owner's mark).</summary>
        public readonly long Owner => _owner == 0 ? -1 : (long)(_owner - 1);

        public static LockError Acquire(QueuedSpinLock* spinLock, LockQueueEntry* entry, uint processor)
        {
            nuint me = (nuint)processor + 1;
            if (Atomic.Read(&spinLock->_owner) == me)
                return LockError.AlreadyOwned;
            entry->Next = null;
            entry->Waiting = 1;
            var previous = (LockQueueEntry*)Atomic.Exchange((nuint*)&spinLock->_tail, (nuint)entry);
            if (previous != null)
            {
                Atomic.Exchange((nuint*)&previous->Next, (nuint)entry);
                while (Atomic.Read(&entry->Waiting) != 0)
                    Atomic.SpinPause();
            }
            // Only this processor writes its own number here, and it reads the field only to compare it with that
            // number: an ordered store is enough (the exchange above already made the lock ours).
            Atomic.Write(&spinLock->_owner, me);
            return LockError.None;
        }

        public static LockError Release(QueuedSpinLock* spinLock, LockQueueEntry* entry, uint processor)
        {
            if (Atomic.Read(&spinLock->_owner) != (nuint)processor + 1)
                return LockError.NotOwned;
            // Cleared with a release store before the lock is handed on (the compare-exchange or exchange below), so the
            // next owner's mark always lands after it: two atomic operations a round trip when nobody waits.
            Atomic.Write(&spinLock->_owner, 0);
            if (Atomic.Read((nuint*)&entry->Next) == 0)
            {
                // No successor yet: free the lock, unless one is between its exchange and its link.
                if (Atomic.CompareExchange((nuint*)&spinLock->_tail, 0, (nuint)entry) == (nuint)entry)
                    return LockError.None;
                while (Atomic.Read((nuint*)&entry->Next) == 0)
                    Atomic.SpinPause();
            }
            Atomic.Exchange(&entry->Next->Waiting, 0);
            return LockError.None;
        }
    }

    /// <summary>Interrupt request levels (NT's on x86 and amd64): what may interrupt the code running at each.</summary>
    public enum Irql : byte
    {
        Passive = 0,
        Apc = 1,
        Dispatch = 2,
        High = 15,
    }

    /// <summary>Raising and lowering one processor's IRQL, with NT's checks: never raise to lower, never lower to higher.</summary>
    public static class IrqlRules
    {
        public static bool CanRaise(Irql current, Irql level) => level >= current;

        public static bool CanLower(Irql current, Irql level) => level <= current;
    }
}
