using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using ExectOS.Hosted;
using ExectOS.Memory;
using ExectOS.Tests.Descriptors;
using ExectOS.Threading;
using Xunit;

// Points at a thread's own EmulatedMemory, as the pool tests do.
#pragma warning disable CS8500

namespace ExectOS.Tests.Memory;

/// <summary>
/// The memory manager from several processors at once: real threads, each named as a processor, through the same
/// locked entry points the kernel uses (<see cref="LockedPfn{TLocks}"/>, <see cref="LockedStacks{TMode, TCache, TLocks}"/>,
/// <see cref="LockedPool{TLocks}"/>) with the hosted lock policy, on one booted machine's PFN database and tables.
/// Every frame, stack and block is claimed in a shared model when handed out and stamped with its owner, so two
/// processors given the same memory, a lost free or a list torn by a race fail the test.
/// </summary>
public unsafe class MultiprocessorTests
{
    private const uint Processors = 4;
    private const uint Tag = 0x2050534D; // "MSP "

    public static IEnumerable<object[]> Modes() => GeneratedTypes.LayoutModeData();

    [Theory]
    [MemberData(nameof(Modes))]
    public void FourProcessorsShareFramesStacksAndPoolBlocksAndEverythingComesBack(string mode)
        => GeneratedTypes.RunForMode(typeof(MultiprocessorTests), nameof(Together), mode);

