using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Threading;
using ExectOS.Hosted;
using ExectOS.Memory;

namespace ExectOS.Bench;

/// <summary>
/// The pool from several processors: 64-byte allocate-and-free pairs through <see cref="LockedPool{TLocks}"/> (the
/// kernel's multiprocessor entry point, taken as <c>Pools.Allocate</c> and <c>Pools.Free</c> take it: each processor's
/// own lists inline first, the complete path and the pool's lock otherwise) on 1, 2 and 4 threads sharing one
/// pool, the same total work however many threads there are. Compared with one thread (below 1: the work went
/// faster spread out) and with glibc's malloc/free on as many threads (its per-thread caches take no shared lock).
/// Threads stand for processors (<see cref="HostLocks"/>); on this 2-core machine 4 threads oversubscribe it.
/// </summary>
internal static unsafe class PoolThreadBenchmarks
{
    private const int Size = 64;
    private const int Batch = 256;
    private const int Rounds = 512;
    private static readonly uint Tag = HostPool.Tag("Thrd");

    public static Benchmark[] Build()
    {
        var pool = new HostPool(PoolType.NonPaged, initialPages: 16384, expansionPages: 32768, protect: false);
        // Each thread a processor with its own lists, as in the kernel (never freed: the bench's process ends).
        pool.Pool->AttachProcessorCaches(NativeMemory.Alloc((nuint)ExectOS.Memory.Pool.ProcessorCacheBytes(4)), 4);
        long pairs = (long)Batch * Rounds;
        Action Pool(int threads) => () => Run(threads, slots => PoolBatches(pool, slots, Rounds / threads));
        Action Malloc(int threads) => () => Run(threads, slots => MallocBatches(slots, Rounds / threads));
        var benchmarks = new List<Benchmark>();
        foreach (int threads in new[] { 2, 4 })
            benchmarks.Add(new Benchmark($"pool alloc+free {Size} B, {threads} threads vs 1 thread", "pairs", pairs, $"pool on {threads} threads", Pool(threads), "pool on 1 thread", Pool(1), () => { }));
        foreach (int threads in new[] { 1, 2, 4 })
        {
            string on = threads == 1 ? "1 thread" : $"{threads} threads";
            benchmarks.Add(new Benchmark($"pool alloc+free {Size} B, {on} vs malloc", "pairs", pairs, $"pool on {on}", Pool(threads), $"glibc malloc/free on {on}", Malloc(threads), () => { }));
        }
        return benchmarks.ToArray();
    }

    /// <summary>Starts <paramref name="threads"/> threads together on <paramref name="work"/> and waits for all.</summary>
    private static void Run(int threads, Action<IntPtr[]> work)
    {
        if (threads == 1)
        {
            HostLocks.Processor = 0;
            work(new IntPtr[Batch]);
            return;
        }
        using var start = new Barrier(threads);
        var workers = new Thread[threads];
        Exception? failure = null;
        for (int t = 0; t < threads; t++)
        {
            uint processor = (uint)t;
            workers[t] = new Thread(() =>
            {
                HostLocks.Processor = processor;
                var slots = new IntPtr[Batch];
                start.SignalAndWait();
                try
                {
                    work(slots);
                }
                catch (Exception e)
                {
                    failure = e;
                }
            });
            workers[t].Start();
        }
        foreach (Thread worker in workers)
            worker.Join();
        if (failure is not null)
            throw new InvalidOperationException("a benchmark thread failed", failure);
    }

    private static void PoolBatches(HostPool pool, IntPtr[] slots, int rounds)
    {
        // Each thread its own copy of the pages' state: the pool calls it under its lock only.
        HostPages pages = pool.Pages;
        for (int r = 0; r < rounds; r++)
        {
            // As Pools.Allocate and Pools.Free take the pool: the lean path inline, the complete one when it declines.
            for (int i = 0; i < Batch; i++)
            {
                void* block = LockedPool<HostLocks>.TryAllocate(pool.Pool, Size, Tag, 0);
                slots[i] = (IntPtr)(block != null ? block : LockedPool<HostLocks>.Allocate(pool.Pool, ref pages, Size, Tag, 0, out _));
            }
            for (int i = 0; i < Batch; i++)
            {
                if (LockedPool<HostLocks>.TryFree(pool.Pool, (void*)slots[i], Tag))
                    continue;
                PoolProblem problem = LockedPool<HostLocks>.Free(pool.Pool, ref pages, (void*)slots[i], Tag);
                if (!problem.IsOk)
                    throw new InvalidOperationException($"pool refused a benchmark free: 0x{(uint)problem.Code:X}/0x{problem.P1:X}");
            }
        }
    }

    private static void MallocBatches(IntPtr[] slots, int rounds)
    {
        for (int r = 0; r < rounds; r++)
        {
            for (int i = 0; i < Batch; i++)
                slots[i] = (IntPtr)PoolBenchmarks.malloc(Size);
            for (int i = 0; i < Batch; i++)
                PoolBenchmarks.free((void*)slots[i]);
        }
    }
}
