using System.Runtime.CompilerServices;
using ExectOS.Diagnostics;
using ExectOS.Hardware;
using ExectOS.Memory;
using ExectOS.Text;

namespace ExectOS.Kernel
{
    /// <summary>
    /// The boot self-test of the memory manager on every running processor at once (<see cref="Processors.RunEverywhere"/>):
    /// each allocates and frees page frames, kernel stacks and pool blocks (non-paged, paged, and big paged blocks
    /// committed by the page fault of their first touch) in a random order of its own, for <see cref="Operations"/>
    /// operations; each frame, stack and block is stamped when handed out and checked before it goes back, so memory
    /// given to two processors, or a stale translation after a free, shows. Then, on the boot processor alone, the PFN
    /// database and both pools are validated and every count is back at its baseline. Prints
    /// "XTOSKRNL: concurrent self-test passed: n processors, k operations each (processor 0: a pages, b stacks, c pool
    /// blocks; ...), s TLB shootdowns"; a failure is bug check 0x1A with <see cref="MemoryManagementCheck.ConcurrentSelfTest"/> + step.
    /// </summary>
    internal static unsafe class ConcurrentSelfTest<TMode> where TMode : struct, IPagingMode
    {
        /// <summary>Operations each processor does.</summary>
        internal const int Operations = 600;

        private const int Held = 8;
        private const uint Tag = 0x7453504D; // "MPSt"

        private struct Tally
        {
            public ulong Pages, Stacks, Blocks;
            public ulong FailedStep, Detail, Extra;
        }

        [InlineArray(Processors.Capacity)]
        private struct Tallies
        {
            private Tally _element;
        }

        [InlineArray(Held)]
        private struct Slots
        {
            private ulong _element;
        }

        private static Tallies s_tallies;

        internal static void Run()
        {
            // The baseline without the caches: what the processors take, they give back.
            Settle();
            PfnDatabase* pfn = MemoryManager.Pfn;
            ulong available = pfn->AvailablePages, tables = pfn->CountUse(PageUse.PageTable);
            ulong stacks = MemoryManager.Stacks->Ptes.Allocations;
            PoolCounters nonPaged = Pools.NonPaged->Counters, paged = Pools.Paged->Counters;
            ulong shootdowns = InterProcessor.Shootdowns;

            Processors.RunEverywhere(&Work);

            int running = 0;
            for (int n = 0; n < Processors.Capacity; n++)
            {
                if (!Processors.IsRunning(n))
                    continue;
                running++;
                if (s_tallies[n].FailedStep != 0)
                    Fail(s_tallies[n].FailedStep, (ulong)n, s_tallies[n].Detail, s_tallies[n].Extra);
            }
            Settle();
            PfnProblem database = pfn->Validate();
            if (!database.IsOk)
                Fail(10, 0, (ulong)database.Error, database.Page);
            PoolProblem pools = Pools.NonPaged->Validate();
            if (pools.IsOk)
                pools = Pools.Paged->Validate();
            if (!pools.IsOk)
                Fail(11, 0, (ulong)pools.Code, pools.P1);
            // Page tables made for new pool and stack addresses may stay; every other frame is back.
            ulong newTables = pfn->CountUse(PageUse.PageTable) - tables;
            if (pfn->AvailablePages + newTables != available)
                Fail(12, 0, pfn->AvailablePages, available);
            if (MemoryManager.Stacks->Ptes.Allocations != stacks)
                Fail(13, 0, MemoryManager.Stacks->Ptes.Allocations, stacks);
            if (!Same(Pools.NonPaged->Counters, in nonPaged) || !Same(Pools.Paged->Counters, in paged))
                Fail(14, 0, Pools.NonPaged->Counters.BytesInUse, Pools.Paged->Counters.BytesInUse);

            // One line however many processors there are: written a part per processor.
            TextLine line = default;
            line.Append("XTOSKRNL: concurrent self-test passed: ");
            line.AppendDecimal((ulong)running);
            line.Append(running == 1 ? " processor, " : " processors, ");
            line.AppendDecimal(Operations);
            line.Append(" operations each (");
            bool first = true;
            for (int n = 0; n < Processors.Capacity; n++)
            {
                if (!Processors.IsRunning(n))
                    continue;
                if (!first)
                    line.Append("; ");
                first = false;
                line.Append("processor ");
                line.AppendDecimal((ulong)n);
                line.Append(": ");
                line.AppendDecimal(s_tallies[n].Pages);
                line.Append(" pages, ");
                line.AppendDecimal(s_tallies[n].Stacks);
                line.Append(" stacks, ");
                line.AppendDecimal(s_tallies[n].Blocks);
                line.Append(" pool blocks");
                KernelConsole.Write(line.AsSpan());
                line.Clear();
            }
            line.Append("), ");
            line.AppendDecimal(InterProcessor.Shootdowns - shootdowns);
            line.Append(" TLB shootdowns");
            KernelConsole.WriteLine(line.AsSpan());
        }

