using System;
using System.Runtime.CompilerServices;

// The table allocator points at the caller's physical-memory struct (it must share its state: the kernel's
// hyperspace window caches which frame it shows). Hosted tests' memory holds a class reference, which
// makes the struct "managed" to the compiler; it lives on the caller's stack for the whole call.
#pragma warning disable CS8500

namespace ExectOS.Memory
{
    /// <summary>What went wrong with a stack request; every error changed nothing.</summary>
    public enum StackError : uint
    {
        None = 0,
        /// <summary>Zero bytes, or more pages than the system PTE region has.</summary>
        BadSize = 1,
        /// <summary>No run of free system PTEs is long enough.</summary>
        NoAddressSpace = 2,
        /// <summary>The PFN database has no page left for the stack or its tables.</summary>
        NoPages = 3,
        /// <summary>A free names an address where no stack starts.</summary>
        NotAStack = 4,
        /// <summary>A free gives another size than the stack was allocated with.</summary>
        WrongSize = 5,
        /// <summary>A stack page's mapping or PFN entry is not what the allocation made (see the PFN problem).</summary>
        Corrupt = 6,
        /// <summary>The region is larger than the allocator can track.</summary>
        RegionTooLarge = 7,
    }

    /// <summary>
    /// The system PTE region as page slots: which are in use and where each allocation starts, in two
    /// bitmaps, so a release must name an allocation's exact start and length.
    /// </summary>
    public struct SystemPteSpace
    {
        /// <summary>Slots tracked: the largest region any layout gives (44000 PTEs), rounded up.</summary>
        public const int Capacity = 45056;

        private const int Words = Capacity / 64;

        private VirtualAddress _base;
        private ulong _count;
        private int _pageShift;
        private Bitmap _used;
        private Bitmap _starts;

        public ulong InUse;
        public ulong Allocations;

        public readonly VirtualAddress Base => _base;

        public readonly ulong Count => _count;

        public StackError Initialize(VirtualAddress start, ulong pages, int pageShift)
        {
            if (pages > Capacity)
                return StackError.RegionTooLarge;
            _pageShift = pageShift;
            _base = start;
            _count = pages;
            _used = default;
            _starts = default;
            InUse = Allocations = 0;
            return StackError.None;
        }

        /// <summary>First fit: <paramref name="pages"/> free slots in a row; returns the first.</summary>
        public StackError Reserve(ulong pages, out ulong first)
        {
            first = 0;
            if (pages == 0 || pages > _count)
                return StackError.BadSize;
            ulong run = 0;
            for (ulong slot = 0; slot < _count; slot++)
            {
                if (IsSet(in _used, slot))
                {
                    run = 0;
                    // Skip a whole word of used slots at once.
                    if ((slot & 63) == 0 && _used[(int)(slot >> 6)] == ulong.MaxValue)
                        slot += 63;
                    continue;
                }
                if (++run == pages)
                {
                    first = slot + 1 - pages;
                    for (ulong s = first; s <= slot; s++)
                        Set(ref _used, s, true);
                    Set(ref _starts, first, true);
                    InUse += pages;
                    Allocations++;
                    return StackError.None;
                }
            }
            return StackError.NoAddressSpace;
        }

        /// <summary>The length of the allocation starting at <paramref name="first"/>, or 0 when none starts there.</summary>
        public readonly ulong LengthAt(ulong first)
        {
            if (first >= _count || !IsSet(in _starts, first))
                return 0;
            ulong end = first + 1;
            while (end < _count && IsSet(in _used, end) && !IsSet(in _starts, end))
                end++;
            return end - first;
        }

        /// <summary>The allocation holding <paramref name="slot"/>: its first slot and length; false when the slot is free.</summary>
        public readonly bool Find(ulong slot, out ulong first, out ulong length)
        {
            first = length = 0;
            if (slot >= _count || !IsSet(in _used, slot))
                return false;
            first = slot;
            while (!IsSet(in _starts, first))
                first--;
            length = LengthAt(first);
            return true;
        }

        /// <summary>Releases an allocation; refused (nothing changes) unless one of exactly <paramref name="pages"/> starts at <paramref name="first"/>.</summary>
        public StackError Release(ulong first, ulong pages)
        {
            ulong length = LengthAt(first);
            if (length == 0)
                return StackError.NotAStack;
            if (length != pages)
                return StackError.WrongSize;
            for (ulong s = first; s < first + pages; s++)
                Set(ref _used, s, false);
            Set(ref _starts, first, false);
            InUse -= pages;
            Allocations--;
            return StackError.None;
        }

