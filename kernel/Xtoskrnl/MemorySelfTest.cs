using System;
using System.Runtime.CompilerServices;
using ExectOS.Diagnostics;
using ExectOS.Hardware;
using ExectOS.Memory;
using ExectOS.Text;

namespace ExectOS.Kernel
{
    /// <summary>
    /// The boot self-test of the memory manager: pages and runs allocated, zeroing checked, every page
    /// written and read back through the hyperspace window, everything freed, and every count back at
    /// its baseline with the whole database validated. A failure is a bug check (0x1A, <see cref="MemoryManagementCheck.MemorySelfTest"/> + step).
    /// </summary>
    internal static unsafe class MemorySelfTest<TMode> where TMode : struct, IPagingMode
    {
        private const int Singles = 64;

        private struct RunRequest
        {
            public ulong Count, Alignment;
            public PageFrameNumber Limit, First;
        }

        [InlineArray(Singles)]
        private struct PageArray
        {
            public PageFrameNumber First;
        }

        [InlineArray(4)]
        private struct RunArray
        {
            public RunRequest First;
        }

        internal static void Run()
        {
            PfnDatabase* pfn = MemoryManager.Pfn;
            // From an empty stack cache: every page the test takes must be back at the end.
            if (Stacks<TMode>.DropCache() != StackError.None)
                Fail(18, 0, 0);
            ulong available = pfn->AvailablePages, active = pfn->ActivePages;

            PageArray pages = default;
            Span<PageFrameNumber> singles = System.Runtime.InteropServices.MemoryMarshal.CreateSpan(ref pages.First, Singles);
            for (int i = 0; i < Singles; i++)
            {
                bool zero = (i & 1) == 0;
                if (!MemoryManager<TMode>.TryAllocatePage(PageUse.Allocated, zero, out singles[i]))
                    Fail(1, (ulong)i, available);
                if (zero && !IsZero(singles[i]))
                    Fail(2, singles[i].Value, 0);
                Fill(singles[i], 1);
            }

            RunArray runStorage = default;
            Span<RunRequest> runs = System.Runtime.InteropServices.MemoryMarshal.CreateSpan(ref runStorage.First, 4);
            runs[0] = new RunRequest { Count = 16, Alignment = 16, Limit = PfnDatabase.NoLimit };
            runs[1] = new RunRequest { Count = 512, Alignment = 512, Limit = PfnDatabase.NoLimit };
            runs[2] = new RunRequest { Count = 3, Alignment = 1, Limit = PageFrameNumber.Of(new PhysicalAddress(1UL << 32), TMode.PageShift) }; // below 4 GiB
            runs[3] = new RunRequest { Count = 1, Alignment = 1, Limit = PfnDatabase.NoLimit };
            for (int r = 0; r < runs.Length; r++)
            {
                if (!MemoryManager<TMode>.TryAllocateContiguous(runs[r].Count, runs[r].Alignment, runs[r].Limit, PageUse.Allocated, r == 1, out runs[r].First))
                    Fail(3, (ulong)r, runs[r].Count);
                if (runs[r].First.Value % runs[r].Alignment != 0 || runs[r].First + runs[r].Count > runs[r].Limit)
                    Fail(4, runs[r].First.Value, (ulong)r);
                if (r == 1 && (!IsZero(runs[r].First) || !IsZero(runs[r].First + runs[r].Count - 1)))
                    Fail(5, runs[r].First.Value, 0);
                for (ulong p = 0; p < runs[r].Count; p++)
                    Fill(runs[r].First + p, 2);
            }

            // Every page still holds what was written to it: no page was handed out twice.
            for (int i = 0; i < Singles; i++)
            {
                if (!Holds(singles[i], 1))
                    Fail(6, singles[i].Value, (ulong)i);
            }
            for (int r = 0; r < runs.Length; r++)
            {
                for (ulong p = 0; p < runs[r].Count; p++)
                {
                    if (!Holds(runs[r].First + p, 2))
                        Fail(6, (runs[r].First + p).Value, (ulong)r);
                }
            }

            for (int i = 0; i < Singles; i++)
                MemoryManager.FreePage(singles[i], PageUse.Allocated);
            for (int r = 0; r < runs.Length; r++)
                MemoryManager.FreeContiguous(runs[r].First, runs[r].Count, PageUse.Allocated);

            // The idle zeroing work, then a zeroed page from its list (it was written to before).
            ulong zeroed = MemoryManager<TMode>.ZeroFreePages(Singles);
            if (zeroed != Singles)
                Fail(7, zeroed, 0);
            if (!MemoryManager<TMode>.TryAllocatePage(PageUse.Allocated, true, out PageFrameNumber zeroedPage) || !IsZero(zeroedPage))
                Fail(7, zeroedPage.Value, 1);
            MemoryManager.FreePage(zeroedPage, PageUse.Allocated);

            ulong stacks = RunStacks();
            int poolBlocks = PoolSelfTest<TMode>.Run();

            if (pfn->AvailablePages != available || pfn->ActivePages != active)
                Fail(8, pfn->AvailablePages, available);
            PfnProblem problem = pfn->Validate();
            if (!problem.IsOk)
                BugCheck.Raise(BugCheckCode.PfnListCorrupt, (ulong)problem.Error, problem.Page, problem.Detail, problem.Extra);

            TextLine line = default;
            line.Append("XTOSKRNL: self-test passed: RAM ");
            line.AppendDecimal(((pfn->DescribedPages - pfn->ReservedPages) << TMode.PageShift) >> 20);
            line.Append(" MiB, ");
            line.AppendDecimal(pfn->AvailablePages);
            line.Append(" free pages, PFN database ");
            line.AppendDecimal(MemoryManager.PfnBytes);
            line.Append(" bytes (");
            line.AppendDecimal((ulong)sizeof(PfnEntry));
            line.Append(" per entry), layout checksum ");
            line.AppendHexPrefixed(MemoryManager.LayoutChecksum, 16);
            line.Append(", ");
            line.AppendDecimal(stacks);
            line.Append(" stack pages, pools: ");
            line.AppendDecimal((ulong)poolBlocks);
            line.Append(" non-paged and ");
            line.AppendDecimal((ulong)poolBlocks);
            line.Append(" paged blocks");
            KernelConsole.WriteLine(line.AsSpan());
        }

