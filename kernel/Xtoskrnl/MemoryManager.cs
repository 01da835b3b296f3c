using System;
using System.Runtime.CompilerServices;
using ExectOS.Boot;
using ExectOS.Diagnostics;
using ExectOS.Hardware;
using ExectOS.Memory;
using ExectOS.Text;
using ExectOS.Threading;

namespace ExectOS.Kernel
{
    /// <summary>
    /// The kernel's memory manager state, whatever the paging mode: the PFN database, the system PTE space and
    /// the live tables' root. What needs the mode is in <see cref="MemoryManager{TMode}"/>.
    /// </summary>
    internal static unsafe class MemoryManager
    {
#pragma warning disable CS0649 // built and changed through Pfn, a pointer to it
        internal static PfnDatabase s_pfn;
#pragma warning restore CS0649
        internal static VirtualAddress s_hyperspace;
        internal static ulong s_hyperspaceBytes;
        internal static LayoutRegion s_pfnRegion;
        internal static ulong s_backingPages;
        internal static StackSpace s_stacks;
        internal static PhysicalAddress s_root;
        internal static PhysicalAddress s_highRoot;
        internal static ulong s_layoutChecksum;
        internal static LayoutRegions.Storage s_regions;
        /// <summary>The memory map in frames of a mode whose pages are larger than the firmware's (see <c>MemoryManager{TMode}.FramesOf</c>).</summary>
        internal static FrameMap s_frames;

        [InlineArray(FrameMapCapacity)]
        internal struct FrameMap
        {
            private LoaderMemoryDescriptor _element;
        }

        private const int FrameMapCapacity = 1024;

        /// <summary>A region of the running layout, as computed at start-up (see <see cref="KernelLayout.Require{TLayout}"/>).</summary>
        internal static LayoutRegion Region(int index) => s_regions[index];

        internal static PhysicalAddress Root => s_root;

        /// <summary>A split mode's high-half root (the kernel's half), default for modes with one root.</summary>
        internal static PhysicalAddress HighRoot => s_highRoot;

        /// <summary>The kernel stacks and the system PTE slots they take.</summary>
        internal static StackSpace* Stacks => (StackSpace*)Unsafe.AsPointer(ref s_stacks);

        internal static ulong LayoutChecksum => s_layoutChecksum;

        internal static PfnDatabase* Pfn => (PfnDatabase*)Unsafe.AsPointer(ref s_pfn);

        internal static LayoutRegion PfnRegion => s_pfnRegion;

        /// <summary>Bytes of memory behind the database (its backing pages).</summary>
        internal static ulong PfnBytes => s_backingPages << s_pfn.PageShift;

        internal static void FreePage(PageFrameNumber page, PageUse use) => Checked(LockedPfn<KernelLocks>.FreePage(Pfn, page, use));

        internal static void FreeContiguous(PageFrameNumber first, ulong count, PageUse use) => Checked(LockedPfn<KernelLocks>.FreeContiguous(Pfn, first, count, use));

        /// <summary>Misuse and corruption stop the system (PFN_LIST_CORRUPT, parameter 1 says which check); running out does not.</summary>
        internal static bool Checked(PfnProblem problem)
        {
            if (problem.IsCorruption)
            {
                TextLine line = default;
                line.Append("XTOSKRNL: PFN database: ");
                line.Append(PfnProblem.Describe(problem.Error));
                line.Append(", page ");
                line.AppendHexPrefixed(problem.Page, 1);
                KernelConsole.WriteLine(line.AsSpan());
                BugCheck.Raise(BugCheckCode.PfnListCorrupt, (ulong)problem.Error, problem.Page, problem.Detail, problem.Extra);
            }
            return problem.IsOk;
        }
    }

    /// <summary>
    /// The memory manager's start-up and its operations in the running paging mode: the PFN database built in
    /// the layout's region from the loader block (<see cref="PfnBuild{TMode}"/>), the physical page allocator on
    /// it, and kernel stacks (see <see cref="Stacks{TMode}"/>). Allocation errors that mean corruption end in a bug check; running out is the
    /// caller's to handle.
    /// </summary>
    internal static unsafe class MemoryManager<TMode> where TMode : struct, IPagingMode
    {
        /// <summary>
        /// The loader block's memory map in frames of the mode (<see cref="MemoryMap.ToFrames"/>): the map itself where
        /// pages are the firmware's 4 KiB, else a converted copy (the block's stays in firmware pages for the rest).
        /// </summary>
        private static ReadOnlySpan<LoaderMemoryDescriptor> FramesOf(LoaderBlock* block)
        {
            var map = new ReadOnlySpan<LoaderMemoryDescriptor>((void*)block->MemoryDescriptors, (int)block->MemoryDescriptorCount);
            if (TMode.PageShift == FirmwarePage.Shift)
                return map;
            Span<LoaderMemoryDescriptor> frames = MemoryManager.s_frames;
            if (map.Length > frames.Length)
                BugCheck.Raise(MemoryManagementCheck.LayoutUnavailable, (ulong)map.Length, (ulong)frames.Length, 0);
            for (int i = 0; i < map.Length; i++)
                frames[i] = map[i];
            int count = map.Length;
            MemoryMap.ToFrames(frames, ref count, TMode.PageShift);
            return frames.Slice(0, count);
        }