        /// <summary>Whether <paramref name="slot"/> belongs to an allocation.</summary>
        public readonly bool IsUsed(ulong slot) => slot < _count && IsSet(in _used, slot);

        /// <summary>Whether an allocation starts at <paramref name="slot"/>.</summary>
        public readonly bool IsStart(ulong slot) => slot < _count && IsSet(in _starts, slot);

        public readonly VirtualAddress AddressOf(ulong slot) => _base + (slot << _pageShift);

        /// <summary>The slot of an address in the region, or ulong.MaxValue.</summary>
        public readonly ulong SlotOf(VirtualAddress address)
            => address.Value >= _base.Value && (address.Value - _base.Value) >> _pageShift < _count ? (address.Value - _base.Value) >> _pageShift : ulong.MaxValue;

        private static bool IsSet(in Bitmap map, ulong slot) => (map[(int)(slot >> 6)] & (1UL << (int)(slot & 63))) != 0;

        private static void Set(ref Bitmap map, ulong slot, bool value)
        {
            if (value)
                map[(int)(slot >> 6)] |= 1UL << (int)(slot & 63);
            else
                map[(int)(slot >> 6)] &= ~(1UL << (int)(slot & 63));
        }

        [InlineArray(Words)]
        private struct Bitmap
        {
            private ulong _element;
        }
    }

    /// <summary>A kernel stack: usable pages [Base, Top), a not-present guard page just below Base.</summary>
    public struct KernelStack
    {
        public VirtualAddress Base;
        public VirtualAddress Top;
        public ulong Pages;
    }

    /// <summary>Page tables for kernel mappings from the PFN database: zeroed pages of use PageTable.</summary>
    public unsafe struct PfnTableAllocator<TMemory> : IFrameAllocator where TMemory : struct, IPhysicalMemory
    {
        public PfnDatabase* Database;
        public TMemory* Memory;
        public PfnProblem Problem;

        public bool TryAllocate(out PhysicalAddress frame)
        {
            PfnProblem problem = Database->AllocatePage(ref *Memory, PageUse.PageTable, true, out PageFrameNumber page);
            frame = page.ToAddress(Database->PageShift);
            if (problem.IsCorruption)
                Problem = problem;
            return problem.IsOk;
        }

        public void Free(PhysicalAddress frame)
        {
            PfnProblem problem = Database->FreePage(PageFrameNumber.Of(frame, Database->PageShift), PageUse.PageTable);
            if (!problem.IsOk)
                Problem = problem;
        }
    }

