using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading;
using ExectOS.Threading;
using SpinLock = ExectOS.Threading.SpinLock;
using Xunit;

namespace ExectOS.Tests.Xtos;

/// <summary>The kernel's spin locks under real threads (hosted atomics), each thread standing for a processor.</summary>
public unsafe class SpinLockTests
{
    private const int Threads = 4, Rounds = 20_000;

    /// <summary>Threads that each do <paramref name="work"/>(number) and start together.</summary>
    private static void RunTogether(Action<uint> work)
    {
        using var start = new Barrier(Threads);
        var failures = new ConcurrentQueue<Exception>();
        Thread[] threads = Enumerable.Range(0, Threads).Select(n => new Thread(() =>
        {
            try
            {
                start.SignalAndWait();
                work((uint)n);
            }
            catch (Exception e)
            {
                failures.Enqueue(e);
            }
        })).ToArray();
        foreach (Thread t in threads)
            t.Start();
        foreach (Thread t in threads)
            t.Join();
        Assert.Empty(failures);
    }

    [Fact]
    public void ASpinLockKeepsACounterExactUnderContention()
    {
        var spinLock = (SpinLock*)NativeMemory.AllocZeroed((nuint)sizeof(SpinLock));
        var counter = (long*)NativeMemory.AllocZeroed(8);
        try
        {
            // Read, give the processor away, write: without the lock the increments of the threads overwrite each other.
            RunTogether(n =>
            {
                for (int i = 0; i < Rounds; i++)
                {
                    Assert.Equal(LockError.None, SpinLock.Acquire(spinLock, n));
                    Assert.Equal(n, (uint)spinLock->Owner);
                    long value = *counter;
                    Thread.Yield();
                    *counter = value + 1;
                    Assert.Equal(LockError.None, SpinLock.Release(spinLock, n));
                }
            });
            Assert.Equal((long)Threads * Rounds, *counter);
            Assert.False(spinLock->IsHeld);
        }
        finally
        {
            NativeMemory.Free(spinLock);
            NativeMemory.Free(counter);
        }
    }

    [Fact]
    public void AQueuedSpinLockKeepsACounterExactUnderContention()
    {
        var spinLock = (QueuedSpinLock*)NativeMemory.AllocZeroed((nuint)sizeof(QueuedSpinLock));
        var counter = (long*)NativeMemory.AllocZeroed(8);
        var inside = (int*)NativeMemory.AllocZeroed(4);
        try
        {
            RunTogether(n =>
            {
                LockQueueEntry entry = default;
                for (int i = 0; i < Rounds; i++)
                {
                    Assert.Equal(LockError.None, QueuedSpinLock.Acquire(spinLock, &entry, n));
                    // Never two holders at once.
                    Assert.Equal(1, Interlocked.Increment(ref *inside));
                    long value = *counter;
                    Thread.Yield();
                    *counter = value + 1;
                    Interlocked.Decrement(ref *inside);
                    Assert.Equal(LockError.None, QueuedSpinLock.Release(spinLock, &entry, n));
                }
            });
            Assert.Equal((long)Threads * Rounds, *counter);
            Assert.False(spinLock->IsHeld);
        }
        finally
        {
            NativeMemory.Free(spinLock);
            NativeMemory.Free(counter);
            NativeMemory.Free(inside);
        }
    }

    [Fact]
    public void WithoutTheLockTheSameCounterLosesIncrements()
    {
        // The control for the two tests above: the work they protect does race when unprotected. A race shows only
        // when the threads interleave, so up to five tries; one losing increments is the proof.
        var counter = (long*)NativeMemory.AllocZeroed(8);
        try
        {
            for (int attempt = 0; attempt < 5 && (attempt == 0 || *counter == (long)Threads * Rounds); attempt++)
            {
                *counter = 0;
                RunTogether(n =>
                {
                    for (int i = 0; i < Rounds; i++)
                    {
                        long value = *counter;
                        Thread.Yield();
                        *counter = value + 1;
                    }
                });
            }
            Assert.True(*counter < (long)Threads * Rounds, $"{*counter} increments survived of {Threads * Rounds}");
        }
        finally
        {
            NativeMemory.Free(counter);
        }
    }

    [Fact]
    public void MisuseIsRefusedAndChangesNothing()
    {
        SpinLock spinLock = default;
        Assert.Equal(LockError.NotOwned, SpinLock.Release(&spinLock, 0));
        Assert.Equal(LockError.None, SpinLock.Acquire(&spinLock, 3));
        Assert.Equal(LockError.AlreadyOwned, SpinLock.Acquire(&spinLock, 3));
        Assert.Equal(LockError.NotOwned, SpinLock.Release(&spinLock, 2));
        Assert.False(SpinLock.TryAcquire(&spinLock, 2));
        Assert.Equal(3L, spinLock.Owner);
        Assert.Equal(LockError.None, SpinLock.Release(&spinLock, 3));
        Assert.Equal(-1L, spinLock.Owner);
        Assert.True(SpinLock.TryAcquire(&spinLock, 2));

        QueuedSpinLock queued = default;
        LockQueueEntry entry = default, other = default;
        Assert.Equal(LockError.NotOwned, QueuedSpinLock.Release(&queued, &entry, 0));
        Assert.Equal(LockError.None, QueuedSpinLock.Acquire(&queued, &entry, 1));
        Assert.Equal(LockError.AlreadyOwned, QueuedSpinLock.Acquire(&queued, &other, 1));
        Assert.Equal(LockError.NotOwned, QueuedSpinLock.Release(&queued, &entry, 0));
        Assert.True(queued.IsHeld);
        Assert.Equal(LockError.None, QueuedSpinLock.Release(&queued, &entry, 1));
        Assert.False(queued.IsHeld);
    }

    [Fact]
    public void IrqlGoesUpOnRaiseAndDownOnLowerOnly()
    {
        Assert.True(IrqlRules.CanRaise(Irql.Passive, Irql.Dispatch));
        Assert.True(IrqlRules.CanRaise(Irql.Dispatch, Irql.Dispatch));
        Assert.False(IrqlRules.CanRaise(Irql.Dispatch, Irql.Apc));
        Assert.True(IrqlRules.CanLower(Irql.High, Irql.Passive));
        Assert.False(IrqlRules.CanLower(Irql.Passive, Irql.Dispatch));
    }
}