        /// <summary>The live tables: the loader's root (and a split mode's high-half root), which the kernel keeps.</summary>
        internal static PageTable<TMode> Table => new PageTable<TMode>(MemoryManager.Root, MemoryManager.HighRoot);

        internal static void Initialize<TLayout>(LoaderBlock* block) where TLayout : struct, ILayout
        {
            int pfnRegion = KernelLayout.Require<TLayout>("PfnDatabase"), systemPtes = KernelLayout.Require<TLayout>("SystemPtes");
            int nonPaged = KernelLayout.Require<TLayout>("NonPagedPool"), expansion = KernelLayout.Require<TLayout>("NonPagedExpansion");
            int paged = KernelLayout.Require<TLayout>("PagedPool"), hyperspace = KernelLayout.Require<TLayout>("Hyperspace");
            // The database counts the mode's frames: the loader block's map (firmware pages) as frames, in a copy.
            ReadOnlySpan<LoaderMemoryDescriptor> map = FramesOf(block);
            var plan = new ReadOnlySpan<Mapping>((void*)block->Mappings, (int)block->MappingCount);
            for (int i = 0; i < plan.Length; i++)
            {
                if (plan[i].Kind == MappingKind.Hyperspace)
                    MemoryManager.s_hyperspace = new VirtualAddress(plan[i].VirtualBase);
            }

            LayoutRegions.Storage regions = default;
            Span<LayoutRegion> span = LayoutRegions.Compute<TLayout>(ref regions, MemoryMap.RamPages(map));
            if (span.Length == 0)
                BugCheck.Raise(MemoryManagementCheck.LayoutUnavailable, MemoryMap.RamPages(map), TLayout.MinimumPages, TLayout.MaximumPages);
            for (int i = 0; i < span.Length; i++)
                MemoryManager.s_regions[i] = span[i];
            MemoryManager.s_pfnRegion = span[pfnRegion];
            MemoryManager.s_hyperspaceBytes = span[hyperspace].Size;
            StackError ptes = MemoryManager.s_stacks.Initialize(span[systemPtes].Start, span[systemPtes].Size >> TMode.PageShift, TMode.PageShift);
            if (ptes != StackError.None)
                BugCheck.Raise(MemoryManagementCheck.SystemPtesUnavailable, (ulong)ptes, span[systemPtes].Size, 0);
            // FNV-1a over every region's start and size: one number to compare layouts across boots and builds.
            ulong checksum = 0xCBF29CE484222325;
            for (int i = 0; i < TLayout.RegionCount; i++)
            {
                checksum = (checksum ^ span[i].Start.Value) * 0x100000001B3;
                checksum = (checksum ^ span[i].Size) * 0x100000001B3;
            }
            MemoryManager.s_layoutChecksum = checksum;

            var memory = new HyperspaceMemory<TMode>(MemoryManager.s_hyperspace);
            MemoryManager.s_root = new PhysicalAddress(block->PageTableRoot);
            MemoryManager.s_highRoot = TMode.RootCount > 1 ? new PhysicalAddress(block->HighPageTableRoot) : default;
            PageTable<TMode> table = Table;
            PfnDatabase* pfn = MemoryManager.Pfn;
            PfnBuildReport report = PfnBuild<TMode>.Build(ref memory, table, map, MemoryManager.s_pfnRegion, (PfnEntry*)MemoryManager.s_pfnRegion.Start.Value, pfn);
            memory.Release();
            if (!report.IsOk)
            {
                TextLine failure = default;
                failure.Append("XTOSKRNL: PFN database build failed: step ");
                failure.AppendDecimal((ulong)report.Error);
                failure.Append(", ");
                failure.Append(PfnProblem.Describe(report.Problem.Error));
                failure.Append(" (page ");
                failure.AppendHexPrefixed(report.Problem.Page, 1);
                failure.Append(')');
                KernelConsole.WriteLine(failure.AsSpan());
                if (report.Error == PfnBuildError.Accounting || report.Problem.IsCorruption)
                    BugCheck.Raise(BugCheckCode.PfnListCorrupt, (ulong)report.Problem.Error, report.Problem.Page, report.Problem.Detail, report.Problem.Extra);
                BugCheck.Raise(MemoryManagementCheck.PfnBuild + (ulong)report.Error, report.Detail, report.Extra, report.Pages);
            }
            MemoryManager.s_backingPages = report.BackingPages;

            TextLine line = default;
            line.Append("XTOSKRNL: PFN database at ");
            line.AppendHexPrefixed(MemoryManager.s_pfnRegion.Start.Value, 16);
            line.Append(": ");
            line.AppendDecimal(report.Pages);
            line.Append(" frames, ");
            line.AppendDecimal((ulong)sizeof(PfnEntry));
            line.Append(" bytes each, ");
            line.AppendDecimal(report.BackingPages);
            line.Append(" pages backed (");
            line.AppendSize(report.BackingPages << TMode.PageShift);
            line.Append(") + ");
            line.AppendDecimal(report.TablePages);
            line.Append(" tables");
            KernelConsole.WriteLine(line.AsSpan());

            line.Clear();
            line.Append("XTOSKRNL: pages: ");
            line.AppendDecimal(pfn->FreeList.Count);
            line.Append(" free, ");
            line.AppendDecimal(pfn->ZeroedList.Count);
            line.Append(" zeroed, ");
            line.AppendDecimal(pfn->BadList.Count);
            line.Append(" bad, ");
            line.AppendDecimal(pfn->ActivePages);
            line.Append(" active (");
            line.AppendDecimal(pfn->CountUse(PageUse.PageTable));
            line.Append(" page tables, ");
            line.AppendDecimal(pfn->CountUse(PageUse.LoaderData));
            line.Append(" loader), ");
            line.AppendDecimal(pfn->ReservedPages);
            line.Append(" reserved");
            KernelConsole.WriteLine(line.AsSpan());

            var parameters = new ReadOnlySpan<byte>(block->Parameters, KernelParameters.Capacity);
            uint specialTag = KernelParameters.TryGetValue(parameters, "SPECIAL-POOL=", out ReadOnlySpan<byte> tag) ? Pools.TagOf(tag) : 0;
            Pools.Initialize(span[nonPaged], span[expansion], span[paged], TMode.PageShift, specialTag);
        }