    /// <summary>
    /// Kernel stacks of any size in the system PTE region: each a run of slots whose first is the guard
    /// page (never mapped) and the rest stack pages from the PFN database, zeroed, writable, not executable.
    /// A free must give the size the stack was allocated with. Same code in the kernel (live tables, TLB
    /// flushed through <typeparamref name="TCache"/>) and in hosted tests (emulated tables).
    /// </summary>
    public static unsafe class KernelStacks<TMode, TCache>
        where TMode : struct, IPagingMode
        where TCache : struct, ITranslationCache
    {
        private static int Leaf => TMode.LevelCount - 1;

        public static ulong PagesFor(ulong bytes) => (bytes + (1UL << TMode.PageShift) - 1) >> TMode.PageShift;

        public static StackError Allocate<TMemory>(ref TMemory memory, PageTable<TMode> table, SystemPteSpace* ptes, PfnDatabase* pfn, ulong bytes, out KernelStack stack, out PfnProblem problem)
            where TMemory : struct, IPhysicalMemory
        {
            stack = default;
            problem = default;
            ulong pages = PagesFor(bytes);
            if (bytes == 0 || pages >= ptes->Count)
                return StackError.BadSize;
            StackError error = ptes->Reserve(pages + 1, out ulong guard);
            if (error != StackError.None)
                return error;
            VirtualAddress start = ptes->AddressOf(guard + 1);
            var tables = new PfnTableAllocator<TMemory> { Database = pfn, Memory = (TMemory*)Unsafe.AsPointer(ref memory) };
            for (ulong i = 0; i < pages; i++)
            {
                VirtualAddress address = start + (i << TMode.PageShift);
                problem = pfn->AllocatePage(ref memory, PageUse.KernelStack, true, out PageFrameNumber page);
                MapStatus status = MapStatus.OutOfMemory;
                if (problem.IsOk)
                {
                    status = table.Map(ref memory, ref tables, address, page.ToAddress(TMode.PageShift), Leaf, PageProtection.Writable, out TlbFlush flush);
                    flush.Flush<TCache>();
                    if (status == MapStatus.Done)
                        pfn->Entry(page)->PteAddress = PfnBuild<TMode>.EntryOf(address, Leaf);
                    else
                        pfn->FreePage(page, PageUse.KernelStack);
                }
                if (status != MapStatus.Done)
                {
                    if (!tables.Problem.IsOk)
                        problem = tables.Problem;
                    Unwind(ref memory, table, pfn, start, i, ref tables);
                    ptes->Release(guard, pages + 1);
                    return problem.IsCorruption ? StackError.Corrupt : StackError.NoPages;
                }
            }
            stack.Base = start;
            stack.Top = start + (pages << TMode.PageShift);
            stack.Pages = pages;
            return StackError.None;
        }

        /// <summary>
        /// Frees the stack whose top is <paramref name="top"/>, allocated with <paramref name="bytes"/>: checked
        /// against the allocation (start and size) before anything changes, then unmapped page by page.
        /// </summary>
        public static StackError Free<TMemory>(ref TMemory memory, PageTable<TMode> table, SystemPteSpace* ptes, PfnDatabase* pfn, VirtualAddress top, ulong bytes, out PfnProblem problem)
            where TMemory : struct, IPhysicalMemory
        {
            problem = default;
            ulong pages = PagesFor(bytes);
            ulong topSlot = ptes->SlotOf(top + ~0UL);
            if (bytes == 0 || topSlot == ulong.MaxValue || !top.IsAligned(TMode.PageShift))
                return StackError.NotAStack;
            ulong guard = topSlot >= pages ? topSlot - pages : 0;
            if (topSlot < pages || ptes->LengthAt(guard) != pages + 1)
            {
                // No stack of this size ends here: a stack of another size may.
                return ptes->Find(topSlot, out ulong first, out ulong actual) && first + actual == topSlot + 1 ? StackError.WrongSize : StackError.NotAStack;
            }
            VirtualAddress start = ptes->AddressOf(guard + 1);
            var tables = new PfnTableAllocator<TMemory> { Database = pfn, Memory = (TMemory*)Unsafe.AsPointer(ref memory) };
            // Every page is checked before any is freed.
            for (ulong i = 0; i < pages; i++)
            {
                if (!table.Translate(ref memory, start + (i << TMode.PageShift), out Translation translation))
                    return StackError.Corrupt;
                PageFrameNumber frame = PageFrameNumber.Of(translation.Address, TMode.PageShift);
                PfnEntry* entry = pfn->Entry(frame);
                if (entry->State != PageState.Active || entry->Use != PageUse.KernelStack)
                {
                    problem = PfnProblem.Of(PfnError.WrongUse, frame, (ulong)entry->Use, (ulong)PageUse.KernelStack);
                    return StackError.Corrupt;
                }
            }
            Unwind(ref memory, table, pfn, start, pages, ref tables);
            problem = tables.Problem;
            ptes->Release(guard, pages + 1);
            return problem.IsOk ? StackError.None : StackError.Corrupt;
        }

        /// <summary>True when <paramref name="address"/> lies in the guard page of a live stack; gives the stack's usable base.</summary>
        public static bool IsGuardPage(SystemPteSpace* ptes, VirtualAddress address, out VirtualAddress stackBase)
        {
            stackBase = default;
            ulong slot = ptes->SlotOf(address);
            if (slot == ulong.MaxValue || ptes->LengthAt(slot) == 0)
                return false;
            stackBase = ptes->AddressOf(slot + 1);
            return true;
        }

        private static void Unwind<TMemory>(ref TMemory memory, PageTable<TMode> table, PfnDatabase* pfn, VirtualAddress start, ulong mapped, ref PfnTableAllocator<TMemory> tables)
            where TMemory : struct, IPhysicalMemory
        {
            for (ulong i = 0; i < mapped; i++)
            {
                VirtualAddress address = start + (i << TMode.PageShift);
                if (table.Unmap(ref memory, ref tables, address, out PhysicalAddress frame, out _, out TlbFlush flush) != MapStatus.Done)
                    continue;
                flush.Flush<TCache>();
                PfnProblem freed = pfn->FreePage(PageFrameNumber.Of(frame, TMode.PageShift), PageUse.KernelStack);
                if (!freed.IsOk && tables.Problem.IsOk)
                    tables.Problem = freed;
            }
        }
    }

    /// <summary>No translation cache to flush: tables that are not live (hosted tests, the loader).</summary>
    public struct NoTranslationCache : ITranslationCache
    {
        public static void Invalidate(VirtualAddress address) { }
    }
}
