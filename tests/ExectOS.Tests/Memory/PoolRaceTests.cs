using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Threading;
using ExectOS.Diagnostics;
using ExectOS.Hosted;
using ExectOS.Memory;
using ExectOS.Threading;
using Xunit;

namespace ExectOS.Tests.Memory;

/// <summary>
/// Processors racing on neighbouring blocks: one processor parks, pops and frees blocks on its own list without the
/// pool's lock while another, under the lock, splits and coalesces the blocks next to them (and so rewrites their
/// previous size). Both processors run on real threads at once, through the kernel's entry points (the lean paths
/// inline, then the complete ones), on blocks carved side by side from the same pages.
/// </summary>
public unsafe class PoolRaceTests
{
    private const uint Processors = 2;
    private static readonly uint Tag = HostPool.Tag("Race");
    // More tags than a processor counts apart: processor 1's blocks of the last ones go through the lock.
    private static readonly uint[] OtherTags = [HostPool.Tag("Rac1"), HostPool.Tag("Rac2"), HostPool.Tag("Rac3"), HostPool.Tag("Rac4"), HostPool.Tag("Rac5"), HostPool.Tag("Rac6")];

    [Fact]
    public void ProcessorsFreeingAndParkingNextToBlocksAnotherCoalescesUnderTheLockLoseNoPreviousSize()
    {
        using var host = new HostPool(PoolType.NonPaged, initialPages: 64, expansionPages: 256);
        void* caches = NativeMemory.Alloc((nuint)Pool.ProcessorCacheBytes(Processors));
        try
        {
            host.Pool->AttachProcessorCaches(caches, Processors);
            Pool* pool = host.Pool;
            var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
            long lean = 0, complete = 0, completeFrees = 0;
            using var start = new Barrier((int)Processors);

            void Work(uint processor)
            {
                HostLocks.Processor = processor;
                HostPages pages = host.Pages;
                var random = new Random(7 + (int)processor);
                var mine = new List<(IntPtr At, ulong Bytes, uint Tag, byte Stamp)>();
                start.SignalAndWait();
                for (int step = 0; step < 5_000_000 && failures.IsEmpty; step++)
                {
                    bool take = mine.Count < 64 || (mine.Count < 400 && random.Next(2) == 0);
                    if (take)
                    {
                        // Processor 0 keeps to one size, served by its own list; processor 1 mixes sizes and tags, many
                        // of which go through the lock and split and coalesce in the same pages.
                        ulong bytes = processor == 0 ? 48 : (ulong)random.Next(1, 700);
                        uint tag = processor == 0 || random.Next(3) == 0 ? Tag : OtherTags[random.Next(OtherTags.Length)];
                        void* at = LockedPool<HostLocks>.TryAllocate(pool, bytes, tag, 0);
                        PoolProblem problem = default;
                        if (at == null)
                        {
                            at = LockedPool<HostLocks>.Allocate(pool, ref pages, bytes, tag, 0, out problem);
                            Interlocked.Increment(ref complete);
                        }
                        else
                            Interlocked.Increment(ref lean);
                        if (at == null)
                        {
                            failures.Enqueue($"processor {processor}: allocation of {bytes} bytes at step {step}: {problem.Describe()}");
                            return;
                        }
                        byte stamp = (byte)random.Next(1, 256);
                        new Span<byte>(at, (int)bytes).Fill(stamp);
                        mine.Add(((IntPtr)at, bytes, tag, stamp));
                    }
                    else
                    {
                        // Processor 0 frees the block allocated longest ago more often than not, so its blocks' neighbours
                        // change under it.
                        int index = processor == 0 && random.Next(4) != 0 ? 0 : random.Next(mine.Count);
                        var (at, bytes, tag, stamp) = mine[index];
                        mine.RemoveAt(index);
                        int wrong = new Span<byte>((void*)at, (int)bytes).IndexOfAnyExcept(stamp);
                        if (wrong >= 0)
                            failures.Enqueue($"processor {processor}: block 0x{(ulong)at:X} changed at byte {wrong}");
                        if (LockedPool<HostLocks>.TryFree(pool, (void*)at, tag))
                            continue;
                        Interlocked.Increment(ref completeFrees);
                        PoolProblem problem = LockedPool<HostLocks>.Free(pool, ref pages, (void*)at, tag);
                        if (!problem.IsOk)
                            failures.Enqueue($"processor {processor}: free of 0x{(ulong)at:X} ({bytes} bytes) at step {step}: {problem.Describe()}");
                    }
                }
                foreach (var (at, _, tag, _) in mine)
                {
                    if (LockedPool<HostLocks>.TryFree(pool, (void*)at, tag))
                        continue;
                    PoolProblem problem = LockedPool<HostLocks>.Free(pool, ref pages, (void*)at, tag);
                    if (!problem.IsOk)
                        failures.Enqueue($"processor {processor}: final free of 0x{(ulong)at:X}: {problem.Describe()}");
                }
            }

            var threads = new Thread[Processors];
            for (uint p = 0; p < Processors; p++)
            {
                uint processor = p;
                threads[p] = new Thread(() =>
                {
                    try
                    {
                        Work(processor);
                    }
                    catch (Exception e)
                    {
                        failures.Enqueue($"processor {processor}: {e.GetType().Name}: {e.Message}");
                        start.RemoveParticipant();
                    }
                });
            }
            foreach (var thread in threads)
                thread.Start();
            foreach (var thread in threads)
                thread.Join();
            Assert.True(failures.IsEmpty, string.Join("\n", failures));
            Assert.True(lean > 100_000, $"only {lean} lean allocations");
            // The complete paths (the lock, or a processor's list on the path that finds a tag's slot) ran often too.
            Assert.True(complete > 10_000, $"only {complete} allocations on the complete path");
            Assert.True(completeFrees > 10_000, $"only {completeFrees} frees on the complete path");
            Assert.True(LockedPool<HostLocks>.Flush(pool, ref host.Pages).IsOk);
            PoolProblem valid = LockedPool<HostLocks>.Validate(pool);
            Assert.True(valid.IsOk, valid.Describe());
            Assert.Equal(0UL, pool->Counters.SmallBlocks + pool->Counters.BytesInUse);
        }
        finally
        {
            NativeMemory.Free(caches);
        }
    }
}