        /// <summary>
        /// The physical address <paramref name="address"/> maps to, walking the live tables; false when unmapped. Takes no lock:
        /// the fault path calls it where this processor may hold the PFN lock already, so an edit in progress on another
        /// processor may be seen half done (good enough for a report, not for a decision that changes memory).
        /// </summary>
        internal static bool Translate(VirtualAddress address, out PhysicalAddress physical)
        {
            var memory = Physical();
            bool mapped = MemoryManager<TMode>.Table.Translate(ref memory, address, out Translation translation);
            memory.Release();
            physical = translation.Address;
            return mapped;
        }

        /// <summary>Whether a kernel address is mapped, walking the live tables.</summary>
        internal static bool IsMapped(VirtualAddress address) => Translate(address, out _);

        /// <summary>
        /// Physical memory through the running processor's hyperspace window (release it before anything else on this
        /// processor uses the window). Processor n's window is the n-th page of the hyperspace region.
        /// </summary>
        internal static HyperspaceMemory<TMode> Physical() => new HyperspaceMemory<TMode>(Window(Processor.Number()));

        /// <summary>Processor <paramref name="number"/>'s window: in the last-level table the loader made for the first.</summary>
        internal static VirtualAddress Window(uint number) => MemoryManager.s_hyperspace + ((ulong)number << TMode.PageShift);

        /// <summary>
        /// Whether every processor this kernel can run has a window: the pages after the loader's must be in the region
        /// and in the same last-level table (the loader made only that one).
        /// </summary>
        internal static bool WindowsFit(uint processors)
        {
            int leaf = TMode.LevelCount - 1;
            ulong first = (ulong)TMode.Index(leaf, MemoryManager.s_hyperspace);
            ulong region = MemoryManager.s_hyperspaceBytes >> TMode.PageShift;
            return first + processors <= (1UL << TMode.LevelIndexBits(leaf)) && processors <= region;
        }

        /// <summary>One frame for <paramref name="use"/>, zeroed on request; false when none is left.</summary>
        internal static bool TryAllocatePage(PageUse use, bool zero, out PageFrameNumber page)
        {
            var memory = Physical();
            PfnProblem problem = LockedPfn<KernelLocks>.AllocatePage(MemoryManager.Pfn, ref memory, use, zero, out page);
            memory.Release();
            return MemoryManager.Checked(problem);
        }