        [InlineArray(4)]
        private struct StackArray
        {
            public KernelStack First;
        }

        private static ulong s_onStack;

        private static void OnStack(nuint marker)
        {
            ulong local = marker;
            s_onStack = (ulong)&local;
        }

        /// <summary>
        /// Stacks of several sizes: written end to end, guard page unmapped, run on, wrong-size free refused, freed
        /// into the cache and handed out again zeroed; a large stack grown, refused past its reservation and shrunk;
        /// the cache dropped. Returns the pages used.
        /// </summary>
        private static ulong RunStacks()
        {
            StackArray storage = default;
            Span<KernelStack> stacks = System.Runtime.InteropServices.MemoryMarshal.CreateSpan(ref storage.First, 4);
            StackSpace* space = MemoryManager.Stacks;
            ulong slotsBefore = space->Ptes.InUse;
            // One page, three pages and a byte, and two larger stacks (sizes in pages of the mode).
            ulong page = 1UL << TMode.PageShift;
            ulong bytes0 = page, bytes1 = 3 * page + 1, bytes2 = 16 * page, bytes3 = 50 * page;
            ulong pages = 0;
            for (int i = 0; i < 4; i++)
            {
                ulong bytes = i == 0 ? bytes0 : i == 1 ? bytes1 : i == 2 ? bytes2 : bytes3;
                if (Stacks<TMode>.Allocate(bytes, out stacks[i]) != StackError.None)
                    Fail(10, bytes, (ulong)i);
                if (stacks[i].Top.Value - stacks[i].Base.Value != (bytes + page - 1) / page * page)
                    Fail(11, stacks[i].Base.Value, stacks[i].Top.Value);
                CheckGuard(stacks[i], 12);
                for (ulong at = stacks[i].Base.Value; at < stacks[i].Top.Value; at += 512)
                {
                    if (*(ulong*)(nuint)at != 0)
                        Fail(13, at, 0);
                    *(ulong*)(nuint)at = at;
                }
                pages += stacks[i].Pages;
            }
            for (int i = 0; i < 4; i++)
            {
                for (ulong at = stacks[i].Base.Value; at < stacks[i].Top.Value; at += 512)
                {
                    if (*(ulong*)(nuint)at != at)
                        Fail(14, at, (ulong)i);
                }
            }
            Stacks<TMode>.RunOn(in stacks[2], &OnStack, 0x57);
            if (s_onStack < stacks[2].Base.Value || s_onStack >= stacks[2].Top.Value)
                Fail(15, s_onStack, stacks[2].Base.Value);
            if (Stacks<TMode>.Free(stacks[1].Top, bytes1 + page) != StackError.WrongSize || Stacks<TMode>.Free(stacks[1].Top, page) != StackError.WrongSize)
                Fail(16, stacks[1].Top.Value, 0);
            for (int i = 0; i < 4; i++)
            {
                ulong bytes = i == 0 ? bytes0 : i == 1 ? bytes1 : i == 2 ? bytes2 : bytes3;
                if (Stacks<TMode>.Free(stacks[i].Top, bytes) != StackError.None || Stacks<TMode>.Free(stacks[i].Top, bytes) != StackError.NotAStack)
                    Fail(17, stacks[i].Top.Value, bytes);
            }

            // The dead-stack cache: the same shape again is the same stack, zeroed, and takes no frame.
            ulong hits = space->CacheHits, available = MemoryManager.Pfn->AvailablePages;
            if (Stacks<TMode>.Allocate(bytes2, out KernelStack again) != StackError.None)
                Fail(19, bytes2, 0);
            if (space->CacheHits != hits + 1 || MemoryManager.Pfn->AvailablePages != available || again.Pages != stacks[2].Pages)
                Fail(19, space->CacheHits, MemoryManager.Pfn->AvailablePages);
            for (ulong at = again.Base.Value; at < again.Top.Value; at += 8)
            {
                if (*(ulong*)(nuint)at != 0)
                    Fail(20, at, *(ulong*)(nuint)at);
            }
            CheckGuard(again, 20);
            Stacks<TMode>.Free(again.Top, bytes2);

            // A large stack: two pages committed of 24; growth moves the guard, stops at the reservation, shrinks back.
            if (Stacks<TMode>.Allocate(StackRequest.Growable(2 * page, 24 * page), out KernelStack large) != StackError.None)
                Fail(21, 0, 0);
            if (large.Pages != 2 || large.ReservedPages != 24 || large.Top.Value - large.Limit.Value != 24 * page)
                Fail(21, large.Pages, large.ReservedPages);
            VirtualAddress first = large.Base;
            if (Stacks<TMode>.Grow(ref large, new VirtualAddress(first.Value - 1)) != StackError.None || large.Base.Value >= first.Value)
                Fail(22, large.Base.Value, first.Value);
            CheckGuard(large, 22);
            *(ulong*)(nuint)large.Base.Value = 1;
            if (Stacks<TMode>.Grow(ref large, new VirtualAddress(large.Limit.Value - 1)) != StackError.Overflow
                || Stacks<TMode>.Grow(ref large, large.Limit) != StackError.None || large.Pages != 24)
                Fail(23, large.Pages, large.Base.Value);
            CheckGuard(large, 23);
            if (Stacks<TMode>.Shrink(ref large, default, out ulong released) != StackError.None || released != 22 || large.Pages != 2 || MemoryManager<TMode>.IsMapped(first + ~0UL))
                Fail(24, released, large.Pages);
            CheckGuard(large, 24);
            if (Stacks<TMode>.Free(large.Top, 24 * page) != StackError.None)
                Fail(25, large.Top.Value, 0);

            if (Stacks<TMode>.DropCache() != StackError.None || space->Ptes.InUse != slotsBefore || space->NextCached(0) >= 0)
                Fail(18, space->Ptes.InUse, slotsBefore);
            return pages;
        }