    private static void Together<TMode, TLayout>() where TMode : struct, IPagingMode where TLayout : struct, ILayout
    {
        ulong page = 1UL << TMode.PageShift;
        using var m = Machines.Boot<TMode, TLayout>("ovmf-q35-512M.txt");
        Assert.True(m.Report.IsOk);
        using var stacks = new StackBench<TMode, TLayout>(m);
        LayoutRegion initial = m.RegionNamed("NonPagedPool"), expansion = m.RegionNamed("NonPagedExpansion");
        using var data = new HostRegion(Math.Max(initial.End.Value, expansion.End.Value) - initial.Start.Value, accessible: true);
        var config = new PoolConfig
        {
            Type = PoolType.NonPaged,
            PageShift = TMode.PageShift,
            Cookie = 0x0F1E2D3C4B5A6978,
            InitialStart = initial.Start,
            InitialPages = initial.Size / page,
            ExpansionStart = expansion.Start,
            ExpansionPages = expansion.Size / page,
            Displacement = (long)((ulong)data.Base - initial.Start.Value),
        };
        var pool = (Pool*)System.Runtime.InteropServices.NativeMemory.AllocZeroed((nuint)sizeof(Pool));
        // Each processor's own lists, as the kernel attaches them: the hot sizes' common path takes no lock.
        void* caches = System.Runtime.InteropServices.NativeMemory.Alloc((nuint)Pool.ProcessorCacheBytes(Processors));
        try
        {
            Assert.True(pool->Initialize(in config));
            pool->AttachProcessorCaches(caches, Processors);
            ulong available = m.Db.AvailablePages, tables = m.Db.CountUse(PageUse.PageTable);
            var frames = new ConcurrentDictionary<ulong, int>();
            var blocks = new ConcurrentDictionary<ulong, int>();
            var failures = new ConcurrentQueue<string>();
            var operations = new long[Processors, 3];
            using var start = new Barrier((int)Processors);

            void Work(int processor)
            {
                HostLocks.Processor = (uint)processor;
                EmulatedMemory memory = m.Memory;
                var pages = new PoolPages<TMode, EmulatedMemory, NoTranslationCache, HostLocks>(m.Table, m.Database, &memory);
                var random = new Random(100 + processor);
                var myFrames = new List<(ulong Frame, ulong Count, ulong Stamp)>();
                var myBlocks = new List<(IntPtr At, ulong Bytes, byte Stamp)>();
                var myStacks = new List<(KernelStack Stack, ulong Stamp)>();
                start.SignalAndWait();
                for (int step = 0; step < 10000 && failures.IsEmpty; step++)
                {
                    int what = random.Next(3);
                    bool take = random.Next(5) < 3;
                    if (what == 0)
                        Frames(processor, ref memory, random, take, myFrames);
                    else if (what == 1)
                        Blocks(processor, ref pages, random, take, myBlocks);
                    else
                        Stacks(processor, ref memory, random, take, myStacks);
                    operations[processor, what]++;
                }
                while (myFrames.Count > 0)
                    Frames(processor, ref memory, random, false, myFrames);
                while (myBlocks.Count > 0)
                    Blocks(processor, ref pages, random, false, myBlocks);
                while (myStacks.Count > 0)
                    Stacks(processor, ref memory, random, false, myStacks);
            }

            void Frames(int processor, ref EmulatedMemory memory, Random random, bool take, List<(ulong Frame, ulong Count, ulong Stamp)> mine)
            {
                if (take)
                {
                    ulong count = random.Next(4) == 0 ? (ulong)random.Next(2, 9) : 1;
                    PfnProblem problem = count == 1
                        ? LockedPfn<HostLocks>.AllocatePage(m.Database, ref memory, PageUse.Allocated, random.Next(2) == 0, out PageFrameNumber first)
                        : LockedPfn<HostLocks>.AllocateContiguous(m.Database, ref memory, count, 1, PfnDatabase.NoLimit, PageUse.Allocated, false, out first);
                    if (!problem.IsOk)
                    {
                        failures.Enqueue($"processor {processor}: frame allocation: {problem.Error}");
                        return;
                    }
                    ulong stamp = ((ulong)processor << 56) | (ulong)random.NextInt64(1, 1L << 48);
                    for (ulong f = 0; f < count; f++)
                    {
                        if (!frames.TryAdd(first.Value + f, processor))
                            failures.Enqueue($"processor {processor}: frame 0x{first.Value + f:X} handed out while processor {frames[first.Value + f]} has it");
                        memory.Write64(new PhysicalAddress((first.Value + f) << TMode.PageShift), stamp);
                    }
                    mine.Add((first.Value, count, stamp));
                }
                else if (mine.Count > 0)
                {
                    int index = random.Next(mine.Count);
                    var (frame, count, stamp) = mine[index];
                    mine.RemoveAt(index);
                    for (ulong f = 0; f < count; f++)
                    {
                        ulong seen = memory.Read64(new PhysicalAddress((frame + f) << TMode.PageShift));
                        if (seen != stamp)
                            failures.Enqueue($"processor {processor}: frame 0x{frame + f:X} holds 0x{seen:X}, not its stamp 0x{stamp:X}");
                        frames.TryRemove(frame + f, out _);
                    }
                    PfnProblem problem = count == 1
                        ? LockedPfn<HostLocks>.FreePage(m.Database, new PageFrameNumber(frame), PageUse.Allocated)
                        : LockedPfn<HostLocks>.FreeContiguous(m.Database, new PageFrameNumber(frame), count, PageUse.Allocated);
                    if (!problem.IsOk)
                        failures.Enqueue($"processor {processor}: free of frame 0x{frame:X}: {problem.Error}");
                }
            }

            void Blocks(int processor, ref PoolPages<TMode, EmulatedMemory, NoTranslationCache, HostLocks> pages, Random random, bool take, List<(IntPtr At, ulong Bytes, byte Stamp)> mine)
            {
                if (take)
                {
                    ulong bytes = random.Next(12) == 0 ? (ulong)random.Next((int)page, (int)(4 * page)) : (ulong)random.Next(1, 600);
                    void* at = LockedPool<HostLocks>.Allocate(pool, ref pages, bytes, Tag, 0, out PoolProblem problem);
                    if (at == null || !problem.IsOk)
                    {
                        failures.Enqueue($"processor {processor}: pool allocation of {bytes} bytes: {problem.Describe()}");
                        return;
                    }
                    if (!blocks.TryAdd((ulong)at, processor))
                        failures.Enqueue($"processor {processor}: block 0x{(ulong)at:X} handed out twice");
                    byte stamp = (byte)random.Next(1, 256);
                    new Span<byte>(at, (int)bytes).Fill(stamp);
                    mine.Add(((IntPtr)at, bytes, stamp));
                }
                else if (mine.Count > 0)
                {
                    int index = random.Next(mine.Count);
                    var (at, bytes, stamp) = mine[index];
                    mine.RemoveAt(index);
                    int wrong = new Span<byte>((void*)at, (int)bytes).IndexOfAnyExcept(stamp);
                    if (wrong >= 0)
                        failures.Enqueue($"processor {processor}: block 0x{(ulong)at:X} changed at byte {wrong}");
                    blocks.TryRemove((ulong)at, out _);
                    PoolProblem problem = LockedPool<HostLocks>.Free(pool, ref pages, (void*)at, Tag);
                    if (!problem.IsOk)
                        failures.Enqueue($"processor {processor}: pool free: {problem.Describe()}");
                }
            }

            void Stacks(int processor, ref EmulatedMemory memory, Random random, bool take, List<(KernelStack Stack, ulong Stamp)> mine)
            {
                if (take && mine.Count < 6)
                {
                    ulong bytes = (ulong)random.Next(1, 6) * page;
                    StackError error = stacks.Allocate(StackRequest.Fixed(bytes), out KernelStack stack, out PfnProblem problem);
                    if (error != StackError.None)
                    {
                        failures.Enqueue($"processor {processor}: stack of {bytes} bytes: {error} {problem.Error}");
                        return;
                    }
                    ulong stamp = ((ulong)processor << 56) | (ulong)random.NextInt64(1, 1L << 48);
                    WriteTop(ref memory, stack, stamp);
                    mine.Add((stack, stamp));
                }
                else if (mine.Count > 0)
                {
                    int index = random.Next(mine.Count);
                    var (stack, stamp) = mine[index];
                    mine.RemoveAt(index);
                    ulong seen = ReadTop(ref memory, stack);
                    if (seen != stamp)
                        failures.Enqueue($"processor {processor}: stack at 0x{stack.Top.Value:X} holds 0x{seen:X} at its top, not 0x{stamp:X}");
                    StackError error = stacks.Free(stack);
                    if (error != StackError.None)
                        failures.Enqueue($"processor {processor}: stack free: {error}");
                }
            }

            // A stack's top word, through a walk under the PFN lock (the tables change under other processors).
            void WriteTop(ref EmulatedMemory memory, in KernelStack stack, ulong value)
            {
                if (LockedPfn<HostLocks>.Translate(m.Database, ref memory, m.Table, new VirtualAddress(stack.Top.Value - 8), out Translation translation))
                    memory.Write64(translation.Address, value);
                else
                    failures.Enqueue($"stack top 0x{stack.Top.Value:X} not mapped");
            }

            ulong ReadTop(ref EmulatedMemory memory, in KernelStack stack)
                => LockedPfn<HostLocks>.Translate(m.Database, ref memory, m.Table, new VirtualAddress(stack.Top.Value - 8), out Translation translation) ? memory.Read64(translation.Address) : 0;

            var threads = Enumerable.Range(0, (int)Processors).Select(n => new Thread(() =>
            {
                try
                {
                    Work(n);
                }
                catch (Exception e)
                {
                    failures.Enqueue($"processor {n}: {e.GetType().Name}: {e.Message}");
                    start.RemoveParticipant();
                }
            })).ToArray();
            foreach (var thread in threads)
                thread.Start();
            foreach (var thread in threads)
                thread.Join();
            Assert.True(failures.IsEmpty, string.Join("\n", failures.Take(10)));
            for (int n = 0; n < (int)Processors; n++)
                Assert.True(operations[n, 0] > 100 && operations[n, 1] > 100 && operations[n, 2] > 100, $"processor {n} did too little");
            // Lookaside lists (the shared ones or the processors' own) served some of the blocks; PoolProcessorCacheTests
            // shows the processors' own lists serving without the lock.
            Assert.True(pool->Counters.LookasideHits > 0);

            // Back at the baseline: every frame, block and stack came back; the structures check out.
            Assert.Empty(frames);
            Assert.Empty(blocks);
            EmulatedMemory own = m.Memory;
            var flushPages = new PoolPages<TMode, EmulatedMemory, NoTranslationCache, HostLocks>(m.Table, m.Database, &own);
            Assert.True(LockedPool<HostLocks>.Flush(pool, ref flushPages).IsOk);
            Assert.Equal(StackError.None, stacks.DropCache());
            Assert.True(LockedPool<HostLocks>.Validate(pool).IsOk);
            Assert.Equal(0UL, pool->Counters.SmallBlocks + pool->Counters.BigAllocations + pool->Counters.BytesInUse);
            Assert.Equal(0UL, pool->Counters.CommittedPages);
            Assert.Equal(0UL, stacks.Space->Ptes.Allocations);
            PfnProblem valid = m.Db.Validate();
            Assert.True(valid.IsOk, $"{valid.Error} at 0x{valid.Page:X}");
            Assert.Equal(0UL, m.Db.CountUse(PageUse.Allocated) + m.Db.CountUse(PageUse.Pool) + m.Db.CountUse(PageUse.KernelStack));
            // Tables made for pool and stack pages may stay (empty tables are freed by the unmap that empties them).
            Assert.Equal(available, m.Db.AvailablePages + (m.Db.CountUse(PageUse.PageTable) - tables));
            Assert.False(m.Db.Lock.IsHeld);
            Assert.False(pool->Lock.IsHeld);
            Assert.False(stacks.Space->Lock.IsHeld);
        }
        finally
        {
            System.Runtime.InteropServices.NativeMemory.Free(pool);
            System.Runtime.InteropServices.NativeMemory.Free(caches);
        }
    }

