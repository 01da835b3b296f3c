using System;
using System.Runtime.InteropServices;
using ExectOS.Hosted;
using ExectOS.Memory;
using Xunit;

namespace ExectOS.Tests.Memory;

/// <summary>A <see cref="StackSpace"/> over a booted machine's system PTE region, and the stack operations on it.</summary>
internal sealed unsafe class StackBench<TMode, TLayout> : IDisposable
    where TMode : struct, IPagingMode
    where TLayout : struct, ILayout
{
    private readonly Machine<TMode, TLayout> _m;

    public StackSpace* Space { get; }

    public static ulong Page => 1UL << TMode.PageShift;

    public StackBench(Machine<TMode, TLayout> machine)
    {
        _m = machine;
        Space = (StackSpace*)NativeMemory.AllocZeroed((nuint)sizeof(StackSpace));
        LayoutRegion ptes = machine.RegionNamed("SystemPtes");
        Assert.Equal(StackError.None, Space->Initialize(ptes.Start, ptes.Size >> TMode.PageShift, TMode.PageShift));
    }

    public void Dispose() => NativeMemory.Free(Space);

    public StackError Allocate(in StackRequest request, out KernelStack stack, out PfnProblem problem)
        => LockedStacks<TMode, NoTranslationCache, HostLocks>.Allocate(ref _m.Memory, _m.Table, Space, _m.Database, in request, out stack, out problem);

    public KernelStack Allocate(in StackRequest request)
    {
        StackError error = Allocate(in request, out KernelStack stack, out PfnProblem problem);
        Assert.True(error == StackError.None, $"{error} {problem.Error}");
        return stack;
    }

    public StackError Free(VirtualAddress top, ulong bytes)
    {
        StackError error = LockedStacks<TMode, NoTranslationCache, HostLocks>.Free(ref _m.Memory, _m.Table, Space, _m.Database, top, bytes, out PfnProblem problem);
        Assert.True(problem.IsOk || error == StackError.Corrupt, $"{error} with problem {problem.Error}");
        return error;
    }

    public StackError Free(in KernelStack stack) => Free(stack.Top, stack.ReservedPages * Page);

    public StackError Grow(ref KernelStack stack, VirtualAddress lowest)
        => LockedStacks<TMode, NoTranslationCache, HostLocks>.Grow(ref _m.Memory, _m.Table, Space, _m.Database, ref stack, lowest, out _);

    public StackError Shrink(ref KernelStack stack, VirtualAddress inUse, out ulong released)
        => LockedStacks<TMode, NoTranslationCache, HostLocks>.Shrink(ref _m.Memory, _m.Table, Space, _m.Database, ref stack, inUse, out released, out _);

    public StackError DropCache() => LockedStacks<TMode, NoTranslationCache, HostLocks>.DropCache(ref _m.Memory, _m.Table, Space, _m.Database, out _);

    public ulong Measure(in KernelStack stack) => LockedStacks<TMode, NoTranslationCache, HostLocks>.Measure(ref _m.Memory, _m.Table, Space, _m.Database, stack.Id);

    public StackError BeginCallout(VirtualAddress stackPointer, ulong bytes, out Callout callout, uint processor = 0)
        => LockedStacks<TMode, NoTranslationCache, HostLocks>.BeginCallout(ref _m.Memory, _m.Table, Space, _m.Database, processor, stackPointer, bytes, out callout, out _);

    public StackError EndCallout(in Callout callout, uint processor = 0)
        => LockedStacks<TMode, NoTranslationCache, HostLocks>.EndCallout(ref _m.Memory, _m.Table, Space, _m.Database, processor, in callout, out _);

    public int CachedCount()
    {
        int count = 0;
        for (int id = Space->NextCached(0); id >= 0; id = Space->NextCached(id + 1))
            count++;
        return count;
    }

    /// <summary>Writes non-zero words into the top <paramref name="bytes"/> of the stack, as if it had been used that deep.</summary>
    public void Scribble(in KernelStack stack, ulong bytes)
    {
        for (ulong offset = 8; offset <= bytes; offset += 8)
        {
            VirtualAddress at = new VirtualAddress(stack.Top.Value - offset);
            Assert.True(_m.Table.Translate(ref _m.Memory, at, out Translation t), $"0x{at.Value:X} is not mapped");
            _m.Memory.Write64(t.Address, offset | 1);
        }
    }

    /// <summary>
    /// The stack as the live tables show it: the guard page right below its committed part unmapped and seen as
    /// the guard by the fault handlers, the uncommitted reserve below unmapped, every committed page writable,
    /// not executable, an active kernel-stack frame whose PFN entry points back at its PTE.
    /// </summary>
    public void AssertStack(in KernelStack stack)
    {
        const PageProtection WriteExecute = PageProtection.Writable | PageProtection.Executable;
        ulong page = Page;
        Assert.Equal(stack.Top.Value - stack.Pages * page, stack.Base.Value);
        Assert.Equal(stack.Top.Value - stack.ReservedPages * page, stack.Limit.Value);
        Assert.False(_m.Table.Translate(ref _m.Memory, new VirtualAddress(stack.Base.Value - page), out _), "the guard page is mapped");
        Assert.True(KernelStacks<TMode, NoTranslationCache>.IsOverflow(Space, new VirtualAddress(stack.Base.Value - 8), out StackOverflow overflow));
        Assert.Equal(stack.Base, overflow.Base);
        Assert.Equal(stack.Id, overflow.Stack);
        Assert.True(overflow.InGuardPage);
        Assert.False(KernelStacks<TMode, NoTranslationCache>.IsOverflow(Space, stack.Base, out _));
        for (ulong address = stack.Limit.Value - page; address < stack.Base.Value; address += page)
        {
            Assert.False(_m.Table.Translate(ref _m.Memory, new VirtualAddress(address), out _), $"reserve page 0x{address:X} is mapped");
            Assert.True(KernelStacks<TMode, NoTranslationCache>.IsOverflow(Space, new VirtualAddress(address), out StackOverflow below));
            Assert.Equal(address >= stack.Base.Value - page, below.InGuardPage);
        }
        for (ulong p = 0; p < stack.Pages; p++)
        {
            Assert.True(_m.Table.Translate(ref _m.Memory, stack.Base + p * page, out Translation t));
            Assert.Equal(Entries.Expressible<TMode>(PageProtection.Writable) & WriteExecute, t.Protection & WriteExecute);
            PfnEntry* entry = _m.Db.Entry(PageFrameNumber.Of(t.Address, TMode.PageShift));
            Assert.Equal(PageState.Active, entry->State);
            Assert.Equal(PageUse.KernelStack, entry->Use);
            // The self-map address of the stack page's entry; none without a self-map.
            Assert.Equal(TMode.SelfMapIndex >= 0 ? SelfMap<TMode>.LeafEntry(stack.Base + p * page).Value : 0, entry->PteAddress);
        }
    }
}
