using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using ExectOS.Memory;
using ExectOS.Tests.Descriptors;
using Xunit;

namespace ExectOS.Tests.Memory;

/// <summary>Kernel stacks in the system PTE region, for every paging mode, on a machine booted from a real map (see <see cref="Machines"/>).</summary>
public unsafe class KernelStackTests
{
    [Fact]
    public void TheSlotAllocatorMatchesAModelAndRefusesWrongReleases()
    {
        var space = (SystemPteSpace*)NativeMemory.AllocZeroed((nuint)sizeof(SystemPteSpace));
        try
        {
            Assert.Equal(StackError.RegionTooLarge, space->Initialize(new VirtualAddress(0xFFFFF88000000000), SystemPteSpace.Capacity + 1, 12));
            Assert.Equal(StackError.None, space->Initialize(new VirtualAddress(0xFFFFF88000000000), 3000, 12));
            var random = new Random(5);
            var model = new bool[3000];
            var live = new List<(ulong First, ulong Pages)>();
            for (int step = 0; step < 5000; step++)
            {
                if (random.Next(2) == 0 || live.Count == 0)
                {
                    ulong pages = (ulong)random.Next(1, 90);
                    StackError error = space->Reserve(pages, out ulong first);
                    int fit = FirstFit(model, (int)pages);
                    if (fit < 0)
                    {
                        Assert.Equal(StackError.NoAddressSpace, error);
                        continue;
                    }
                    Assert.Equal(StackError.None, error);
                    Assert.Equal((ulong)fit, first);
                    for (ulong s = first; s < first + pages; s++)
                        model[s] = true;
                    live.Add((first, pages));
                }
                else
                {
                    int index = random.Next(live.Count);
                    var (first, pages) = live[index];
                    Assert.Equal(StackError.WrongSize, space->Release(first, pages + 1));
                    if (pages > 1)
                    {
                        Assert.Equal(StackError.WrongSize, space->Release(first, pages - 1));
                        Assert.Equal(StackError.NotAStack, space->Release(first + 1, pages - 1));
                    }
                    Assert.True(space->Find(first + pages - 1, out ulong found, out ulong length));
                    Assert.Equal((first, pages), (found, length));
                    Assert.Equal(StackError.None, space->Release(first, pages));
                    Assert.Equal(StackError.NotAStack, space->Release(first, pages));
                    for (ulong s = first; s < first + pages; s++)
                        model[s] = false;
                    live.RemoveAt(index);
                }
                Assert.Equal((ulong)model.Count(u => u), space->InUse);
                Assert.Equal((ulong)live.Count, space->Allocations);
            }
        }
        finally
        {
            NativeMemory.Free(space);
        }
    }

    /// <summary>The machines the stacks are tried on: RAM below 4 GiB only, and RAM above it (free frames are handed out highest first).</summary>
    public static IEnumerable<object[]> ModesAndMachines() => GeneratedTypes.Cross(GeneratedTypes.PagingModeData(), [["ovmf-q35-512M.txt"], [Machines.AboveFourGigabytes]]);

    [Theory]
    [MemberData(nameof(ModesAndMachines))]
    public void StacksOfAnySizeHaveAGuardPageAndComeBackWhole(string mode, string machine) => GeneratedTypes.RunForMode(typeof(KernelStackTests), nameof(Stacks), mode, machine);