        /// <summary>A run of frames, aligned (in pages) and below frame <paramref name="limit"/>.</summary>
        internal static bool TryAllocateContiguous(ulong count, ulong alignment, PageFrameNumber limit, PageUse use, bool zero, out PageFrameNumber first)
        {
            var memory = Physical();
            PfnProblem problem = LockedPfn<KernelLocks>.AllocateContiguous(MemoryManager.Pfn, ref memory, count, alignment, limit, use, zero, out first);
            memory.Release();
            return MemoryManager.Checked(problem);
        }

        /// <summary>Moves up to <paramref name="limit"/> free frames to the zeroed list, clearing them.</summary>
        internal static ulong ZeroFreePages(ulong limit)
        {
            var memory = Physical();
            ulong done = LockedPfn<KernelLocks>.ZeroFreePages(MemoryManager.Pfn, ref memory, limit);
            memory.Release();
            return done;
        }
    }

    /// <summary>Kernel mappings the memory manager makes on request: device registers, and a page identity-mapped for a while.</summary>
    internal static unsafe class KernelMappings<TMode> where TMode : struct, IPagingMode
    {
        /// <summary>Maps the page of device registers holding <paramref name="physical"/> in the system PTE region, writable, not executable.</summary>
        internal static bool MapDevice(ulong physical, out byte* registers)
        {
            registers = null;
            ulong pageBytes = 1UL << TMode.PageShift;
            LockQueueEntry entry = default;
            Irql previous = KernelLocks.Acquire(&MemoryManager.Stacks->Lock, &entry);
            StackError reserved = MemoryManager.Stacks->Ptes.Reserve(1, out ulong slot);
            KernelLocks.Release(&MemoryManager.Stacks->Lock, &entry, previous);
            if (reserved != StackError.None)
                return false;
            VirtualAddress address = MemoryManager.Stacks->Ptes.AddressOf(slot);
            if (!Map(address, physical & ~(pageBytes - 1), PageProtection.Writable | PageProtection.Device))
                return false;
            registers = (byte*)(nuint)(address.Value + (physical & (pageBytes - 1)));
            return true;
        }

        /// <summary>Maps <paramref name="page"/> at its own physical address, executable, not writable (code that turns paging on runs there).</summary>
        internal static bool MapIdentity(ulong page) => Map(new VirtualAddress(page), page, PageProtection.Executable);

        internal static bool UnmapIdentity(ulong page)
        {
            var memory = MemoryManager<TMode>.Physical();
            var tables = new PfnTableAllocator<HyperspaceMemory<TMode>> { Database = MemoryManager.Pfn, Memory = &memory };
            LockQueueEntry entry = default;
            Irql previous = KernelLocks.Acquire(&MemoryManager.Pfn->Lock, &entry);
            MapStatus status = MemoryManager<TMode>.Table.Unmap(ref memory, ref tables, new VirtualAddress(page), out _, out _, out TlbFlush flush);
            flush.Flush<CpuTranslationCache>();
            KernelLocks.Release(&MemoryManager.Pfn->Lock, &entry, previous);
            memory.Release();
            return status == MapStatus.Done;
        }

        private static bool Map(VirtualAddress address, ulong physical, PageProtection protection)
        {
            var memory = MemoryManager<TMode>.Physical();
            var tables = new PfnTableAllocator<HyperspaceMemory<TMode>> { Database = MemoryManager.Pfn, Memory = &memory };
            LockQueueEntry entry = default;
            Irql previous = KernelLocks.Acquire(&MemoryManager.Pfn->Lock, &entry);
            MapStatus status = MemoryManager<TMode>.Table.Map(ref memory, ref tables, address, new PhysicalAddress(physical), TMode.LevelCount - 1, protection, out TlbFlush flush);
            flush.Flush<CpuTranslationCache>();
            KernelLocks.Release(&MemoryManager.Pfn->Lock, &entry, previous);
            memory.Release();
            return status == MapStatus.Done && MemoryManager.Checked(tables.Problem);
        }
    }

    /// <summary>
    /// The TLBs of every running processor for the kernel's live tables: the address is invalidated here at once, and on
    /// every other processor by a shootdown (see <see cref="InterProcessor"/>) sent with this processor's batch, at the
    /// latest before it lets go of the lock it holds (the PFN lock, for every kernel table edit). Every unmap and
    /// protection change of a kernel mapping hands back a <see cref="TlbFlush"/> that is flushed through this.
    /// </summary>
    internal struct CpuTranslationCache : ITranslationCache
    {
        public static void Invalidate(VirtualAddress address)
        {
            Hardware.Processor.InvalidatePage(address);
            InterProcessor.Queue(address);
        }
    }
}