    [Fact]
    public void AProcessorTakingAMemoryLockItHoldsIsRefusedAndNothingChanges()
    {
        // On threads of its own: the names given to processors stay with their threads.
        Exception? failure = null;
        var test = new Thread(() =>
        {
            try
            {
                RecursiveAcquire();
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        test.Start();
        test.Join();
        Assert.Null(failure);
    }

    private static void RecursiveAcquire()
    {
        var pfn = (PfnDatabase*)System.Runtime.InteropServices.NativeMemory.AllocZeroed((nuint)sizeof(PfnDatabase));
        try
        {
            HostLocks.Processor = 7;
            LockQueueEntry entry = default;
            Irql previous = HostLocks.Acquire(&pfn->Lock, &entry);
            Assert.Equal(Irql.Dispatch, HostLocks.CurrentIrql);
            var misuse = Assert.Throws<LockMisuseException>(() => LockedPfn<HostLocks>.FreePage(pfn, new PageFrameNumber(1), PageUse.Allocated));
            Assert.Equal(LockError.AlreadyOwned, misuse.Error);
            // Still held by processor 7 alone; another processor's release is refused.
            Assert.True(pfn->Lock.IsHeld);
            Assert.Equal(7, pfn->Lock.Owner);
            LockError refused = LockError.None;
            var other = new Thread(() =>
            {
                HostLocks.Processor = 8;
                LockQueueEntry theirs = default;
                try
                {
                    HostLocks.Release(&pfn->Lock, &theirs, Irql.Passive);
                }
                catch (LockMisuseException e)
                {
                    refused = e.Error;
                }
            });
            other.Start();
            other.Join();
            Assert.Equal(LockError.NotOwned, refused);
            HostLocks.Release(&pfn->Lock, &entry, previous);
            Assert.False(pfn->Lock.IsHeld);
            Assert.Equal(Irql.Passive, HostLocks.CurrentIrql);
        }
        finally
        {
            System.Runtime.InteropServices.NativeMemory.Free(pfn);
        }
    }
}
