using System;
using System.Runtime.CompilerServices;
using ExectOS.Boot;
using ExectOS.Memory;
using ExectOS.Paging.X86;
using ExectOS.Text;

namespace ExectOS.Kernel
{
    /// <summary>
    /// The kernel's memory manager state and its start-up: the PFN database built in the layout's region
    /// from the loader block (<see cref="PfnBuild{TMode}"/>), and the physical page allocator on it.
    /// Allocation errors that mean corruption end in a bug check; running out is the caller's to handle.
    /// </summary>
    internal static unsafe class MemoryManager
    {
        private static PfnDatabase s_pfn;
        private static VirtualAddress s_hyperspace;
        private static LayoutRegion s_pfnRegion;
        private static ulong s_backingPages;
        private static bool s_fiveLevel;
        private static SystemPteSpace s_ptes;
        private static PhysicalAddress s_root;

        internal static PhysicalAddress Root => s_root;

        internal static SystemPteSpace* SystemPtes => (SystemPteSpace*)Unsafe.AsPointer(ref s_ptes);
        private static ulong s_layoutChecksum;

        internal static ulong LayoutChecksum => s_layoutChecksum;

        internal static PfnDatabase* Pfn => (PfnDatabase*)Unsafe.AsPointer(ref s_pfn);

        internal static LayoutRegion PfnRegion => s_pfnRegion;

        /// <summary>Bytes of memory behind the database (its backing pages).</summary>
        internal static ulong PfnBytes => s_backingPages << 12;

        internal static void Initialize(LoaderBlock* block)
        {
            s_fiveLevel = ActivePaging.FiveLevel;
            if (s_fiveLevel)
                Initialize<Amd64La57, Amd64La57Kernel>(block, Amd64La57Kernel.PfnDatabase, Amd64La57Kernel.SystemPtes,
                    Amd64La57Kernel.NonPagedPool, Amd64La57Kernel.NonPagedExpansion, Amd64La57Kernel.PagedPool);
            else
                Initialize<Amd64, Amd64Kernel>(block, Amd64Kernel.PfnDatabase, Amd64Kernel.SystemPtes,
                    Amd64Kernel.NonPagedPool, Amd64Kernel.NonPagedExpansion, Amd64Kernel.PagedPool);
        }

        private static void Initialize<TMode, TLayout>(LoaderBlock* block, int pfnRegion, int systemPtes, int nonPaged, int expansion, int paged)
            where TMode : struct, IPagingMode
            where TLayout : struct, ILayout
        {
            var map = new ReadOnlySpan<LoaderMemoryDescriptor>((void*)block->MemoryDescriptors, (int)block->MemoryDescriptorCount);
            var plan = new ReadOnlySpan<Mapping>((void*)block->Mappings, (int)block->MappingCount);
            for (int i = 0; i < plan.Length; i++)
            {
                if (plan[i].Kind == MappingKind.Hyperspace)
                    s_hyperspace = new VirtualAddress(plan[i].VirtualBase);
            }

            Regions regions = default;
            Span<LayoutRegion> span = System.Runtime.InteropServices.MemoryMarshal.CreateSpan(ref regions.First, Regions.Capacity);
            if (TLayout.RegionCount > Regions.Capacity || !TLayout.Compute(MemoryMap.RamPages(map), span))
                BugCheck.Raise(BugCheckCode.MemoryManagement, 0x200, MemoryMap.RamPages(map), 0, 0);
            s_pfnRegion = span[pfnRegion];
            StackError ptes = s_ptes.Initialize(span[systemPtes].Start, span[systemPtes].Size >> TMode.PageShift, TMode.PageShift);
            if (ptes != StackError.None)
                BugCheck.Raise(BugCheckCode.MemoryManagement, 0x210, (ulong)ptes, span[systemPtes].Size, 0);
            // FNV-1a over every region's start and size: one number to compare layouts across boots and builds.
            ulong checksum = 0xCBF29CE484222325;
            for (int i = 0; i < TLayout.RegionCount; i++)
            {
                checksum = (checksum ^ span[i].Start.Value) * 0x100000001B3;
                checksum = (checksum ^ span[i].Size) * 0x100000001B3;
            }
            s_layoutChecksum = checksum;

            var memory = new HyperspaceMemory<TMode>(s_hyperspace);
            var table = new PageTable<TMode>(new PhysicalAddress(block->PageTableRoot));
            s_root = new PhysicalAddress(block->PageTableRoot);
            PfnBuildReport report = PfnBuild<TMode>.Build(ref memory, table, map, s_pfnRegion, (PfnEntry*)s_pfnRegion.Start.Value, Pfn);
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
                BugCheck.Raise(BugCheckCode.MemoryManagement, 0x200 + (ulong)report.Error, report.Detail, report.Extra, report.Pages);
            }
            s_backingPages = report.BackingPages;

