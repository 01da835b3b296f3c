using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;
using ExectOS.Diagnostics;
using ExectOS.Hosted;
using ExectOS.Memory;
using ExectOS.Threading;
using Xunit;

namespace ExectOS.Tests.Memory;

/// <summary>
/// The pool's per-processor lists (<see cref="PoolProcessorCache"/>) through <see cref="LockedPool{TLocks}"/>: the common
/// allocate and free of a hot size take no shared lock, counts stay exact across processors, every check still
/// catches what it catches without them, and validation and flushing see the blocks parked on them.
/// </summary>
public unsafe class PoolProcessorCacheTests
{
    private const uint Processors = 4;
    private static readonly uint Tag = HostPool.Tag("PPct");

    /// <summary>A pool with the processors' lists attached; each test's threads name themselves 0 to 3.</summary>
    private sealed class CachedPool : IDisposable
    {
        public readonly HostPool Host = new(PoolType.NonPaged, initialPages: 256, expansionPages: 1024);
        private readonly void* _caches;

        public CachedPool()
        {
            _caches = NativeMemory.Alloc((nuint)ExectOS.Memory.Pool.ProcessorCacheBytes(Processors));
            Host.Pool->AttachProcessorCaches(_caches, Processors);
        }

        public Pool* Pool => Host.Pool;

        public void* Allocate(ulong bytes, out PoolProblem problem) => LockedPool<HostLocks>.Allocate(Host.Pool, ref Host.Pages, bytes, Tag, 0, out problem);

        public PoolProblem Free(void* block) => LockedPool<HostLocks>.Free(Host.Pool, ref Host.Pages, block, Tag);

        public void Dispose()
        {
            Host.Dispose();
            NativeMemory.Free(_caches);
        }
    }