        private static void Settle()
        {
            Pools<TMode>.Flush();
            if (Stacks<TMode>.DropCache() != StackError.None)
                Fail(15, 0, 0, 0);
        }

        private static bool Same(PoolCounters now, in PoolCounters before)
            => now.SmallBlocks == before.SmallBlocks && now.BigAllocations == before.BigAllocations && now.BytesInUse == before.BytesInUse
                && now.SpecialAllocations == before.SpecialAllocations && now.CommittedPages == before.CommittedPages;

        /// <summary>One processor's share: a random mix, up to <see cref="Held"/> of each kind held at once, then everything back.</summary>
        private static void Work(int number)
        {
            ref Tally tally = ref s_tallies[number];
            tally = default;
            ulong random = 0x9E3779B97F4A7C15 * (ulong)(number + 1);
            // What each processor holds, and the stamp each got: a frame, a stack's top and size, a block and its size.
            Slots frames = default, frameStamps = default, stackTops = default, stackBytes = default, stackStamps = default;
            Slots blocks = default, blockBytes = default, blockFills = default;
            int frameCount = 0, stackCount = 0, blockCount = 0;
            ulong pageBytes = 1UL << TMode.PageShift;
            for (int i = 0; i < Operations + 3 * Held && tally.FailedStep == 0; i++)
            {
                random ^= random << 13;
                random ^= random >> 7;
                random ^= random << 17;
                // The last operations only give back.
                bool draining = i >= Operations;
                bool take = !draining && (random >> 8) % 5 < 3;
                ulong stamp = random | ((ulong)number << 56) | 1;
                switch ((random >> 16) % 3)
                {
                    case 0:
                        if (take && frameCount < Held)
                        {
                            if (!MemoryManager<TMode>.TryAllocatePage(PageUse.Allocated, (random & 0x100) != 0, out PageFrameNumber page))
                            {
                                Record(ref tally, 1, 0, 0);
                                break;
                            }
                            WriteFrame(page, stamp);
                            frameStamps[frameCount] = stamp;
                            frames[frameCount++] = page.Value;
                            tally.Pages++;
                        }
                        else if (!take && frameCount > 0)
                        {
                            var page = new PageFrameNumber(frames[--frameCount]);
                            ulong seen = ReadFrame(page);
                            if (seen != frameStamps[frameCount])
                                Record(ref tally, 2, page.Value, seen);
                            MemoryManager.FreePage(page, PageUse.Allocated);
                        }
                        break;
                    case 1:
                        if (take && stackCount < Held)
                        {
                            ulong bytes = ((random >> 24) % 4 + 1) * pageBytes;
                            if (Stacks<TMode>.Allocate(bytes, out KernelStack stack) != StackError.None)
                            {
                                Record(ref tally, 3, bytes, 0);
                                break;
                            }
                            // Its top and bottom words: a stack handed to two processors, or a frame behind it reused, shows.
                            *(ulong*)(nuint)(stack.Top.Value - 8) = stamp;
                            *(ulong*)(nuint)stack.Base.Value = ~stamp;
                            stackTops[stackCount] = stack.Top.Value;
                            stackStamps[stackCount] = stamp;
                            stackBytes[stackCount++] = bytes;
                            tally.Stacks++;
                        }
                        else if (!take && stackCount > 0)
                        {
                            stackCount--;
                            ulong top = stackTops[stackCount], bytes = stackBytes[stackCount], check = stackStamps[stackCount];
                            ulong high = *(ulong*)(nuint)(top - 8), low = *(ulong*)(nuint)(top - bytes);
                            if (high != check || ~low != check)
                                Record(ref tally, 4, top, high);
                            // Freed stacks are measured from their lowest word that is not zero: the test leaves them as found.
                            *(ulong*)(nuint)(top - bytes) = 0;
                            *(ulong*)(nuint)(top - 8) = 0;
                            if (Stacks<TMode>.Free(new VirtualAddress(top), bytes) != StackError.None)
                                Record(ref tally, 5, top, bytes);
                        }
                        break;
                    default:
                        if (take && blockCount < Held)
                        {
                            // Mostly small blocks of both pools; now and then a big paged one, committed page by page on first touch.
                            ulong kind = (random >> 24) % 8;
                            PoolType type = kind < 4 ? PoolType.NonPaged : PoolType.Paged;
                            ulong bytes = kind == 7 ? 2 * pageBytes + (random >> 40) % pageBytes : 16 + (random >> 40) % 1000;
                            byte* block = (byte*)Pools<TMode>.Allocate(type, bytes, Tag);
                            if (block == null)
                            {
                                Record(ref tally, 6, bytes, (ulong)type);
                                break;
                            }
                            byte fill = (byte)(stamp | 1);
                            for (ulong b = 0; b < bytes; b++)
                                block[b] = fill;
                            blocks[blockCount] = (ulong)block;
                            blockFills[blockCount] = fill;
                            blockBytes[blockCount++] = bytes;
                            tally.Blocks++;
                        }
                        else if (!take && blockCount > 0)
                        {
                            blockCount--;
                            byte* block = (byte*)(nuint)blocks[blockCount];
                            ulong bytes = blockBytes[blockCount];
                            byte fill = (byte)blockFills[blockCount];
                            for (ulong b = 0; b < bytes; b++)
                            {
                                if (block[b] != fill)
                                {
                                    Record(ref tally, 7, (ulong)block, b);
                                    break;
                                }
                            }
                            Pools<TMode>.Free(block, Tag);
                        }
                        break;
                }
            }
            // Whatever a failure left held goes back, so the boot processor's report is about the failure alone.
            while (frameCount > 0)
                MemoryManager.FreePage(new PageFrameNumber(frames[--frameCount]), PageUse.Allocated);
            while (blockCount > 0)
                Pools<TMode>.Free((void*)(nuint)blocks[--blockCount], Tag);
            while (stackCount > 0)
            {
                stackCount--;
                ulong bytes = stackBytes[stackCount];
                *(ulong*)(nuint)(stackTops[stackCount] - bytes) = 0;
                *(ulong*)(nuint)(stackTops[stackCount] - 8) = 0;
                Stacks<TMode>.Free(new VirtualAddress(stackTops[stackCount]), bytes);
            }
        }

        private static void Record(ref Tally tally, ulong step, ulong detail, ulong extra)
        {
            if (tally.FailedStep != 0)
                return;
            tally.FailedStep = step;
            tally.Detail = detail;
            tally.Extra = extra;
        }

        private static void WriteFrame(PageFrameNumber page, ulong value)
        {
            var memory = MemoryManager<TMode>.Physical();
            memory.Write64(page.ToAddress(TMode.PageShift), value);
            memory.Release();
        }

        private static ulong ReadFrame(PageFrameNumber page)
        {
            var memory = MemoryManager<TMode>.Physical();
            ulong value = memory.Read64(page.ToAddress(TMode.PageShift));
            memory.Release();
            return value;
        }

        private static void Fail(ulong step, ulong processor, ulong detail, ulong extra)
        {
            TextLine line = default;
            line.Append("XTOSKRNL: concurrent self-test failed at step ");
            line.AppendDecimal(step);
            line.Append(" on processor ");
            line.AppendDecimal(processor);
            KernelConsole.WriteLine(line.AsSpan());
            BugCheck.Raise(MemoryManagementCheck.ConcurrentSelfTest + step, processor, detail, extra);
        }
    }
}
