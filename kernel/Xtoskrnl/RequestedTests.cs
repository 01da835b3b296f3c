using System;
using ExectOS.Boot;
using ExectOS.Diagnostics;
using ExectOS.Hardware;
using ExectOS.Memory;
using ExectOS.Text;

namespace ExectOS.Kernel
{
    /// <summary>Parameters that make the kernel fail on purpose, so tests can prove the failure paths end to end.</summary>
    internal static unsafe class RequestedTests<TMode, TLayout>
        where TMode : struct, IPagingMode
        where TLayout : struct, ILayout
    {
        private static ulong s_sink;
#pragma warning disable CS0649 // used through pointers
        private static Threading.SpinLock s_testLock;
        private static Threading.QueuedSpinLock s_testQueuedLock;
#pragma warning restore CS0649

        /// <summary>The tests that need the other processors running: after they started.</summary>
        internal static void RunWithProcessors(LoaderBlock* block)
        {
            var parameters = new ReadOnlySpan<byte>(block->Parameters, KernelParameters.Capacity);
            if (KernelParameters.Contains(parameters, "TEST=TLB-SHOOTDOWN"))
                TlbShootdown();
        }

        private static ulong s_touchAddress;

        /// <summary>
        /// A non-paged block of two pages, read on processor 1 (which then holds its translation), freed here (its pages
        /// unmapped), and read on processor 1 again: that read must fault (PAGE_FAULT_IN_NONPAGED_AREA naming the address),
        /// since the free's shootdown took the translation out of processor 1's TLB. A read that succeeds used a stale one.
        /// </summary>
        private static void TlbShootdown()
        {
            if (!Processors.IsRunning(1))
                BugCheck.Raise(MemoryManagementCheck.TestNeedsProcessors, 2, (ulong)Processors.Count, 0);
            ulong page = 1UL << TMode.PageShift;
            uint tag = Tag('T', 'l', 'b', 'S');
            byte* block = (byte*)Pools<TMode>.Allocate(PoolType.NonPaged, 2 * page, tag);
            if (block == null)
                BugCheck.Raise(MemoryManagementCheck.TestPageUnavailable, 0, 0, 0);
            for (ulong i = 0; i < 2 * page; i += 8)
                *(ulong*)(block + i) = 0x5453554F4C4C4154;
            s_touchAddress = (ulong)block + page + 8;
            Processors.RunOn(1, &Touch);
            if (s_sink != 0x5453554F4C4C4154)
                BugCheck.Raise(MemoryManagementCheck.TestStaleTranslation, s_touchAddress, s_sink, 0);
            Pools<TMode>.Free(block, tag);
            TextLine line = default;
            line.Append("XTOSKRNL: reading a freed pool page on processor 1, which read it before the free (TEST=TLB-SHOOTDOWN) at ");
            line.AppendHexPrefixed(s_touchAddress, 16);
            KernelConsole.WriteLine(line.AsSpan());
            s_sink = 0;
            Processors.RunOn(1, &Touch);
            // Still here: processor 1 read the page through a translation the free should have taken away.
            KernelConsole.WriteLine("XTOSKRNL: processor 1 read a freed page through a stale translation");
            BugCheck.Raise(MemoryManagementCheck.TestStaleTranslation, s_touchAddress, s_sink, 1);
        }

        private static void Touch(int number) => s_sink = *(ulong*)(nuint)s_touchAddress;

        internal static void Run(LoaderBlock* block)
        {
            var parameters = new ReadOnlySpan<byte>(block->Parameters, KernelParameters.Capacity);
            if (KernelParameters.Contains(parameters, "TEST=BUGCHECK"))
                BugCheck.Raise(BugCheckCode.ManuallyInitiatedCrash, (ulong)ManualCrashReason.TestParameter, 0, 0, 0);
            if (KernelParameters.Contains(parameters, "TEST=DOUBLE-FREE"))
            {
                if (!MemoryManager<TMode>.TryAllocatePage(PageUse.Allocated, false, out PageFrameNumber page))
                    BugCheck.Raise(MemoryManagementCheck.TestPageUnavailable, 0, 0, 0);
                MemoryManager.FreePage(page, PageUse.Allocated);
                MemoryManager.FreePage(page, PageUse.Allocated);
            }
            if (KernelParameters.Contains(parameters, "TEST=POOL-DOUBLE-FREE"))
            {
                uint tag = Tag('D', 'b', 'l', 'F');
                void* poolBlock = Pools<TMode>.Allocate(PoolType.NonPaged, 100, tag);
                KernelConsole.WriteLine("XTOSKRNL: freeing a pool block twice (TEST=POOL-DOUBLE-FREE)");
                Pools<TMode>.Free(poolBlock, tag);
                Pools<TMode>.Free(poolBlock, tag);
            }
            if (KernelParameters.Contains(parameters, "TEST=POOL-OVERRUN"))
            {
                uint tag = Tag('O', 'v', 'r', 'n');
                byte* poolBlock = (byte*)Pools<TMode>.Allocate(PoolType.Paged, 96, tag);
                Pools<TMode>.Allocate(PoolType.Paged, 96, tag);
                KernelConsole.WriteLine("XTOSKRNL: writing 8 bytes past a 96-byte pool block, then freeing it (TEST=POOL-OVERRUN)");
                *(ulong*)(poolBlock + 96) = 0x4141414141414141;
                Pools<TMode>.Free(poolBlock, tag);
            }
            if (KernelParameters.Contains(parameters, "TEST=SPECIAL-POOL-OVERRUN"))
            {
                // Needs SPECIAL-POOL=Spcl (or *): the allocation ends where its page ends, the guard page follows.
                byte* poolBlock = (byte*)Pools<TMode>.Allocate(PoolType.NonPaged, 100, Tag('S', 'p', 'c', 'l'));
                KernelConsole.WriteLine("XTOSKRNL: writing past the end of a special-pool allocation (TEST=SPECIAL-POOL-OVERRUN)");
                for (ulong i = 0; i < Pools.NonPaged->PageSize; i++)
                    poolBlock[i] = (byte)i;
            }
            if (KernelParameters.Contains(parameters, "TEST=SPECIAL-POOL-USE-AFTER-FREE"))
            {
                uint tag = Tag('S', 'p', 'c', 'l');
                byte* poolBlock = (byte*)Pools<TMode>.Allocate(PoolType.Paged, 200, tag);
                Pools<TMode>.Free(poolBlock, tag);
                KernelConsole.WriteLine("XTOSKRNL: reading a special-pool allocation after its free (TEST=SPECIAL-POOL-USE-AFTER-FREE)");
                s_sink = poolBlock[10];
            }
            if (KernelParameters.Contains(parameters, "TEST=PAGE-FAULT"))
            {
                // The system cache region: part of every layout, never mapped by this kernel yet.
                VirtualAddress unmapped = MemoryManager.Region(KernelLayout.Require<TLayout>("SystemCache")).Start;
                if (MemoryManager<TMode>.IsMapped(unmapped))
                    BugCheck.Raise(MemoryManagementCheck.TestAddressMapped, unmapped.Value, 0, 0);
                s_sink = *(ulong*)(nuint)unmapped.Value;
            }
            if (KernelParameters.Contains(parameters, "TEST=STACK-OVERFLOW"))
            {
                // Unbounded recursion on a fresh 16 KiB stack: the push into its guard page faults, the fault
                // cannot be delivered on that stack, and the double fault runs on its own stack.
                if (Stacks<TMode>.Allocate(16 * 1024, out KernelStack stack) != StackError.None)
                    BugCheck.Raise(MemoryManagementCheck.TestStackUnavailable, 0, 0, 0);
                KernelConsole.WriteLine("XTOSKRNL: overflowing a 16 KiB kernel stack (TEST=STACK-OVERFLOW)");
                Stacks<TMode>.RunOn(in stack, &Recurse, 0);
            }
            if (KernelParameters.Contains(parameters, "TEST=SPINLOCK-RECURSIVE"))
            {
                KernelConsole.WriteLine("XTOSKRNL: acquiring a spin lock twice (TEST=SPINLOCK-RECURSIVE)");
                Locks.Acquire((Threading.SpinLock*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref s_testLock));
                Locks.Acquire((Threading.SpinLock*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref s_testLock));
            }
            if (KernelParameters.Contains(parameters, "TEST=SPINLOCK-NOT-OWNER"))
            {
                KernelConsole.WriteLine("XTOSKRNL: releasing a queued spin lock nobody holds (TEST=SPINLOCK-NOT-OWNER)");
                Threading.LockQueueEntry entry = default;
                Locks.Release((Threading.QueuedSpinLock*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref s_testQueuedLock), &entry, Threading.Irql.Passive);
            }
            if (KernelParameters.Contains(parameters, "TEST=IRQL-LOWER"))
            {
                KernelConsole.WriteLine("XTOSKRNL: lowering the IRQL to DISPATCH_LEVEL from PASSIVE_LEVEL (TEST=IRQL-LOWER)");
                Locks.Lower(Threading.Irql.Dispatch);
            }
            if (KernelParameters.Contains(parameters, "TEST=PAGED-POOL-AT-DISPATCH"))
            {
                KernelConsole.WriteLine("XTOSKRNL: allocating paged pool under a spin lock (TEST=PAGED-POOL-AT-DISPATCH)");
                Locks.Acquire((Threading.SpinLock*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref s_testLock));
                Pools<TMode>.Allocate(PoolType.Paged, 64, Tag('I', 'r', 'q', 'l'));
            }
            if (KernelParameters.Contains(parameters, "TEST=STACK-GROW"))
                StackGrow();
            if (KernelParameters.Contains(parameters, "TEST=STACK-CALLOUT"))
                StackCallout();
            if (KernelParameters.Contains(parameters, "TEST=STACK-CALLOUT-OVERFLOW"))
            {
                // Callouts nested three segments deep, then unbounded recursion on the last segment.
                if (Stacks<TMode>.Allocate(StackRequest.Growable(16 * 1024, 32 * 1024), out KernelStack stack) != StackError.None)
                    BugCheck.Raise(MemoryManagementCheck.TestStackUnavailable, 1, 0, 0);
                KernelConsole.WriteLine("XTOSKRNL: overflowing the third nested callout segment (TEST=STACK-CALLOUT-OVERFLOW)");
                Stacks<TMode>.RunOn(in stack, &NestCallouts, 0);
            }
        }

        private const ulong GrowCommit = 16 * 1024, GrowReserve = 256 * 1024, GrowDepth = 192 * 1024, GrowStep = 1024;
        private const ulong CalloutBytes = 256 * 1024, CalloutReserve = 64 * 1024, CalloutDepth = 200 * 1024;
        private const ulong NestBytes = 64 * 1024, NestBurn = 48 * 1024, NestSegments = 3;

        private static ulong s_deepest;

        /// <summary>
        /// TEST=STACK-GROW: a recursion 192 KiB deep on a large stack that commits 16 KiB of its 256 KiB; each
        /// level asks for 1 KiB more through a callout, which grows the stack when the committed part runs out.
        /// </summary>
        private static void StackGrow()
        {
            if (Stacks<TMode>.Allocate(StackRequest.Growable(GrowCommit, GrowReserve), out KernelStack stack) != StackError.None)
                BugCheck.Raise(MemoryManagementCheck.TestStackUnavailable, 2, 0, 0);
            ulong first = stack.Pages;
            KernelConsole.WriteLine("XTOSKRNL: recursing 192 KiB deep on a large stack that commits 16 KiB of 256 KiB (TEST=STACK-GROW)");
            s_deepest = 0;
            Stacks<TMode>.RunOn(in stack, &GrowRecurse, (nuint)stack.Top.Value);
            stack = MemoryManager.Stacks->Handle(stack.Id);
            if (s_deepest < GrowDepth || stack.Pages <= first)
                BugCheck.Raise(MemoryManagementCheck.TestStackGrowthFailed, 0, s_deepest, stack.Pages);
            TextLine line = default;
            line.Append("XTOSKRNL: the stack grew from ");
            line.AppendDecimal(first);
            line.Append(" to ");
            line.AppendDecimal(stack.Pages);
            line.Append(" committed pages of ");
            line.AppendDecimal(stack.ReservedPages);
            line.Append(" reserved, ");
            line.AppendDecimal(s_deepest);
            line.Append(" bytes deep");
            KernelConsole.WriteLine(line.AsSpan());
            Stacks<TMode>.PrintUsage();
            if (Stacks<TMode>.Shrink(ref stack, default, out ulong released) != StackError.None || stack.Pages != first)
                BugCheck.Raise(MemoryManagementCheck.TestStackGrowthFailed, 1, released, stack.Pages);
            line.Clear();
            line.Append("XTOSKRNL: shrunk back to ");
            line.AppendDecimal(stack.Pages);
            line.Append(" committed pages, ");
            line.AppendDecimal(released);
            line.Append(" released");
            KernelConsole.WriteLine(line.AsSpan());
            if (Stacks<TMode>.Free(stack.Top, GrowReserve) != StackError.None)
                BugCheck.Raise(MemoryManagementCheck.TestStackGrowthFailed, 2, stack.Top.Value, 0);
            KernelConsole.WriteLine("XTOSKRNL: TEST=STACK-GROW passed");
        }

        private static void GrowRecurse(nuint top)
        {
            Frame frame = default;
            ulong here = (ulong)&frame;
            frame[(int)(here >> 4) & 15] = here;
            ulong depth = top - here;
            if (depth > s_deepest)
                s_deepest = depth;
            if (depth < GrowDepth)
            {
                StackError error = Stacks<TMode>.ExpandStackAndCallout(GrowStep, &GrowRecurse, top);
                if (error != StackError.None)
                    BugCheck.Raise(MemoryManagementCheck.TestStackGrowthFailed, (ulong)error, depth, MemoryManager.Stacks->Handle(Stacks<TMode>.Current).Pages);
            }
            s_sink += frame[(int)(here >> 5) & 15];
        }

        /// <summary>
        /// TEST=STACK-CALLOUT: from a large stack that reserves 64 KiB, a callout asking for 256 KiB: it runs on a
        /// new segment, uses 200 KiB of it, and returns to the large stack, which is current again.
        /// </summary>
        private static void StackCallout()
        {
            if (Stacks<TMode>.Allocate(StackRequest.Growable(GrowCommit, CalloutReserve), out KernelStack stack) != StackError.None)
                BugCheck.Raise(MemoryManagementCheck.TestStackUnavailable, 3, 0, 0);
            KernelConsole.WriteLine("XTOSKRNL: a callout asking for 256 KiB from a large stack that reserves 64 KiB (TEST=STACK-CALLOUT)");
            ulong segments = MemoryManager.Stacks->SegmentsMade;
            s_deepest = 0;
            Stacks<TMode>.RunOn(in stack, &CalloutFromLarge, (nuint)stack.Id);
            if (MemoryManager.Stacks->SegmentsMade != segments + 1 || Stacks<TMode>.Current != StackSpace.BootStack || s_deepest < CalloutDepth)
                BugCheck.Raise(MemoryManagementCheck.TestCalloutFailed, 0, s_deepest, (ulong)Stacks<TMode>.Current);
            if (Stacks<TMode>.Free(stack.Top, CalloutReserve) != StackError.None)
                BugCheck.Raise(MemoryManagementCheck.TestCalloutFailed, 1, stack.Top.Value, 0);
            Stacks<TMode>.PrintUsage();
            KernelConsole.WriteLine("XTOSKRNL: TEST=STACK-CALLOUT passed");
        }

        private static void CalloutFromLarge(nuint large)
        {
            StackError error = Stacks<TMode>.ExpandStackAndCallout(CalloutBytes, &OnSegment, large);
            if (error != StackError.None || Stacks<TMode>.Current != (int)large)
                BugCheck.Raise(MemoryManagementCheck.TestCalloutFailed, (ulong)error, 2, (ulong)Stacks<TMode>.Current);
        }

        private static void OnSegment(nuint large)
        {
            StackSpace* space = MemoryManager.Stacks;
            byte here = 0;
            KernelStack segment = space->Handle(Stacks<TMode>.Current);
            if (segment.Kind != StackKind.Segment || space->Record(segment.Id)->Previous != (int)large || (ulong)&here < segment.Base.Value || (ulong)&here >= segment.Top.Value
                || segment.Top.Value - segment.Base.Value < CalloutBytes)
                BugCheck.Raise(MemoryManagementCheck.TestCalloutFailed, 0, 3, (ulong)Stacks<TMode>.Current);
            Burn((nuint)segment.Top.Value, CalloutDepth);
            TextLine line = default;
            line.Append("XTOSKRNL: the callout runs on a new ");
            line.AppendDecimal(segment.Pages);
            line.Append("-page segment, ");
            line.AppendDecimal(s_deepest);
            line.Append(" bytes deep");
            KernelConsole.WriteLine(line.AsSpan());
            Stacks<TMode>.PrintUsage();
        }

        /// <summary>Recursion until <paramref name="bytes"/> below <paramref name="top"/>, with no stack check of its own.</summary>
        private static void Burn(nuint top, ulong bytes)
        {
            Frame frame = default;
            ulong here = (ulong)&frame;
            frame[(int)(here >> 4) & 15] = here;
            if (top - here > s_deepest)
                s_deepest = top - here;
            if (top - here < bytes)
                Burn(top, bytes);
            s_sink += frame[(int)(here >> 5) & 15];
        }

        /// <summary>
        /// Three nested callouts, each asking for more than the stack it is made from has left (the first from the
        /// 32 KiB large stack, the others from 48 KiB deep in the segment before), then unbounded recursion.
        /// </summary>
        private static void NestCallouts(nuint depth)
        {
            if (depth == NestSegments)
                Recurse(0);
            byte here = 0;
            s_nestTop = (ulong)&here;
            s_nestDepth = depth;
            if (depth == 0)
            {
                StackError error = Stacks<TMode>.ExpandStackAndCallout(NestBytes, &NestCallouts, 1);
                BugCheck.Raise(MemoryManagementCheck.TestCalloutFailed, (ulong)error, 4, 0);
            }
            BurnThenNest((nuint)(ulong)&here);
        }

        private static ulong s_nestTop, s_nestDepth;

        private static void BurnThenNest(nuint top)
        {
            Frame frame = default;
            ulong here = (ulong)&frame;
            frame[(int)(here >> 4) & 15] = here;
            if (top - here < NestBurn)
            {
                BurnThenNest(top);
            }
            else
            {
                StackError error = Stacks<TMode>.ExpandStackAndCallout(NestBytes, &NestCallouts, (nuint)(s_nestDepth + 1));
                BugCheck.Raise(MemoryManagementCheck.TestCalloutFailed, (ulong)error, 4, s_nestTop);
            }
            s_sink += frame[(int)(here >> 5) & 15];
        }

        private static uint Tag(char a, char b, char c, char d) => (uint)a | (uint)b << 8 | (uint)c << 16 | (uint)d << 24;

        private static void Recurse(nuint depth)
        {
            Frame frame = default;
            frame[(int)(depth & 15)] = depth;
            Recurse(depth + 1);
            s_sink += frame[(int)((depth + 1) & 15)];
        }

        [System.Runtime.CompilerServices.InlineArray(16)]
        private struct Frame
        {
            private ulong _element;
        }
    }

    /// <summary>The TEST= names this kernel knows, one a line: a TEST= naming another ends the boot (BAD_BOOT_PARAMETER).</summary>
    internal static class RequestedTests
    {
        // A new test adds its name here; tests/ExectOS.Tests/Xtos/KernelParametersTests.cs checks this list against the TEST= tokens above.
        internal const string Names = """
            BUGCHECK
            DOUBLE-FREE
            POOL-DOUBLE-FREE
            POOL-OVERRUN
            SPECIAL-POOL-OVERRUN
            SPECIAL-POOL-USE-AFTER-FREE
            PAGE-FAULT
            STACK-OVERFLOW
            STACK-GROW
            STACK-CALLOUT
            STACK-CALLOUT-OVERFLOW
            SPINLOCK-RECURSIVE
            SPINLOCK-NOT-OWNER
            IRQL-LOWER
            PAGED-POOL-AT-DISPATCH
            TLB-SHOOTDOWN
            """;
    }
}
