using System;
using System.Collections.Generic;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using ExectOS.Hosted;
using ExectOS.Memory;

namespace ExectOS.Bench;

/// <summary>
/// The pool's allocate-and-free throughput against glibc's malloc/free and .NET's NativeMemory (which
/// calls malloc underneath, plus its own checks), on the same patterns in the same run: batches of a
/// fixed size (16 to 4096 bytes) allocated then freed in allocation order, and a mix of random sizes
/// freed in random order. The pool is taken the way kernel callers take it: <see cref="LockedPool{TLocks}"/>
/// on processor 0 with its own lists attached, one call per operation with the lean path inline and the complete one
/// (the pool's lock for what the lists cannot serve) behind a second call, as <c>Pools.Allocate</c> and
/// <c>Pools.Free</c> are. It runs on host memory
/// (<see cref="HostPool"/> without page protection), so what is measured is the allocator, not the kernel's
/// page mapping; its checks (sealed headers, encoded links, canary, neighbour checks, tag statistics) are all on.
/// </summary>
internal static unsafe class PoolBenchmarks
{
    private const int Batch = 512;
    private const int Repeats = 64;
    // A constant, as kernel callers' tags are ('Bnch', as HostPool.Tag spells it).
    private const uint Tag = 'B' | 'n' << 8 | 'c' << 16 | (uint)'h' << 24;

    // The pool the benchmarks use, in statics as the kernel's pools are (Pools.NonPaged): an allocation's inline part
    // reads it, as the kernel's does, instead of keeping an argument alive for its slow path.
    private static HostPool s_host = null!;
    private static Pool* s_pool;

    public static Benchmark[] Build()
    {
        var pool = new HostPool(PoolType.NonPaged, initialPages: 16384, expansionPages: 32768, protect: false);
        s_host = pool;
        s_pool = pool.Pool;
        // Processor 0's own lists, as the kernel attaches them at boot (never freed: the bench's process ends).
        pool.Pool->AttachProcessorCaches(NativeMemory.Alloc((nuint)ExectOS.Memory.Pool.ProcessorCacheBytes(1)), 1);
        var slots = new IntPtr[Batch];
        var benchmarks = new List<Benchmark>();
        foreach (int size in new[] { 16, 64, 256, 1024, 4096 })
        {
            long pairs = (long)Batch * Repeats;
            Action candidate = () => PoolFixed(slots, (ulong)size);
            benchmarks.Add(new Benchmark($"pool alloc+free {size} B vs malloc", "pairs", pairs, "pool", candidate, "glibc malloc/free", () => MallocFixed(slots, (nuint)size), () => { }));
            benchmarks.Add(new Benchmark($"pool alloc+free {size} B vs NativeMemory", "pairs", pairs, "pool", candidate, "NativeMemory.Alloc/Free", () => NativeFixed(slots, (nuint)size), () => { }));
        }

        // Mixed: sizes 16 to 4096 (skewed small, as kernel allocations are), frees in a shuffled order.
        var random = new Random(6);
        int[] sizes = new int[Batch];
        int[] order = new int[Batch];
        for (int i = 0; i < Batch; i++)
        {
            sizes[i] = random.Next(4) == 0 ? random.Next(16, 4097) : random.Next(16, 513);
            order[i] = i;
        }
        random.Shuffle(order);
        long mixedPairs = (long)Batch * Repeats;
        Action mixed = () => PoolMixed(slots, sizes, order);
        benchmarks.Add(new Benchmark("pool alloc+free mixed 16-4096 B vs malloc", "pairs", mixedPairs, "pool", mixed, "glibc malloc/free", () => MallocMixed(slots, sizes, order), () => { }));
        benchmarks.Add(new Benchmark("pool alloc+free mixed 16-4096 B vs NativeMemory", "pairs", mixedPairs, "pool", mixed, "NativeMemory.Alloc/Free", () => NativeMixed(slots, sizes, order), () => { }));
        return benchmarks.ToArray();
    }

    private static void PoolFixed(IntPtr[] slots, ulong size)
    {
        for (int r = 0; r < Repeats; r++)
        {
            for (int i = 0; i < Batch; i++)
                slots[i] = (IntPtr)Allocate(size);
            for (int i = 0; i < Batch; i++)
                Free((void*)slots[i]);
        }
    }