    private static void On(uint processor, Action work)
    {
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            HostLocks.Processor = processor;
            try
            {
                work();
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        thread.Start();
        thread.Join();
        if (failure is not null)
            throw new InvalidOperationException($"on processor {processor}: {failure.Message}", failure);
    }

    [Fact]
    public void AWarmProcessorAllocatesAndFreesWhileAnotherHoldsThePoolsLock()
    {
        using var pool = new CachedPool();
        var blocks = new List<IntPtr>();
        // Processor 1 warms its list: the first allocations take the lock, the frees park the blocks on its own list.
        On(1, () =>
        {
            for (int i = 0; i < 16; i++)
                blocks.Add((IntPtr)pool.Allocate(64, out _));
            foreach (IntPtr block in blocks)
                Assert.True(pool.Free((void*)block).IsOk);
        });
        ulong hits = pool.Pool->Counters.LookasideHits;

        // Processor 0 holds the pool's lock; processor 1's hot-size pairs must not wait for it.
        using var done = new ManualResetEventSlim();
        Exception? failure = null;
        var holder = new Thread(() =>
        {
            HostLocks.Processor = 0;
            LockQueueEntry entry = default;
            Irql previous = HostLocks.Acquire(&pool.Pool->Lock, &entry);
            try
            {
                // Generous: processor 1 needs microseconds; a wait this long only ends when it is stuck on the lock.
                if (!done.Wait(TimeSpan.FromSeconds(30)))
                    failure = new TimeoutException("processor 1 waited for the lock processor 0 holds");
            }
            finally
            {
                HostLocks.Release(&pool.Pool->Lock, &entry, previous);
            }
        });
        holder.Start();
        while (!pool.Pool->Lock.IsHeld)
            Thread.Yield();
        On(1, () =>
        {
            for (int i = 0; i < 1000; i++)
            {
                // 49 to 64 bytes: the size class (5 units) the warm-up filled.
                void* block = pool.Allocate(49 + (ulong)(i % 16), out PoolProblem problem);
                Assert.True(block != null && problem.IsOk);
                Assert.True(pool.Pool->Lock.IsHeld, "the lock was let go before processor 1 finished");
                Assert.True(pool.Free(block).IsOk);
            }
            done.Set();
        });
        holder.Join();
        Assert.Null(failure);
        Assert.Equal(hits + 1000, pool.Pool->Counters.LookasideHits);
        Assert.True(pool.Pool->Validate().IsOk);
    }

    [Fact]
    public void CountsAddUpAcrossProcessorsAndEveryParkedBlockIsSeenAndFlushed()
    {
        using var pool = new CachedPool();
        var live = new List<(IntPtr Block, ulong Bytes)>();
        ulong bytesInUse = 0, allocations = 0, frees = 0;
        var random = new Random(8);
        // Blocks allocated on one processor and freed on another: each part of the counts may go below zero.
        for (int round = 0; round < 40; round++)
        {
            uint processor = (uint)(round % (int)Processors);
            On(processor, () =>
            {
                for (int i = 0; i < 50; i++)
                {
                    if (live.Count > 0 && random.Next(2) == 0)
                    {
                        int index = random.Next(live.Count);
                        var (block, bytes) = live[index];
                        live.RemoveAt(index);
                        Assert.True(pool.Free((void*)block).IsOk);
                        bytesInUse -= bytes;
                        frees++;
                    }
                    else
                    {
                        ulong bytes = (ulong)random.Next(1, 500);
                        void* block = pool.Allocate(bytes, out PoolProblem problem);
                        Assert.True(block != null && problem.IsOk);
                        live.Add(((IntPtr)block, bytes));
                        bytesInUse += bytes;
                        allocations++;
                    }
                }
            });
            PoolCounters counters = pool.Pool->Counters;
            Assert.Equal((bytesInUse, allocations, frees, (ulong)live.Count), (counters.BytesInUse, counters.Allocations, counters.Frees, counters.SmallBlocks));
            Assert.True(pool.Pool->TryGetTag(Tag, out PoolTagStats stats));
            Assert.Equal((bytesInUse, allocations, frees), (stats.BytesInUse, stats.Allocations, stats.Frees));
            PoolProblem valid = pool.Pool->Validate();
            Assert.True(valid.IsOk, valid.Describe());
        }
        Assert.True(pool.Pool->Counters.LookasideHits > 0);
        Assert.True(pool.Pool->Counters.LookasideBlocks > 0);
        foreach (var (block, _) in live)
            On(0, () => Assert.True(pool.Free((void*)block).IsOk));
        // Flushing takes every processor's parked blocks back: the pool is empty again.
        Assert.True(LockedPool<HostLocks>.Flush(pool.Pool, ref pool.Host.Pages).IsOk);
        PoolCounters empty = pool.Pool->Counters;
        Assert.Equal((0UL, 0UL, 0UL, 0UL), (empty.BytesInUse, empty.SmallBlocks, empty.LookasideBlocks, empty.CommittedPages));
        Assert.True(pool.Pool->Validate().IsOk);
    }

    [Fact]
    public void TheFastPathLeavesEveryCorruptionToTheLockedOneWhichCatchesIt()
    {
        using var pool = new CachedPool();
        On(2, () =>
        {
            // Warm processor 2's list for the size, so the frees below would take the fast path if they could.
            for (int i = 0; i < 4; i++)
                Assert.True(pool.Free(pool.Allocate(96, out _)).IsOk);

            // An overrun into the next block's header: 96 bytes fill the block, so no canary; the next header's previous size is hit.
            byte* overrun = (byte*)pool.Allocate(96, out _);
            byte* after = (byte*)pool.Allocate(96, out _);
            Assert.True(after == overrun + 112, "the second block follows the first");
            ulong saved = *(ulong*)(overrun + 96);
            *(ulong*)(overrun + 96) = 0x4141414141414141;
            PoolProblem problem = pool.Free(overrun);
            Assert.Equal(BugCheckCode.BadPoolHeader, problem.Code);
            *(ulong*)(overrun + 96) = saved;
            Assert.True(pool.Free(overrun).IsOk);

            // A double free: the block is parked on processor 2's list, so the second free is refused.
            problem = pool.Free(after);
            Assert.True(problem.IsOk);
            problem = pool.Free(after);
            Assert.Equal(BugCheckCode.BadPoolCaller, problem.Code);
            Assert.Equal((ulong)BadPoolCallerCheck.DoubleFree, problem.P1);

            // A wrong tag, and a byte written past a smaller block (its canary).
            byte* small = (byte*)pool.Allocate(40, out _);
            Assert.Equal(BugCheckCode.BadPoolCaller, LockedPool<HostLocks>.Free(pool.Pool, ref pool.Host.Pages, small, HostPool.Tag("Othr")).Code);
            small[40] ^= 0xFF;
            Assert.Equal(BugCheckCode.BadPoolHeader, pool.Free(small).Code);
            small[40] ^= 0xFF;
            Assert.True(pool.Free(small).IsOk);

            // A header whose seal no longer matches (a stray write into its check): not a block to the fast free either.
            byte* stray = (byte*)pool.Allocate(96, out _);
            ((PoolHeader*)stray - 1)->Check ^= 1;
            problem = pool.Free(stray);
            Assert.Equal((BugCheckCode.BadPoolCaller, (ulong)BadPoolCallerCheck.NotABlock), (problem.Code, problem.P1));
            ((PoolHeader*)stray - 1)->Check ^= 1;
            Assert.True(pool.Free(stray).IsOk);
        });
        Assert.True(pool.Pool->Validate().IsOk);
    }

    [Fact]
    public void AParkedHeaderOverwrittenOnAProcessorsListIsCaughtWhenItIsHandedOut()
    {
        using var pool = new CachedPool();
        On(3, () =>
        {
            // Warm processor 3's list; the block freed last is on top of it.
            byte* block = (byte*)pool.Allocate(200, out _);
            Assert.True(pool.Free(pool.Allocate(200, out _)).IsOk);
            Assert.True(pool.Free(block).IsOk);
            ulong hits = pool.Pool->Counters.LookasideHits;
            *(ulong*)((PoolHeader*)block - 1) ^= 0x4141414141414141; // an overrun from the block before: the first word
            void* again = pool.Allocate(200, out PoolProblem problem);
            Assert.True(again == null);
            Assert.Equal((BugCheckCode.BadPoolHeader, (ulong)BadPoolHeaderCheck.ListCorrupt, (ulong)block), (problem.Code, problem.P1, problem.P2));
            Assert.Equal(hits, pool.Pool->Counters.LookasideHits);
            *(ulong*)((PoolHeader*)block - 1) ^= 0x4141414141414141;
            Assert.True(pool.Free(pool.Allocate(200, out _)).IsOk);
        });
        Assert.True(pool.Pool->Validate().IsOk);
    }

    [Fact]
    public void APreviousSizeOverwrittenOnAParkedBlockIsCaughtWhenTheBlockBeforeIsFreed()
    {
        using var pool = new CachedPool();
        On(3, () =>
        {
            // Two blocks side by side (the first allocations of a size take the lock and carve the page in order).
            byte* before = (byte*)pool.Allocate(200, out _);
            byte* block = (byte*)pool.Allocate(200, out _);
            Assert.Equal((ulong)before + Pool.UnitsFor(200) * Pool.UnitSize, (ulong)block);
            Assert.True(pool.Free(block).IsOk); // parked on processor 3's list
            // The previous size is the neighbour's field (the lock holder rewrites it while another processor may own
            // the block), so neither the seal nor the link check covers it: it is checked against the block before.
            ((PoolHeader*)block - 1)->PreviousSize ^= 1;
            PoolCounters counts = pool.Pool->Counters;
            PoolProblem problem = pool.Free(before);
            Assert.Equal((BugCheckCode.BadPoolHeader, (ulong)BadPoolHeaderCheck.NeighboursDisagree, (ulong)((PoolHeader*)before - 1), 0UL, (ulong)((PoolHeader*)block - 1)),
                (problem.Code, problem.P1, problem.P2, problem.P3, problem.P4));
            Assert.Equal(counts, pool.Pool->Counters);
            PoolProblem valid = pool.Pool->Validate();
            Assert.Equal((BugCheckCode.BadPoolHeader, (ulong)BadPoolHeaderCheck.HeaderCorrupt, (ulong)((PoolHeader*)block - 1)), (valid.Code, valid.P1, valid.P2));
            ((PoolHeader*)block - 1)->PreviousSize ^= 1;
            Assert.True(pool.Free(before).IsOk);
        });
        Assert.True(pool.Pool->Validate().IsOk);
    }

    [Fact]
    public void APreviousSizeOutsideItsPageIsCaughtBeforeItIsFollowed()
    {
        using var pool = new CachedPool();
        PoolHeader* header = null;
        On(2, () =>
        {
            Assert.True(pool.Allocate(200, out _) != null);
            byte* block = (byte*)pool.Allocate(200, out _);
            header = (PoolHeader*)block - 1;
            Assert.True(pool.Free(block).IsOk); // parked on processor 2's list
            // A stray write: the previous block would start 2 KiB before this page (memory not the pool's to read). The
            // drain back to the free lists checks the previous size against the block's place before it follows it.
            header->PreviousSize = (ushort)((ulong)header % 4096 / 16 + 0x80);
            PoolProblem problem = pool.Pool->DrainProcessorCaches(ref pool.Host.Pages);
            Assert.Equal((BugCheckCode.BadPoolHeader, (ulong)BadPoolHeaderCheck.HeaderCorrupt, (ulong)header, (ulong)header->PreviousSize),
                (problem.Code, problem.P1, problem.P2, problem.P3));
        });
    }

    [Fact]
    public void AProcessorsListsTakeBlocksUpToFourKibibytesAndAboveHalfAKibibyteOnlyTheirByteBudget()
    {
        using var pool = new CachedPool();
        On(2, () =>
        {
            // 4000 bytes: 251 units, a list of its own on each processor, at most ProcessorListBytesMax bytes deep.
            const ulong Bytes = 4000;
            ulong units = Pool.UnitsFor(Bytes);
            uint depth = Pool.ProcessorDepthMax(units);
            Assert.Equal((ulong)(Pool.ProcessorListBytesMax / (units * Pool.UnitSize)), (ulong)depth);
            var blocks = new List<IntPtr>();
            for (int i = 0; i < depth + 3; i++)
                blocks.Add((IntPtr)pool.Allocate(Bytes, out _));
            PoolCounters before = pool.Pool->Counters;
            foreach (IntPtr block in blocks)
                Assert.True(pool.Free((void*)block).IsOk);
            // The list took what its budget holds; the rest went back through the pool's lock (each alone on its page,
            // so three wholly free pages in the page cache).
            PoolCounters after = pool.Pool->Counters;
            Assert.Equal((ulong)depth, after.LookasideBlocks - before.LookasideBlocks);
            Assert.Equal(before.CachedPages + 3, after.CachedPages);
            Assert.Equal(before.SmallBlocks - (ulong)blocks.Count, after.SmallBlocks);
            // The next allocation of the size is the block freed last onto the list, taken with no lock.
            void* again = LockedPool<HostLocks>.TryAllocate(pool.Pool, Bytes, Tag, 0);
            Assert.True(again == (void*)blocks[(int)depth - 1]);
            Assert.Equal(after.LookasideHits + 1, pool.Pool->Counters.LookasideHits);
            Assert.True(LockedPool<HostLocks>.TryFree(pool.Pool, again, Tag));
            // One byte more than a processor's lists serve: never theirs.
            Assert.True(LockedPool<HostLocks>.TryAllocate(pool.Pool, Pool.ProcessorMaxBytes + 1, Tag, 0) == null);
            void* big = pool.Allocate(Pool.ProcessorMaxBytes + 1, out _);
            Assert.True(big != null);
            Assert.False(LockedPool<HostLocks>.TryFree(pool.Pool, big, Tag));
            Assert.True(pool.Free(big).IsOk);
        });
        Assert.True(pool.Pool->Validate().IsOk);
    }

    [Fact]
    public void TheLeanPathsDeclineWhatTheyCannotDoAtOnceAndChangeNothing()
    {
        using var pool = new CachedPool();
        On(1, () =>
        {
            // A cold list: nothing to pop, nothing counted, nothing changed.
            PoolCounters cold = pool.Pool->Counters;
            Assert.True(LockedPool<HostLocks>.TryAllocate(pool.Pool, 64, Tag, 0) == null);
            Assert.Equal(cold, pool.Pool->Counters);
            byte* block = (byte*)pool.Allocate(64, out _);
            Assert.True(pool.Free(block).IsOk);
            // Warm: the lean pop serves the tag it counts, with the alignment it can give, and nothing else.
            Assert.True(LockedPool<HostLocks>.TryAllocate(pool.Pool, 64, HostPool.Tag("Othr"), 0) == null);
            Assert.True(LockedPool<HostLocks>.TryAllocate(pool.Pool, 64, Tag, 32) == null);
            Assert.True(LockedPool<HostLocks>.TryAllocate(pool.Pool, 0, Tag, 0) == null);
            byte* again = (byte*)LockedPool<HostLocks>.TryAllocate(pool.Pool, 64, Tag, 0);
            Assert.True(again == block);
            // A free the lean path cannot vouch for is left whole to the complete one, which names it.
            PoolCounters warm = pool.Pool->Counters;
            Assert.False(LockedPool<HostLocks>.TryFree(pool.Pool, again, HostPool.Tag("Othr")));
            Assert.False(LockedPool<HostLocks>.TryFree(pool.Pool, again + 16, Tag));
            ((PoolHeader*)again - 1)->Check ^= 1;
            Assert.False(LockedPool<HostLocks>.TryFree(pool.Pool, again, Tag));
            Assert.Equal(warm, pool.Pool->Counters);
            PoolProblem problem = pool.Free(again);
            Assert.Equal((BugCheckCode.BadPoolCaller, (ulong)BadPoolCallerCheck.NotABlock), (problem.Code, problem.P1));
            ((PoolHeader*)again - 1)->Check ^= 1;
            Assert.True(LockedPool<HostLocks>.TryFree(pool.Pool, again, Tag));
        });
        Assert.True(pool.Pool->Validate().IsOk);
    }

    [Fact]
    public void ALinkOverwrittenOnAProcessorsListIsCaughtBeforeItIsFollowed()
    {
        using var pool = new CachedPool();
        On(3, () =>
        {
            byte* first = (byte*)pool.Allocate(300, out _);
            byte* second = (byte*)pool.Allocate(300, out _);
            Assert.True(pool.Free(first).IsOk);
            Assert.True(pool.Free(second).IsOk); // second on top of processor 3's list, its link naming first
            *(ulong*)second = (ulong)first; // a plain pointer where an encoded one belongs
            PoolCounters before = pool.Pool->Counters;
            Assert.True(LockedPool<HostLocks>.TryAllocate(pool.Pool, 300, Tag, 0) == null);
            void* p = pool.Allocate(300, out PoolProblem problem);
            Assert.True(p == null);
            Assert.Equal((BugCheckCode.BadPoolHeader, (ulong)BadPoolHeaderCheck.ListCorrupt, (ulong)second, (ulong)first), (problem.Code, problem.P1, problem.P2, problem.P3));
            Assert.Equal((before.Allocations, before.LookasideHits, before.LookasideBlocks), (pool.Pool->Counters.Allocations, pool.Pool->Counters.LookasideHits, pool.Pool->Counters.LookasideBlocks));
            Assert.Equal(BugCheckCode.BadPoolHeader, pool.Pool->Validate().Code);
        });
    }

    [Fact]
    public void ABlockOnAProcessorsListWhosePreviousNeighbourGrowsByACoalesceIsStillTheLeanPopsToHandOut()
    {
        using var pool = new CachedPool();
        On(1, () =>
        {
            Assert.True(pool.Free(pool.Allocate(48, out _)).IsOk); // processor 1 counts the tag from now on
            // x, a and c carved one after another by the pool itself; c parked on processor 1's list, x and a freed
            // through the pool (its free lists), so a merges with x and c's previous size changes under it.
            byte* x = (byte*)pool.Host.Allocate(600, Tag, 0, out _);
            byte* a = (byte*)pool.Host.Allocate(600, Tag, 0, out _);
            byte* c = (byte*)pool.Host.Allocate(48, Tag, 0, out _);
            Assert.True(a == x + 624 && c == a + 624, "the blocks are carved one after another");
            Assert.True(LockedPool<HostLocks>.TryFree(pool.Pool, c, Tag));
            Assert.True(pool.Host.Free(x, Tag).IsOk);
            Assert.True(pool.Host.Free(a, Tag).IsOk);
            Assert.Equal((ushort)(1248 / 16), ((PoolHeader*)c - 1)->PreviousSize);
            Assert.True(pool.Pool->Validate().IsOk);
            Assert.True(LockedPool<HostLocks>.TryAllocate(pool.Pool, 48, Tag, 0) == c);
            Assert.True(pool.Free(c).IsOk);
        });
        Assert.True(pool.Pool->Validate().IsOk);
    }

    [Fact]
    public void TheLeanPathsFindAPartsTagSlotsAndListsByAddressWhereItsFieldsAre()
    {
        var part = (PoolProcessorCache*)NativeMemory.AllocZeroed((nuint)sizeof(PoolProcessorCache));
        try
        {
            Assert.True(PoolProcessorCache.FirstSlot(part) == (TagDelta*)Unsafe.AsPointer(ref part->Tags[0]));
            Assert.True(PoolProcessorCache.ListsOf(part) == (Lookaside*)Unsafe.AsPointer(ref part->Lists[0]));
            Assert.True(PoolProcessorCache.ListsOf(part) + Pool.ProcessorMaxUnits == (Lookaside*)Unsafe.AsPointer(ref part->Lists[(int)Pool.ProcessorMaxUnits]));
            Assert.Equal(sizeof(PoolProcessorCache), (int)((byte*)(PoolProcessorCache.ListsOf(part) + Pool.ProcessorMaxUnits + 1) - (byte*)part));
        }
        finally
        {
            NativeMemory.Free(part);
        }
    }
}
