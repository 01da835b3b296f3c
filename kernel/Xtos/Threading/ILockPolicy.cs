namespace ExectOS.Threading
{
    /// <summary>
    /// How shared code takes a lock in the build it runs in. The memory manager's structures are not synchronised
    /// themselves; their multiprocessor entry points (<c>LockedPfn</c>, <c>LockedStacks</c>, <c>LockedPool</c>, and
    /// <c>PoolPages</c> for the pages a pool commits) take the locks through this. The kernel's policy raises to
    /// DISPATCH_LEVEL and turns misuse into NT's bug checks (SPIN_LOCK_ALREADY_OWNED, SPIN_LOCK_NOT_OWNED); the hosted
    /// tests' policy names each thread as a processor and throws on misuse, so the same code runs under real threads.
    /// </summary>
    public unsafe interface ILockPolicy
    {
        /// <summary>The running processor's number (0 for the boot processor): what per-processor state is indexed by.</summary>
        static abstract uint CurrentProcessor { get; }

        /// <summary>Takes <paramref name="spinLock"/> with <paramref name="entry"/> (the caller's, live until the release); returns the IRQL to give back.</summary>
        static abstract Irql Acquire(QueuedSpinLock* spinLock, LockQueueEntry* entry);

        static abstract void Release(QueuedSpinLock* spinLock, LockQueueEntry* entry, Irql previous);
    }
}
