using System.Collections.Generic;
using System.Linq;
using ExectOS.Memory;
using ExectOS.Tests.Descriptors;
using Xunit;

namespace ExectOS.Tests.Memory;

/// <summary>
/// Large stacks, callouts, the dead-stack cache and stack accounting, for every paging mode, on a machine booted
/// from a real map: the kernel's code on emulated tables (stack pointers are given, not taken).
/// </summary>
public unsafe class LargeStackTests
{
    private const string Machine = "ovmf-q35-512M.txt";

    public static IEnumerable<object[]> Modes() => GeneratedTypes.PagingModeData();

    [Theory]
    [MemberData(nameof(Modes))]
    public void LargeStacksGrowDownToTheirReservationAndNoFurther(string mode) => GeneratedTypes.RunForMode(typeof(LargeStackTests), nameof(Growth), mode);

    private static void Growth<TMode, TLayout>() where TMode : struct, IPagingMode where TLayout : struct, ILayout
    {
        using var m = Machines.Boot<TMode, TLayout>(Machine);
        using var s = new StackBench<TMode, TLayout>(m);
        ulong page = StackBench<TMode, TLayout>.Page, step = (StackSpace.GrowStepBytes + page - 1) / page;
        ulong available = m.Db.AvailablePages;
        KernelStack stack = s.Allocate(StackRequest.Growable(2 * page - 100, 40 * page));
        Assert.Equal((2UL, 40UL, StackKind.Large), (stack.Pages, stack.ReservedPages, stack.Kind));
        s.AssertStack(stack);
        ulong afterAllocate = m.Db.AvailablePages;

        // One byte below the committed part: a whole step is committed, and the guard page moves down with it.
        VirtualAddress first = stack.Base;
        Assert.Equal(StackError.None, s.Grow(ref stack, first + ~0UL));
        Assert.Equal(2 + step, stack.Pages);
        Assert.Equal(afterAllocate - step, m.Db.AvailablePages);
        s.AssertStack(stack);
        Assert.True(m.Table.Translate(ref m.Memory, first + ~0UL, out _), "the old guard page is not committed");

        // An address already committed changes nothing; one below the reservation is refused and changes nothing.
        Assert.Equal(StackError.None, s.Grow(ref stack, stack.Top + ~0UL));
        Assert.Equal(2 + step, stack.Pages);
        Assert.Equal(StackError.Overflow, s.Grow(ref stack, stack.Limit + ~0UL));
        Assert.Equal(2 + step, stack.Pages);
        Assert.Equal(afterAllocate - step, m.Db.AvailablePages);
        s.AssertStack(stack);

        // Down to the reservation's last page: all of it committed, the lowest slot stays the guard.
        Assert.Equal(StackError.None, s.Grow(ref stack, stack.Limit));
        Assert.Equal(40UL, stack.Pages);
        s.AssertStack(stack);
        Assert.Equal(StackError.Overflow, s.Grow(ref stack, stack.Limit + ~0UL));
        Assert.True(m.Db.Validate().IsOk);

        // Shrinking keeps the page in use and everything above it, never less than the first commit.
        Assert.Equal(StackError.None, s.Shrink(ref stack, new VirtualAddress(stack.Top.Value - 5 * page + 8), out ulong released));
        Assert.Equal((35UL, 5UL), (released, stack.Pages));
        s.AssertStack(stack);
        Assert.Equal(StackError.None, s.Shrink(ref stack, stack.Top + ~0UL, out released));
        Assert.Equal((3UL, 2UL), (released, stack.Pages));
        Assert.Equal(StackError.None, s.Shrink(ref stack, default, out released));
        Assert.Equal(0UL, released);
        s.AssertStack(stack);
        Assert.Equal(afterAllocate, m.Db.AvailablePages);

        // A grown stack goes to the cache shrunk to its first commit, the reserve below it unmapped.
        Assert.Equal(StackError.None, s.Grow(ref stack, stack.Limit));
        s.Scribble(stack, 40 * page);
        Assert.Equal(StackError.WrongSize, s.Free(stack.Top, 2 * page));
        Assert.Equal(StackError.None, s.Free(stack));
        Assert.Equal(StackState.Cached, s.Space->Record(stack.Id)->State);
        Assert.Equal(afterAllocate, m.Db.AvailablePages);
        for (ulong address = stack.Limit.Value - page; address < stack.Top.Value - 2 * page; address += page)
            Assert.False(m.Table.Translate(ref m.Memory, new VirtualAddress(address), out _));
        Assert.Equal(StackError.NotAStack, s.Grow(ref stack, stack.Limit));

        KernelStack again = s.Allocate(StackRequest.Growable(2 * page, 40 * page));
        Assert.Equal((stack.Top, 2UL), (again.Top, again.Pages));
        Assert.Equal(0UL, s.Measure(again));
        s.AssertStack(again);
        Assert.Equal(StackError.None, s.Free(again));
        Assert.Equal(StackError.None, s.DropCache());
        Assert.Equal(available, m.Db.AvailablePages);
        Assert.Equal(0UL, m.Db.CountUse(PageUse.KernelStack));
        Assert.True(m.Db.Validate().IsOk);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void RunningOutOfPagesChangesNothingAndGivesTheCacheBack(string mode) => GeneratedTypes.RunForMode(typeof(LargeStackTests), nameof(OutOfPages), mode);

    private static void OutOfPages<TMode, TLayout>() where TMode : struct, IPagingMode where TLayout : struct, ILayout
    {
        using var m = Machines.Boot<TMode, TLayout>(Machine);
        using var s = new StackBench<TMode, TLayout>(m);
        ulong page = StackBench<TMode, TLayout>.Page;
        KernelStack large = s.Allocate(StackRequest.Growable(page, 64 * page));
        KernelStack kept = s.Allocate(StackRequest.Fixed(8 * page));
        // Tables for the next stacks exist already: a stack right above in the same table needs none.
        Assert.Equal(StackError.None, s.Free(kept));
        Assert.Equal(1, s.CachedCount());

        var drained = new List<PageFrameNumber>();
        while (m.Db.AllocatePage(ref m.Memory, PageUse.Allocated, false, out PageFrameNumber frame).IsOk)
            drained.Add(frame);
        Assert.NotEmpty(drained);

        // Growth needs pages: refused, nothing changed.
        Assert.Equal(StackError.NoPages, s.Grow(ref large, large.Base + ~0UL));
        Assert.Equal(1UL, large.Pages);
        s.AssertStack(large);
        Assert.True(m.Db.Validate().IsOk);

        // A stack of another shape: no page left, so the cached stack is given back and its pages reused.
        StackError error = s.Allocate(StackRequest.Fixed(4 * page), out KernelStack fresh, out PfnProblem problem);
        Assert.True(error == StackError.None, $"{error} {problem.Error}");
        Assert.Equal(0, s.CachedCount());
        s.AssertStack(fresh);

        // Nothing cached any more: a refusal that leaves no trace.
        ulong slots = s.Space->Ptes.InUse;
        Assert.Equal(StackError.NoPages, s.Allocate(StackRequest.Fixed(16 * page), out _, out _));
        Assert.Equal(slots, s.Space->Ptes.InUse);
        Assert.True(m.Db.Validate().IsOk);

        foreach (PageFrameNumber frame in drained)
            Assert.True(m.Db.FreePage(frame, PageUse.Allocated).IsOk);
        Assert.Equal(StackError.None, s.Free(fresh));
        Assert.Equal(StackError.None, s.Free(large));
        Assert.Equal(StackError.None, s.DropCache());
        Assert.Equal(0UL, m.Db.CountUse(PageUse.KernelStack));
        Assert.Equal(0UL, s.Space->Ptes.InUse);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void TheCacheIsBoundedPerShapeAndHandsStacksOutFirst(string mode) => GeneratedTypes.RunForMode(typeof(LargeStackTests), nameof(Cache), mode);

    private static void Cache<TMode, TLayout>() where TMode : struct, IPagingMode where TLayout : struct, ILayout
    {
        using var m = Machines.Boot<TMode, TLayout>(Machine);
        using var s = new StackBench<TMode, TLayout>(m);
        ulong page = StackBench<TMode, TLayout>.Page;
        var same = Enumerable.Range(0, StackSpace.CacheLimitPerSize + 2).Select(_ => s.Allocate(StackRequest.Fixed(3 * page))).ToList();
        foreach (KernelStack stack in same)
        {
            s.Scribble(stack, 3 * page);
            Assert.Equal(StackError.None, s.Free(stack));
        }
        Assert.Equal(StackSpace.CacheLimitPerSize, s.CachedCount());
        var cachedTops = same.Where(t => s.Space->Record(t.Id)->State == StackState.Cached).Select(t => t.Top).ToHashSet();
        Assert.Equal(StackSpace.CacheLimitPerSize, cachedTops.Count);

        // The same shape again: a cached stack, zeroed, and not one frame or slot taken.
        ulong available = m.Db.AvailablePages, slots = s.Space->Ptes.InUse, hits = s.Space->CacheHits;
        KernelStack reused = s.Allocate(StackRequest.Fixed(3 * page));
        Assert.Contains(reused.Top, cachedTops);
        Assert.Equal((available, slots, hits + 1), (m.Db.AvailablePages, s.Space->Ptes.InUse, s.Space->CacheHits));
        Assert.Equal(0UL, s.Measure(reused));
        s.AssertStack(reused);
        // Another shape (same pages, another reservation or kind) does not take it.
        KernelStack other = s.Allocate(StackRequest.Growable(3 * page, 6 * page));
        Assert.Equal(hits + 1, s.Space->CacheHits);
        KernelStack segment = s.Allocate(StackRequest.Fixed(3 * page, StackKind.Segment));
        Assert.Equal(hits + 1, s.Space->CacheHits);

        // At most CacheLimit in all; double-fault and NMI stacks are never kept.
        var shapes = Enumerable.Range(1, StackSpace.CacheLimit + 4).Select(i => s.Allocate(StackRequest.Fixed((ulong)(10 + i) * page))).ToList();
        foreach (KernelStack stack in shapes)
            Assert.Equal(StackError.None, s.Free(stack));
        Assert.Equal(StackSpace.CacheLimit, s.CachedCount());
        Assert.Equal(StackError.None, s.DropCache());
        KernelStack doubleFault = s.Allocate(StackRequest.Fixed(4 * page, StackKind.DoubleFault));
        Assert.Equal(StackError.None, s.Free(doubleFault));
        Assert.Equal(StackState.Unused, s.Space->Record(doubleFault.Id)->State);
        Assert.False(m.Table.Translate(ref m.Memory, doubleFault.Base, out _));

        foreach (KernelStack stack in new[] { reused, other, segment })
            Assert.Equal(StackError.None, s.Free(stack));
        Assert.Equal(StackError.None, s.DropCache());
        Assert.Equal(0UL, m.Db.CountUse(PageUse.KernelStack));
        Assert.Equal(0UL, s.Space->Ptes.InUse);
        Assert.True(m.Db.Validate().IsOk);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void CalloutsRunInPlaceGrowOrTakeALinkedSegment(string mode) => GeneratedTypes.RunForMode(typeof(LargeStackTests), nameof(Callouts), mode);

    private static void Callouts<TMode, TLayout>() where TMode : struct, IPagingMode where TLayout : struct, ILayout
    {
        using var m = Machines.Boot<TMode, TLayout>(Machine);
        using var s = new StackBench<TMode, TLayout>(m);
        StackSpace* space = s.Space;
        ulong page = StackBench<TMode, TLayout>.Page, slack = KernelStacks<TMode, NoTranslationCache>.CalloutSlack;

        // On the boot stack (16 KiB, not from this space): room is used in place, more takes a segment.
        space->BootBase = new VirtualAddress(0x200000);
        space->BootTop = new VirtualAddress(0x204000);
        Assert.Equal(StackSpace.BootStack, space->CurrentOn(0));
        Assert.Equal(StackError.None, s.BeginCallout(new VirtualAddress(0x203F00), 0x3F00 - slack, out Callout callout));
        Assert.Equal(CalloutKind.Direct, callout.Kind);
        Assert.Equal(StackError.None, s.BeginCallout(new VirtualAddress(0x203F00), 0x3F00 - slack + 1, out callout));
        Assert.Equal(CalloutKind.Segment, callout.Kind);
        Assert.Equal(callout.Segment, space->CurrentOn(0));
        KernelStack segment = space->Handle(callout.Segment);
        Assert.Equal(StackKind.Segment, segment.Kind);
        Assert.Equal(callout.Top, segment.Top);
        Assert.True(segment.Top.Value - segment.Base.Value >= 0x3F01);
        Assert.Equal(StackSpace.BootStack, space->Record(callout.Segment)->Previous);
        s.AssertStack(segment);
        Assert.Equal(1, space->SegmentDepth(0));
        Assert.Equal(StackError.Current, s.Free(segment));
        Assert.Equal(StackError.None, s.EndCallout(callout));
        Assert.Equal(StackSpace.BootStack, space->CurrentOn(0));
        Assert.Equal(StackError.Current, s.EndCallout(callout));

        // On a large stack: in place, then growth within the reservation, then a segment linked to it.
        KernelStack large = s.Allocate(StackRequest.Growable(2 * page, 8 * page));
        space->SetCurrent(0, large.Id);
        VirtualAddress sp = new VirtualAddress(large.Top.Value - 64);
        Assert.Equal(StackError.None, s.BeginCallout(sp, 2 * page - 64 - slack, out callout));
        Assert.Equal(CalloutKind.Direct, callout.Kind);
        Assert.Equal(2UL, space->Handle(large.Id).Pages);
        Assert.Equal(StackError.None, s.BeginCallout(sp, 3 * page, out callout));
        Assert.Equal(CalloutKind.Grown, callout.Kind);
        large = space->Handle(large.Id);
        Assert.True(large.Base.Value <= sp.Value - 3 * page - slack);
        s.AssertStack(large);
        Assert.Equal(StackError.None, s.EndCallout(callout));
        Assert.Equal(large.Id, space->CurrentOn(0));
        Assert.Equal(StackError.None, s.BeginCallout(sp, 8 * page, out callout));
        Assert.Equal(CalloutKind.Segment, callout.Kind);
        Assert.Equal(large.Id, space->Record(callout.Segment)->Previous);
        Assert.Equal(large.Pages, space->Handle(large.Id).Pages);

        // Segments from segments, up to the nesting limit; the next is refused and takes nothing.
        var chain = new Stack<Callout>();
        chain.Push(callout);
        while (chain.Count < StackSpace.NestingLimit)
        {
            KernelStack current = space->Handle(space->CurrentOn(0));
            Assert.Equal(StackError.None, s.BeginCallout(current.Base + 128, 2 * page, out Callout next));
            Assert.Equal(CalloutKind.Segment, next.Kind);
            Assert.Equal(current.Id, next.Previous);
            chain.Push(next);
        }
        Assert.Equal(StackSpace.NestingLimit, space->SegmentDepth(0));
        ulong slots = space->Ptes.InUse, available = m.Db.AvailablePages;
        KernelStack last = space->Handle(space->CurrentOn(0));
        Assert.Equal(StackError.NestingLimit, s.BeginCallout(last.Base + 128, 2 * page, out _));
        Assert.Equal((slots, available, last.Id), (space->Ptes.InUse, m.Db.AvailablePages, space->CurrentOn(0)));
        // Room on the last segment is still used in place.
        Assert.Equal(StackError.None, s.BeginCallout(last.Top + ~63UL, page, out Callout inPlace));
        Assert.Equal(CalloutKind.Direct, inPlace.Kind);

        // Ended out of order: refused; in order: each segment goes, the large stack is current again.
        Callout innermost = chain.Pop();
        Assert.Equal(StackError.Current, s.EndCallout(chain.Peek()));
        Assert.Equal(StackError.None, s.EndCallout(innermost));
        while (chain.Count > 0)
            Assert.Equal(StackError.None, s.EndCallout(chain.Pop()));
        Assert.Equal(large.Id, space->CurrentOn(0));
        Assert.Equal(0, space->SegmentDepth(0));

        // A stack pointer on no stack this space knows (an exception stack, say): a segment.
        Assert.Equal(StackError.None, s.BeginCallout(new VirtualAddress(0x10000), 64, out callout));
        Assert.Equal(CalloutKind.Segment, callout.Kind);
        Assert.Equal(StackError.None, s.EndCallout(callout));

        // Each processor has its own current stack: processor 1 on the large stack, making a callout there, while
        // processor 0 is back on the boot stack; the large stack cannot be freed while processor 1 runs on it.
        space->SetCurrent(0, StackSpace.BootStack);
        space->SetCurrent(1, large.Id);
        Assert.Equal(StackError.None, s.BeginCallout(sp, 8 * page, out Callout other, processor: 1));
        Assert.Equal(CalloutKind.Segment, other.Kind);
        Assert.Equal((StackSpace.BootStack, other.Segment, 0, 1), (space->CurrentOn(0), space->CurrentOn(1), space->SegmentDepth(0), space->SegmentDepth(1)));
        Assert.Equal(StackError.Current, s.EndCallout(other, processor: 0));
        Assert.Equal(StackError.None, s.EndCallout(other, processor: 1));
        Assert.Equal(StackError.Current, s.Free(large));
        space->SetCurrent(1, StackSpace.BootStack);
        Assert.Equal(StackError.None, s.Free(large));
        Assert.Equal(StackError.None, s.DropCache());
        Assert.Equal(0UL, m.Db.CountUse(PageUse.KernelStack));
        Assert.Equal(0UL, space->Ptes.InUse);
        Assert.True(m.Db.Validate().IsOk);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void AccountingCountsEveryKindAndRemembersTheDeepestUse(string mode) => GeneratedTypes.RunForMode(typeof(LargeStackTests), nameof(Accounting), mode);

    private static void Accounting<TMode, TLayout>() where TMode : struct, IPagingMode where TLayout : struct, ILayout
    {
        using var m = Machines.Boot<TMode, TLayout>(Machine);
        using var s = new StackBench<TMode, TLayout>(m);
        StackSpace* space = s.Space;
        ulong page = StackBench<TMode, TLayout>.Page;
        KernelStack a = s.Allocate(StackRequest.Fixed(4 * page));
        KernelStack b = s.Allocate(StackRequest.Fixed(2 * page));
        KernelStack large = s.Allocate(StackRequest.Growable(page, 30 * page));
        KernelStack nmi = s.Allocate(StackRequest.Fixed(page, StackKind.Nmi));
        Assert.Equal(StackError.None, s.Grow(ref large, new VirtualAddress(large.Top.Value - 7 * page)));

        s.Scribble(a, 1000);
        s.Scribble(b, 2 * page);
        s.Scribble(large, 7 * page);
        Assert.Equal(1000UL, s.Measure(a));
        Assert.Equal(2 * page, s.Measure(b));
        Assert.Equal(7 * page, s.Measure(large));
        Assert.Equal(0UL, s.Measure(nmi));

        StackUsage kernel = space->Usage(StackKind.Kernel);
        Assert.Equal((2UL, 6UL, 6UL, 0UL, 2 * page), (kernel.Live, kernel.Committed, kernel.Reserved, kernel.Cached, kernel.DeepestUse));
        StackUsage grown = space->Usage(StackKind.Large);
        Assert.Equal((1UL, large.Pages, 30UL, 0UL, 7 * page), (grown.Live, grown.Committed, grown.Reserved, grown.Cached, grown.DeepestUse));
        Assert.Equal(1UL, space->Usage(StackKind.Nmi).Live);
        Assert.Equal(0UL, space->Usage(StackKind.Segment).Live);

        // A freed stack leaves the live counts for the cached one; the deepest use seen stays.
        Assert.Equal(StackError.None, s.Free(b));
        kernel = space->Usage(StackKind.Kernel);
        Assert.Equal((1UL, 4UL, 4UL, 1UL, 2 * page), (kernel.Live, kernel.Committed, kernel.Reserved, kernel.Cached, kernel.DeepestUse));
        StackUsage all = default;
        for (int kind = 0; kind < StackSpace.KindCount; kind++)
            all.Add(space->Usage((StackKind)kind));
        Assert.Equal((3UL, 4 + large.Pages + 1, 4UL + 30 + 1, 1UL, 7 * page), (all.Live, all.Committed, all.Reserved, all.Cached, all.DeepestUse));

        // Use at one word: measured exactly, whatever the page.
        KernelStack c = s.Allocate(StackRequest.Fixed(3 * page));
        s.Scribble(c, page + 8);
        Assert.Equal(page + 8, s.Measure(c));

        foreach (KernelStack stack in new[] { a, large, nmi, c })
            Assert.Equal(StackError.None, s.Free(stack));
        Assert.Equal(StackError.None, s.DropCache());
        Assert.Equal(0UL, space->Ptes.InUse);
    }
}