    /// <summary>An allocation as a kernel caller makes it (<c>Pools.Allocate</c>: a call, the lean pop inline, the rest behind one more call).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void* Allocate(ulong bytes)
    {
        void* fast = LockedPool<OneProcessorLocks>.TryAllocate(s_pool, bytes, Tag, 0);
        return fast != null ? fast : AllocateSlow(bytes);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void* AllocateSlow(ulong bytes)
    {
        void* result = LockedPool<OneProcessorLocks>.Allocate(s_pool, ref s_host.Pages, bytes, Tag, 0, out PoolProblem problem);
        if (!problem.IsOk)
            Fail(problem);
        return result;
    }

    /// <summary>A free as a kernel caller makes it (<c>Pools.Free</c>), every refusal an exception.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Free(void* address)
    {
        if (!LockedPool<OneProcessorLocks>.TryFree(s_pool, address, Tag))
            FreeSlow(address);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void FreeSlow(void* address)
    {
        PoolProblem problem = LockedPool<OneProcessorLocks>.Free(s_pool, ref s_host.Pages, address, Tag);
        if (!problem.IsOk)
            Fail(problem);
    }

    private static void MallocFixed(IntPtr[] slots, nuint size)
    {
        for (int r = 0; r < Repeats; r++)
        {
            for (int i = 0; i < Batch; i++)
                slots[i] = (IntPtr)malloc(size);
            for (int i = 0; i < Batch; i++)
                free((void*)slots[i]);
        }
    }

    private static void NativeFixed(IntPtr[] slots, nuint size)
    {
        for (int r = 0; r < Repeats; r++)
        {
            for (int i = 0; i < Batch; i++)
                slots[i] = (IntPtr)NativeMemory.Alloc(size);
            for (int i = 0; i < Batch; i++)
                NativeMemory.Free((void*)slots[i]);
        }
    }

    private static void PoolMixed(IntPtr[] slots, int[] sizes, int[] order)
    {
        for (int r = 0; r < Repeats; r++)
        {
            for (int i = 0; i < Batch; i++)
                slots[i] = (IntPtr)Allocate((ulong)sizes[i]);
            for (int i = 0; i < Batch; i++)
                Free((void*)slots[order[i]]);
        }
    }

    private static void MallocMixed(IntPtr[] slots, int[] sizes, int[] order)
    {
        for (int r = 0; r < Repeats; r++)
        {
            for (int i = 0; i < Batch; i++)
                slots[i] = (IntPtr)malloc((nuint)sizes[i]);
            for (int i = 0; i < Batch; i++)
                free((void*)slots[order[i]]);
        }
    }

    private static void NativeMixed(IntPtr[] slots, int[] sizes, int[] order)
    {
        for (int r = 0; r < Repeats; r++)
        {
            for (int i = 0; i < Batch; i++)
                slots[i] = (IntPtr)NativeMemory.Alloc((nuint)sizes[i]);
            for (int i = 0; i < Batch; i++)
                NativeMemory.Free((void*)slots[order[i]]);
        }
    }

    private static void Check(PoolProblem problem)
    {
        if (!problem.IsOk)
            Fail(problem);
    }

    private static void Fail(PoolProblem problem)
        => throw new InvalidOperationException($"pool refused a benchmark free: 0x{(uint)problem.Code:X}/0x{problem.P1:X}");

    /// <summary>
    /// Bytes reserved per byte requested once a randomized workload (mixed sizes, 5% big, allocations and
    /// frees interleaved) leaves about 20000 blocks live: the pool's committed pages against glibc's heap
    /// growth (mallinfo2: arena plus mmapped bytes) over the same sequence.
    /// </summary>
    public static void PrintOverhead()
    {
        var random = new Random(11);
        const int operations = 400_000;
        var requests = new List<(bool Allocate, int Size, int Victim)>(operations);
        int live = 0;
        for (int op = 0; op < operations; op++)
        {
            bool allocate = live == 0 || random.Next(100) < (live < 20_000 ? 60 : 50);
            int size = random.Next(20) == 0 ? random.Next(4097, 32769) : random.Next(4) == 0 ? random.Next(513, 4097) : random.Next(16, 513);
            requests.Add((allocate, size, random.Next(int.MaxValue)));
            live += allocate ? 1 : -1;
        }

        using var pool = new HostPool(PoolType.NonPaged, initialPages: 40000, expansionPages: 40000, protect: false);
        ulong poolRequested = Replay(requests, bytes => (IntPtr)pool.Allocate((ulong)bytes, Tag, 0, out _), p => Check(pool.Free((void*)p, Tag)), out var poolLive);
        double poolRatio = (double)(pool.P.Counters.CommittedPages * pool.P.PageSize) / poolRequested;

        Mallinfo2 before = mallinfo2();
        ulong mallocRequested = Replay(requests, bytes => (IntPtr)malloc((nuint)bytes), p => free((void*)p), out var mallocLive);
        Mallinfo2 after = mallinfo2();
        double mallocRatio = (double)((after.Arena + after.Hblkhd) - (before.Arena + before.Hblkhd)) / mallocRequested;
        foreach (IntPtr p in mallocLive)
            free((void*)p);

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"exectos bench: bytes reserved per byte requested after {operations} random operations ({poolLive.Count} blocks, {poolRequested >> 10} KiB live): pool {poolRatio:F3}, glibc malloc {mallocRatio:F3}"));
    }

    private static ulong Replay(List<(bool Allocate, int Size, int Victim)> requests, Func<int, IntPtr> allocate, Action<IntPtr> release, out List<IntPtr> live)
    {
        live = new List<IntPtr>();
        var sizes = new List<int>();
        ulong requested = 0;
        foreach (var (isAllocation, size, victim) in requests)
        {
            if (isAllocation || live.Count == 0)
            {
                IntPtr p = allocate(size);
                if (p == IntPtr.Zero)
                    throw new InvalidOperationException($"allocation of {size} bytes failed in the overhead workload");
                live.Add(p);
                sizes.Add(size);
                requested += (ulong)size;
            }
            else
            {
                int index = victim % live.Count;
                release(live[index]);
                requested -= (ulong)sizes[index];
                live[index] = live[^1];
                live.RemoveAt(live.Count - 1);
                sizes[index] = sizes[^1];
                sizes.RemoveAt(sizes.Count - 1);
            }
        }
        return requested;
    }

    // No GC transition around the calls: the baseline is glibc itself, not the cost of calling it from .NET
    // (a transition per call would add several nanoseconds to every pair and flatter the pool).
    [DllImport("libc"), SuppressGCTransition]
    internal static extern void* malloc(nuint size);

    [DllImport("libc"), SuppressGCTransition]
    internal static extern void free(void* pointer);

    [DllImport("libc")]
    private static extern Mallinfo2 mallinfo2();

    [StructLayout(LayoutKind.Sequential)]
    private struct Mallinfo2
    {
        public nuint Arena, Ordblks, Smblks, Hblks, Hblkhd, Usmblks, Fsmblks, Uordblks, Fordblks, Keepcost;
    }
}
