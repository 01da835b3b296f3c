using ExectOS.Hosted;
using ExectOS.Threading;

namespace ExectOS.Bench;

/// <summary>
/// The lock policy of a benchmark that runs on one processor, shaped as the kernel's (<c>KernelLocks</c>): processor 0,
/// named by a constant as the kernel's number is one read of its processor block, its IRQL in a plain static as the
/// kernel keeps each processor's, the same queued spin locks. (The hosted tests' policy keeps both in thread-locals,
/// which .NET reads through a helper call.) Misuse throws, as the hosted tests' policy does.
/// </summary>
internal unsafe struct OneProcessorLocks : ILockPolicy
{
    private static Irql s_irql;

    public static uint CurrentProcessor => 0;

    public static Irql Acquire(QueuedSpinLock* spinLock, LockQueueEntry* entry)
    {
        Irql previous = s_irql;
        if (!IrqlRules.CanRaise(previous, Irql.Dispatch))
            throw new System.InvalidOperationException($"IRQL raised from {previous} to the lower {Irql.Dispatch}");
        s_irql = Irql.Dispatch;
        LockError error = QueuedSpinLock.Acquire(spinLock, entry, 0);
        if (error != LockError.None)
            throw new LockMisuseException(error, (ulong)spinLock, 0);
        return previous;
    }

    public static void Release(QueuedSpinLock* spinLock, LockQueueEntry* entry, Irql previous)
    {
        LockError error = QueuedSpinLock.Release(spinLock, entry, 0);
        if (error != LockError.None)
            throw new LockMisuseException(error, (ulong)spinLock, 0);
        if (!IrqlRules.CanLower(s_irql, previous))
            throw new System.InvalidOperationException($"IRQL lowered from {s_irql} to the higher {previous}");
        s_irql = previous;
    }
}
