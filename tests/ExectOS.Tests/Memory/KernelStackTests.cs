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
        LayoutRegion ptes = m.RegionNamed("SystemPtes");
        var space = (SystemPteSpace*)NativeMemory.AllocZeroed((nuint)sizeof(SystemPteSpace));
        try
        {
            Assert.Equal(StackError.None, space->Initialize(ptes.Start, ptes.Size >> TMode.PageShift, TMode.PageShift));
            ulong available = m.Db.AvailablePages, tables = m.Db.CountUse(PageUse.PageTable);
            var random = new Random(11);
            var live = new List<(KernelStack Stack, ulong Bytes)>();
            ulong[] sizes = [1, page, page + 1, 3 * page + 1, 16 * page, 300000];
            for (int step = 0; step < 400; step++)
            {
                if (step < sizes.Length || (random.Next(3) != 0 && live.Count < 60) || live.Count == 0)
                {
                    ulong bytes = step < sizes.Length ? sizes[step] : (ulong)random.Next(1, (int)(24 * page));
                    StackError error = KernelStacks<TMode, NoTranslationCache>.Allocate(ref m.Memory, m.Table, space, m.Database, bytes, out KernelStack stack, out PfnProblem problem);
                    Assert.True(error == StackError.None, $"{error} {problem.Error}");
                    ulong pages = (bytes + page - 1) / page;
                    Assert.Equal(pages, stack.Pages);
                    Assert.Equal(stack.Base.Value + pages * page, stack.Top.Value);
                    AssertStack(m, space, stack);
                    Assert.DoesNotContain(live, l => l.Stack.Base.Value - page < stack.Top.Value && stack.Base.Value - page < l.Stack.Top.Value);
                    live.Add((stack, bytes));
                }
                else
                {
                    int index = random.Next(live.Count);
                    var (stack, bytes) = live[index];
                    ulong before = m.Db.AvailablePages;
                    Assert.Equal(StackError.WrongSize, KernelStacks<TMode, NoTranslationCache>.Free(ref m.Memory, m.Table, space, m.Database, stack.Top, bytes + page, out _));
                    if (stack.Pages > 1)
                        Assert.Equal(StackError.WrongSize, KernelStacks<TMode, NoTranslationCache>.Free(ref m.Memory, m.Table, space, m.Database, stack.Top, bytes - page, out _));
                    Assert.Equal(StackError.NotAStack, KernelStacks<TMode, NoTranslationCache>.Free(ref m.Memory, m.Table, space, m.Database, stack.Top + page, bytes, out _));
                    Assert.Equal(before, m.Db.AvailablePages);
                    AssertStack(m, space, stack);
                    Assert.Equal(StackError.None, KernelStacks<TMode, NoTranslationCache>.Free(ref m.Memory, m.Table, space, m.Database, stack.Top, bytes, out PfnProblem freed));
                    Assert.True(freed.IsOk);
                    Assert.False(m.Table.Translate(ref m.Memory, stack.Base, out _));
                    Assert.Equal(StackError.NotAStack, KernelStacks<TMode, NoTranslationCache>.Free(ref m.Memory, m.Table, space, m.Database, stack.Top, bytes, out _));
                    live.RemoveAt(index);
                }
                Assert.True(m.Db.Validate().IsOk);
            }
            foreach (var (stack, bytes) in live)
                Assert.Equal(StackError.None, KernelStacks<TMode, NoTranslationCache>.Free(ref m.Memory, m.Table, space, m.Database, stack.Top, bytes, out _));
            // Every stack page and every table the stacks needed went back.
            Assert.Equal(available, m.Db.AvailablePages);
            Assert.Equal(tables, m.Db.CountUse(PageUse.PageTable));
            Assert.Equal(0UL, m.Db.CountUse(PageUse.KernelStack));
            Assert.Equal(0UL, space->InUse);
        }
        finally
        {
            NativeMemory.Free(space);
        }
    }

    private static void AssertStack<TMode, TLayout>(Machine<TMode, TLayout> m, SystemPteSpace* space, KernelStack stack) where TMode : struct, IPagingMode where TLayout : struct, ILayout
    {
        const PageProtection WriteExecute = PageProtection.Writable | PageProtection.Executable;
        ulong page = 1UL << TMode.PageShift;
        Assert.False(m.Table.Translate(ref m.Memory, new VirtualAddress(stack.Base.Value - page), out _), "the guard page is mapped");
        Assert.True(KernelStacks<TMode, NoTranslationCache>.IsGuardPage(space, new VirtualAddress(stack.Base.Value - 8), out VirtualAddress owner));
        Assert.Equal(stack.Base, owner);
        Assert.False(KernelStacks<TMode, NoTranslationCache>.IsGuardPage(space, stack.Base, out _));
        for (ulong p = 0; p < stack.Pages; p++)
        {
            Assert.True(m.Table.Translate(ref m.Memory, stack.Base + p * page, out Translation t));
            Assert.Equal(Entries.Expressible<TMode>(PageProtection.Writable) & WriteExecute, t.Protection & WriteExecute);
            PfnEntry* entry = m.Db.Entry(PageFrameNumber.Of(t.Address, TMode.PageShift));
            Assert.Equal(PageState.Active, entry->State);
            Assert.Equal(PageUse.KernelStack, entry->Use);
            // The self-map address of the stack page's entry; none without a self-map.
            Assert.Equal(TMode.SelfMapIndex >= 0 ? SelfMap<TMode>.LeafEntry(stack.Base + p * page).Value : 0, entry->PteAddress);
        }
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