    private static void Stacks<TMode, TLayout>(string machine) where TMode : struct, IPagingMode where TLayout : struct, ILayout
    {
        ulong page = 1UL << TMode.PageShift;
        using var m = Machines.Boot<TMode, TLayout>(machine);
        Assert.True(m.Report.IsOk);
        using var s = new StackBench<TMode, TLayout>(m);
        StackSpace* space = s.Space;
        ulong available = m.Db.AvailablePages, tables = m.Db.CountUse(PageUse.PageTable);
        var random = new Random(11);
        var live = new List<(KernelStack Stack, ulong Bytes)>();
        ulong[] sizes = [1, page, page + 1, 3 * page + 1, 16 * page, 300000];
        for (int step = 0; step < 400; step++)
        {
            if (step < sizes.Length || (random.Next(3) != 0 && live.Count < 60) || live.Count == 0)
            {
                // Any size up to 24 pages, or one of a few, so that freed stacks meet their shape again.
                ulong bytes = step < sizes.Length ? sizes[step]
                    : random.Next(2) == 0 ? (ulong)random.Next(1, (int)(24 * page)) : (ulong)random.Next(1, 5) * page - (ulong)random.Next(0, 2);
                ulong hits = space->CacheHits;
                StackError error = s.Allocate(StackRequest.Fixed(bytes), out KernelStack stack, out PfnProblem problem);
                Assert.True(error == StackError.None, $"{error} {problem.Error}");
                ulong pages = (bytes + page - 1) / page;
                Assert.Equal(pages, stack.Pages);
                Assert.Equal(pages, stack.ReservedPages);
                Assert.Equal(stack.Base, stack.Limit);
                Assert.Equal(stack.Base.Value + pages * page, stack.Top.Value);
                s.AssertStack(stack);
                // A stack handed out again from the cache is as a new one: zeroed.
                if (space->CacheHits != hits)
                    Assert.Equal(0UL, s.Measure(stack));
                Assert.DoesNotContain(live, l => l.Stack.Base.Value - page < stack.Top.Value && stack.Base.Value - page < l.Stack.Top.Value);
                s.Scribble(stack, (ulong)random.Next(1, (int)(pages * page / 8)) * 8);
                live.Add((stack, bytes));
            }
            else
            {
                int index = random.Next(live.Count);
                var (stack, bytes) = live[index];
                ulong before = m.Db.AvailablePages;
                Assert.Equal(StackError.WrongSize, s.Free(stack.Top, bytes + page));
                if (stack.Pages > 1)
                    Assert.Equal(StackError.WrongSize, s.Free(stack.Top, bytes - page));
                Assert.Equal(StackError.NotAStack, s.Free(stack.Top + page, bytes));
                Assert.Equal(before, m.Db.AvailablePages);
                s.AssertStack(stack);
                Assert.Equal(StackError.None, s.Free(stack.Top, bytes));
                StackRecord* record = space->Record(stack.Id);
                if (record->State == StackState.Cached)
                {
                    // Kept: still mapped, zeroed, no longer a live stack (its guard no longer reports overflows).
                    Assert.True(m.Table.Translate(ref m.Memory, stack.Base, out _));
                    Assert.Equal(before, m.Db.AvailablePages);
                    Assert.False(KernelStacks<TMode, NoTranslationCache>.IsOverflow(space, stack.Base + ~0UL, out _));
                }
                else
                {
                    Assert.Equal(StackState.Unused, record->State);
                    Assert.False(m.Table.Translate(ref m.Memory, stack.Base, out _));
                }
                Assert.Equal(StackError.NotAStack, s.Free(stack.Top, bytes));
                live.RemoveAt(index);
            }
            Assert.True(m.Db.Validate().IsOk);
            Assert.True(s.CachedCount() <= StackSpace.CacheLimit);
        }
        Assert.True(space->CacheHits > 0, "the sizes never met a cached stack");
        foreach (var (stack, bytes) in live)
            Assert.Equal(StackError.None, s.Free(stack.Top, bytes));
        Assert.Equal(StackError.None, s.DropCache());
        // Every stack page and every table the stacks needed went back.
        Assert.Equal(available, m.Db.AvailablePages);
        Assert.Equal(tables, m.Db.CountUse(PageUse.PageTable));
        Assert.Equal(0UL, m.Db.CountUse(PageUse.KernelStack));
        Assert.Equal(0UL, space->Ptes.InUse);
    }

    private static int FirstFit(bool[] used, int pages)
    {
        int run = 0;
        for (int i = 0; i < used.Length; i++)
        {
            run = used[i] ? 0 : run + 1;
            if (run == pages)
                return i + 1 - pages;
        }
        return -1;
    }
}