            TextLine line = default;
            line.Append("XTOSKRNL: PFN database at ");
            line.AppendHexPrefixed(s_pfnRegion.Start.Value, 16);
            line.Append(": ");
            line.AppendDecimal(report.Pages);
            line.Append(" frames, ");
            line.AppendDecimal((ulong)sizeof(PfnEntry));
            line.Append(" bytes each, ");
            line.AppendDecimal(report.BackingPages);
            line.Append(" pages backed (");
            line.AppendSize(report.BackingPages << 12);
            line.Append(") + ");
            line.AppendDecimal(report.TablePages);
            line.Append(" tables");
            KernelConsole.WriteLine(line.AsSpan());

            line.Clear();
            line.Append("XTOSKRNL: pages: ");
            line.AppendDecimal(s_pfn.FreeList.Count);
            line.Append(" free, ");
            line.AppendDecimal(s_pfn.ZeroedList.Count);
            line.Append(" zeroed, ");
            line.AppendDecimal(s_pfn.BadList.Count);
            line.Append(" bad, ");
            line.AppendDecimal(s_pfn.ActivePages);
            line.Append(" active (");
            line.AppendDecimal(s_pfn.CountUse(PageUse.PageTable));
            line.Append(" page tables, ");
            line.AppendDecimal(s_pfn.CountUse(PageUse.LoaderData));
            line.Append(" loader), ");
            line.AppendDecimal(s_pfn.ReservedPages);
            line.Append(" reserved");
            KernelConsole.WriteLine(line.AsSpan());

            var parameters = new ReadOnlySpan<byte>(block->Parameters, KernelParameters.Capacity);
            uint specialTag = KernelParameters.TryGetValue(parameters, "SPECIAL-POOL=", out ReadOnlySpan<byte> tag) ? Pools.TagOf(tag) : 0;
            Pools.Initialize(span[nonPaged], span[expansion], span[paged], TMode.PageShift, specialTag);
        }

        /// <summary>The physical address <paramref name="address"/> maps to, walking the live tables; false when unmapped.</summary>
        internal static bool Translate(VirtualAddress address, out PhysicalAddress physical)
        {
            Translation translation;
            bool mapped;
            if (s_fiveLevel)
            {
                var memory = Physical<Amd64La57>();
                mapped = new PageTable<Amd64La57>(s_root).Translate(ref memory, address, out translation);
                memory.Release();
            }
            else
            {
                var memory = Physical<Amd64>();
                mapped = new PageTable<Amd64>(s_root).Translate(ref memory, address, out translation);
                memory.Release();
            }
            physical = translation.Address;
            return mapped;
        }

        /// <summary>One frame for <paramref name="use"/>, zeroed on request; false when none is left.</summary>
        internal static bool TryAllocatePage(PageUse use, bool zero, out ulong page)
            => s_fiveLevel ? AllocatePage<Amd64La57>(use, zero, out page) : AllocatePage<Amd64>(use, zero, out page);

        /// <summary>A run of frames, aligned (in pages) and below <paramref name="limit"/> (a page number).</summary>
        internal static bool TryAllocateContiguous(ulong count, ulong alignment, ulong limit, PageUse use, bool zero, out ulong first)
            => s_fiveLevel ? AllocateContiguous<Amd64La57>(count, alignment, limit, use, zero, out first) : AllocateContiguous<Amd64>(count, alignment, limit, use, zero, out first);

        internal static void FreePage(ulong page, PageUse use) => Checked(s_pfn.FreePage(page, use));

        internal static void FreeContiguous(ulong first, ulong count, PageUse use) => Checked(s_pfn.FreeContiguous(first, count, use));

        /// <summary>Moves up to <paramref name="limit"/> free frames to the zeroed list, clearing them.</summary>
        internal static ulong ZeroFreePages(ulong limit) => s_fiveLevel ? ZeroFreePages<Amd64La57>(limit) : ZeroFreePages<Amd64>(limit);