        /// <summary>The page below the committed part is unmapped and the fault handlers see it as the guard page.</summary>
        private static void CheckGuard(in KernelStack stack, ulong step)
        {
            VirtualAddress guard = new VirtualAddress(stack.Base.Value - 1);
            if (MemoryManager<TMode>.IsMapped(guard) || !MemoryManager<TMode>.IsMapped(stack.Base)
                || !Stacks<TMode>.IsOverflow(guard, out StackOverflow overflow) || !overflow.InGuardPage || overflow.Stack != stack.Id)
                Fail(step, stack.Base.Value, stack.Top.Value);
        }

        private static ulong Pattern(PageFrameNumber page, ulong word, ulong salt) => (page.ToAddress(TMode.PageShift).Value | word) * 0x9E3779B97F4A7C15 + salt;

        /// <summary>64-bit words in a page of the mode.</summary>
        private static ulong Words => 1UL << (TMode.PageShift - 3);

        private static PhysicalAddress Word(PageFrameNumber page, ulong word) => page.ToAddress(TMode.PageShift) + word * 8;

        // A sample of the page's words and its last one: enough to see a page handed out twice.
        private static void Fill(PageFrameNumber page, ulong salt)
        {
            var memory = MemoryManager<TMode>.Physical();
            for (ulong word = 0; word < Words; word += 73)
                memory.Write64(Word(page, word), Pattern(page, word, salt));
            memory.Write64(Word(page, Words - 1), Pattern(page, Words - 1, salt));
            memory.Release();
        }

        private static bool Holds(PageFrameNumber page, ulong salt)
        {
            var memory = MemoryManager<TMode>.Physical();
            bool holds = memory.Read64(Word(page, Words - 1)) == Pattern(page, Words - 1, salt);
            for (ulong word = 0; word < Words && holds; word += 73)
                holds = memory.Read64(Word(page, word)) == Pattern(page, word, salt);
            memory.Release();
            return holds;
        }

        private static bool IsZero(PageFrameNumber page)
        {
            var memory = MemoryManager<TMode>.Physical();
            ulong bits = 0;
            for (ulong word = 0; word < Words; word++)
                bits |= memory.Read64(Word(page, word));
            memory.Release();
            return bits == 0;
        }

        private static void Fail(ulong step, ulong detail, ulong extra)
        {
            TextLine line = default;
            line.Append("XTOSKRNL: self-test failed at step ");
            line.AppendDecimal(step);
            KernelConsole.WriteLine(line.AsSpan());
            BugCheck.Raise(MemoryManagementCheck.MemorySelfTest + step, detail, extra, 0);
        }
    }
}