        /// <summary>Physical memory through the hyperspace window, in the running paging mode (release it before anything else uses the window).</summary>
        internal static HyperspaceMemory<TMode> Physical<TMode>() where TMode : struct, IPagingMode => new HyperspaceMemory<TMode>(s_hyperspace);

        internal static bool FiveLevel => s_fiveLevel;

        private static bool AllocatePage<TMode>(PageUse use, bool zero, out ulong page) where TMode : struct, IPagingMode
        {
            var memory = Physical<TMode>();
            PfnProblem problem = s_pfn.AllocatePage(ref memory, use, zero, out page);
            memory.Release();
            return Checked(problem);
        }

        private static bool AllocateContiguous<TMode>(ulong count, ulong alignment, ulong limit, PageUse use, bool zero, out ulong first) where TMode : struct, IPagingMode
        {
            var memory = Physical<TMode>();
            PfnProblem problem = s_pfn.AllocateContiguous(ref memory, count, alignment, limit, use, zero, out first);
            memory.Release();
            return Checked(problem);
        }

        private static ulong ZeroFreePages<TMode>(ulong limit) where TMode : struct, IPagingMode
        {
            var memory = Physical<TMode>();
            ulong done = s_pfn.ZeroFreePages(ref memory, limit);
            memory.Release();
            return done;
        }

        /// <summary>A kernel stack of <paramref name="bytes"/> (rounded up to pages) with a guard page below; false when memory or address space ran out.</summary>
        internal static StackError AllocateStack(ulong bytes, out KernelStack stack)
            => s_fiveLevel ? AllocateStack<Amd64La57>(bytes, out stack) : AllocateStack<Amd64>(bytes, out stack);

        /// <summary>Frees a stack; the size must be the one it was allocated with. Misuse is returned, corruption stops the system.</summary>
        internal static StackError FreeStack(VirtualAddress top, ulong bytes)
            => s_fiveLevel ? FreeStack<Amd64La57>(top, bytes) : FreeStack<Amd64>(top, bytes);

        /// <summary>Whether an address is in the guard page of a live kernel stack (for the fault handlers).</summary>
        internal static bool IsStackGuardPage(VirtualAddress address, out VirtualAddress stackBase)
            => KernelStacks<Amd64, CpuTranslationCache>.IsGuardPage(SystemPtes, address, out stackBase);

        /// <summary>Whether a kernel address is mapped, walking the live tables.</summary>
        internal static bool IsMapped(VirtualAddress address) => Translate(address, out _);

        private static StackError AllocateStack<TMode>(ulong bytes, out KernelStack stack) where TMode : struct, IPagingMode
        {
            var memory = Physical<TMode>();
            StackError error = KernelStacks<TMode, CpuTranslationCache>.Allocate(ref memory, new PageTable<TMode>(s_root), SystemPtes, Pfn, bytes, out stack, out PfnProblem problem);
            memory.Release();
            if (error == StackError.Corrupt)
                Checked(problem.IsCorruption ? problem : PfnProblem.Of(PfnError.EntryCorrupt, 0, (ulong)error));
            return error;
        }

        private static StackError FreeStack<TMode>(VirtualAddress top, ulong bytes) where TMode : struct, IPagingMode
        {
            var memory = Physical<TMode>();
            StackError error = KernelStacks<TMode, CpuTranslationCache>.Free(ref memory, new PageTable<TMode>(s_root), SystemPtes, Pfn, top, bytes, out PfnProblem problem);
            memory.Release();
            if (error == StackError.Corrupt)
                Checked(problem.IsCorruption ? problem : PfnProblem.Of(PfnError.EntryCorrupt, 0, (ulong)error));
            return error;
        }

        /// <summary>Misuse and corruption stop the system (PFN_LIST_CORRUPT, parameter 1 says which check); running out does not.</summary>
        private static bool Checked(PfnProblem problem)
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

        [InlineArray(Capacity)]
        private struct Regions
        {
            public const int Capacity = 16;
            public LayoutRegion First;
        }
    }

    /// <summary>invlpg for the kernel's live tables.</summary>
    internal struct CpuTranslationCache : ITranslationCache
    {
        public static unsafe void Invalidate(VirtualAddress address) => Hardware.Cpu.InvalidatePage((void*)address.Value);
    }
}
