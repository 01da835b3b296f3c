using System;
using ExectOS.Memory;

namespace ExectOS.Boot
{
    /// <summary>Everything the plan is made from: the memory map, the layout's windows and the loader's allocations.</summary>
    public ref struct MappingRequest
    {
        /// <summary>Sorted, non-overlapping descriptors (as <see cref="MemoryMap.Convert"/> makes them).</summary>
        public ReadOnlySpan<LoaderMemoryDescriptor> Memory;
        /// <summary>The layout's LoaderMappings region: every higher-half mapping of the plan lies in it.</summary>
        public LayoutRegion Window;
        /// <summary>The layout's page-table region, which the mode's self-map slot must cover.</summary>
        public LayoutRegion SelfMapRegion;
        /// <summary>The layout's hyperspace region (one page of it is mapped).</summary>
        public LayoutRegion HyperspaceRegion;
        public PhysicalAddress TableRoot;
        public PhysicalAddress KernelPhysical;
        public VirtualAddress KernelVirtual;
        public ulong KernelImageSize;
        public ReadOnlySpan<ImageRange> KernelRanges;
        public PhysicalAddress Stack;
        public ulong StackPages;
        public PhysicalAddress BootData;
        public ulong BootDataPages;
        public PhysicalAddress HyperspacePage;
        public PhysicalAddress HandOff;
        /// <summary>The console UART's registers (<see cref="Hardware.SerialPort.ConsoleRegisters"/>), or 0 where they are not memory-mapped.</summary>
        public PhysicalAddress ConsoleDevice;
    }

    /// <summary>The three layout regions a plan uses, computed the same way by loader and kernel.</summary>
    public struct PlanWindows
    {
        public LayoutRegion Window;
        public LayoutRegion SelfMap;
        public LayoutRegion Hyperspace;

        /// <summary>
        /// The regions of <typeparamref name="TLayout"/> for a machine of <paramref name="pages"/> page frames: its
        /// LoaderMappings and Hyperspace regions, and its PageTables region as the self-map window where
        /// <typeparamref name="TMode"/> has a self-map slot (none otherwise, as for PAE: the plan refuses a self-map
        /// window the mode has no slot for). False outside the layout's range, or when it lacks a region it needs.
        /// </summary>
        public static bool Compute<TMode, TLayout>(ulong pages, out PlanWindows windows)
            where TMode : struct, IPagingMode
            where TLayout : struct, ILayout
        {
            windows = default;
            int window = LayoutRegions.Find<TLayout>("LoaderMappings"), selfMap = LayoutRegions.Find<TLayout>("PageTables");
            int hyperspace = LayoutRegions.Find<TLayout>("Hyperspace");
            LayoutRegions.Storage storage = default;
            Span<LayoutRegion> regions = LayoutRegions.Compute<TLayout>(ref storage, pages);
            if (regions.Length == 0 || window < 0 || (selfMap < 0 && TMode.SelfMapIndex >= 0) || hyperspace < 0)
                return false;
            windows.Window = regions[window];
            windows.SelfMap = TMode.SelfMapIndex >= 0 ? regions[selfMap] : default;
            windows.Hyperspace = regions[hyperspace];
            return true;
        }
    }

    /// <summary>
    /// The one mapping strategy of loader and kernel, as pure code: memory map, paging mode, layout and
    /// images in; a sorted, deterministic, non-overlapping mapping list out, or a problem naming the
    /// entries in conflict. Firmware memory is never identity-mapped: the hand-off page is the only
    /// identity mapping, and the firmware's runtime regions get a window of their own.
    /// </summary>
    public static class MappingPlan
    {
        /// <summary>Not-present pages left between the higher-half mappings, so an overrun faults.</summary>
        public const ulong GuardPages = 1;

        private const PageProtection Data = PageProtection.Writable;

        public static MappingProblem Build<TMode>(in MappingRequest request, Span<Mapping> list, out int count)
            where TMode : struct, IPagingMode
        {
            count = 0;
            int shift = TMode.PageShift;
            ulong page = 1UL << shift;
            MappingProblem problem = CheckInputs<TMode>(in request);
            if (!problem.IsOk)
                return problem;

            ulong imagePages = (request.KernelImageSize + page - 1) >> shift;
            for (int i = 0; i < request.KernelRanges.Length; i++)
            {
                ImageRange range = request.KernelRanges[i];
                ulong first = (ulong)range.Rva >> shift, end = ((ulong)range.Rva + range.Size + page - 1) >> shift;
                if ((range.Protection & (PageProtection.Writable | PageProtection.Executable)) == (PageProtection.Writable | PageProtection.Executable))
                    return MappingProblem.Of(MappingError.WritableAndExecutable, MappingKind.KernelImage, detail: request.KernelVirtual.Value + range.Rva);
                if (range.Size == 0 || end > imagePages || (i > 0 && first < (((ulong)request.KernelRanges[i - 1].Rva + request.KernelRanges[i - 1].Size + page - 1) >> shift)))
                    return MappingProblem.Of(MappingError.ImageRangeInvalid, MappingKind.KernelImage, detail: request.KernelVirtual.Value + range.Rva);
                problem = Add(list, ref count, new Mapping(MappingKind.KernelImage, request.KernelVirtual.Value + (first << shift),
                    request.KernelPhysical.Value + (first << shift), end - first, range.Protection & (PageProtection.Writable | PageProtection.Executable)));
                if (!problem.IsOk)
                    return problem;
            }

            // Higher-half pieces follow the image in a fixed order, each after a guard gap.
            ulong cursor = request.KernelVirtual.Value + (imagePages << shift);
            problem = Place(list, ref count, ref cursor, in request, MappingKind.KernelStack, request.Stack.Value, request.StackPages, Data, page);
            if (problem.IsOk)
                problem = Place(list, ref count, ref cursor, in request, MappingKind.BootData, request.BootData.Value, request.BootDataPages, Data, page);
            for (int i = 0; problem.IsOk && i < request.Memory.Length; i++)
            {
                LoaderMemoryDescriptor run = request.Memory[i];
                if ((run.Flags & LoaderMemoryFlags.Runtime) == 0)
                    continue;
                PageProtection protection = RuntimeProtection(run.Flags);
                // The map counts firmware pages; the mapping counts the mode's, whole ones around the run (UEFI aligns
                // runtime memory to 64 KiB on AArch64 for that; a smaller device run, such as an RTC's page, is mapped
                // with the rest of its page).
                ulong first = RuntimePages(run, shift, out ulong pages);
                problem = Place(list, ref count, ref cursor, in request, MappingKind.FirmwareRuntime, first, pages, protection, page);
            }
            // Device registers: their page, after the firmware's regions (the registers' offset in it is the kernel's to add).
            if (problem.IsOk && request.ConsoleDevice.Value != 0)
                problem = Place(list, ref count, ref cursor, in request, MappingKind.ConsoleDevice, request.ConsoleDevice.Value & ~(page - 1), 1, Data | PageProtection.Device, page);
            if (problem.IsOk)
                problem = Add(list, ref count, new Mapping(MappingKind.Hyperspace, request.HyperspaceRegion.Start.Value, request.HyperspacePage.Value, 1, Data));
            if (problem.IsOk && request.SelfMapRegion.Size != 0)
                problem = Add(list, ref count, new Mapping(MappingKind.SelfMap, request.SelfMapRegion.Start.Value, request.TableRoot.Value, request.SelfMapRegion.Size >> shift, Data));
            if (problem.IsOk)
                problem = Add(list, ref count, new Mapping(MappingKind.HandOff, request.HandOff.Value, request.HandOff.Value, 1, PageProtection.Executable));
            if (!problem.IsOk)
                return problem;

            Sort(list.Slice(0, count));
            return Validate<TMode>(list.Slice(0, count), in request);
        }

        /// <summary>
        /// Checks a plan against the memory map the kernel receives (allocations carved with their types):
        /// sorted, no overlaps, no W+X, each mapping's pages of the type its kind needs, and every runtime
        /// region of the map mapped. The kernel runs this on the list the loader committed.
        /// </summary>
        public static MappingProblem Check<TMode>(ReadOnlySpan<Mapping> plan, ReadOnlySpan<LoaderMemoryDescriptor> memory)
            where TMode : struct, IPagingMode
        {
            MappingProblem problem = CheckShape<TMode>(plan);
            if (!problem.IsOk)
                return problem;
            int runtimeMapped = 0;
            for (int i = 0; i < plan.Length; i++)
            {
                Mapping mapping = plan[i];
                if (!mapping.HasOwnEntries)
                    continue;
                if (mapping.Kind == MappingKind.ConsoleDevice)
                {
                    if (!OutsideMemory(memory, mapping.PhysicalBase, mapping.PageCount << TMode.PageShift))
                        return MappingProblem.Of(MappingError.TypeMismatch, mapping.Kind, detail: mapping.PhysicalBase);
                    continue;
                }
                if (mapping.Kind == MappingKind.FirmwareRuntime)
                {
                    runtimeMapped++;
                    int index = FindRuntime(memory, mapping.PhysicalBase, mapping.PageCount << TMode.PageShift);
                    if (index < 0 || RuntimePages(memory[index], TMode.PageShift, out ulong pages) != mapping.PhysicalBase || pages != mapping.PageCount)
                        return MappingProblem.Of(MappingError.TypeMismatch, mapping.Kind, detail: mapping.PhysicalBase);
                    continue;
                }
                if (!Covered(memory, mapping.PhysicalBase, mapping.PageCount << TMode.PageShift, mapping.Kind, carved: true))
                    return MappingProblem.Of(MappingError.TypeMismatch, mapping.Kind, detail: mapping.PhysicalBase);
            }
            for (int i = 0; i < memory.Length; i++)
            {
                if ((memory[i].Flags & LoaderMemoryFlags.Runtime) != 0)
                    runtimeMapped--;
            }
            if (runtimeMapped != 0)
                return MappingProblem.Of(MappingError.RuntimeRegionMissing, MappingKind.FirmwareRuntime, detail: (ulong)(long)runtimeMapped);
            return MappingProblem.Ok;
        }

        /// <summary>The memory type a kind's pages get once the loader has carved its allocations.</summary>
        public static bool IsCarvedType(MappingKind kind, LoaderMemoryType type) => kind switch
        {
            MappingKind.KernelImage => type == LoaderMemoryType.LoaderSystemCode,
            MappingKind.KernelStack => type == LoaderMemoryType.LoaderStartupKernelStack,
            MappingKind.BootData => type == LoaderMemoryType.LoaderSystemBlock || type == LoaderMemoryType.LoaderMemoryData,
            MappingKind.HandOff or MappingKind.Hyperspace or MappingKind.SelfMap => type == LoaderMemoryType.LoaderMemoryData,
            _ => false,
        };

        /// <summary>
        /// The most page-table pages committing the plan can take (root included): for each level below the
        /// root, the tables one mapping can touch. The loader allocates this many before it builds.
        /// </summary>
        public static ulong TableBound<TMode>(ReadOnlySpan<Mapping> plan) where TMode : struct, IPagingMode
        {
            // The roots (two in a split mode), and the tables a self-map across two levels needs from the start (PAE: four directories).
            ulong tables = (ulong)TMode.RootCount + (TMode.SelfMapIndex >= 0 && SelfMap<TMode>.SlotLevel > 0 ? (ulong)SelfMap<TMode>.SlotCount : 0);
            for (int i = 0; i < plan.Length; i++)
            {
                if (!plan[i].HasOwnEntries)
                    continue;
                ulong bytes = plan[i].PageCount << TMode.PageShift;
                for (int level = 1; level < TMode.LevelCount; level++)
                {
                    ulong covered = 1UL << (TMode.LevelShift(level - 1));
                    tables += (bytes + covered - 1) / covered + 1;
                }
            }
            return tables;
        }

        private static MappingProblem CheckInputs<TMode>(in MappingRequest request) where TMode : struct, IPagingMode
        {
            int shift = TMode.PageShift;
            if (!request.KernelPhysical.IsAligned(shift) || !request.KernelVirtual.IsAligned(shift))
                return MappingProblem.Of(MappingError.Misaligned, MappingKind.KernelImage, detail: request.KernelPhysical.Value | request.KernelVirtual.Value);
            if (!request.Stack.IsAligned(shift))
                return MappingProblem.Of(MappingError.Misaligned, MappingKind.KernelStack, detail: request.Stack.Value);
            if (!request.BootData.IsAligned(shift))
                return MappingProblem.Of(MappingError.Misaligned, MappingKind.BootData, detail: request.BootData.Value);
            if (!request.HyperspacePage.IsAligned(shift) || !request.HyperspaceRegion.Start.IsAligned(shift) || request.HyperspaceRegion.Size >> shift == 0)
                return MappingProblem.Of(MappingError.Misaligned, MappingKind.Hyperspace, detail: request.HyperspaceRegion.Start.Value);
            if (!request.HandOff.IsAligned(shift))
                return MappingProblem.Of(MappingError.Misaligned, MappingKind.HandOff, detail: request.HandOff.Value);
            if (!request.TableRoot.IsAligned(shift))
                return MappingProblem.Of(MappingError.Misaligned, MappingKind.SelfMap, detail: request.TableRoot.Value);
            if (!TMode.CanHoldTable(0, request.TableRoot))
                return MappingProblem.Of(MappingError.FrameOutOfRange, MappingKind.SelfMap, detail: request.TableRoot.Value);
            if (request.KernelImageSize == 0 || request.KernelRanges.Length == 0 || request.StackPages == 0 || request.BootDataPages == 0)
                return MappingProblem.Of(MappingError.ImageRangeInvalid, request.StackPages == 0 ? MappingKind.KernelStack : request.BootDataPages == 0 ? MappingKind.BootData : MappingKind.KernelImage);

            // The self-map slot's region is fixed by the mode; a layout that disagrees would have the kernel read the wrong tables.
            if (TMode.SelfMapIndex >= 0)
            {
                VirtualAddress slot = SelfMap<TMode>.Base;
                if (request.SelfMapRegion.Start != slot || request.SelfMapRegion.Size != SelfMap<TMode>.Size)
                    return MappingProblem.Of(MappingError.SelfMapMismatch, MappingKind.SelfMap, detail: request.SelfMapRegion.Start.Value);
            }
            else if (request.SelfMapRegion.Size != 0)
                return MappingProblem.Of(MappingError.SelfMapMismatch, MappingKind.SelfMap, detail: request.SelfMapRegion.Start.Value);

            ulong imagePages = (request.KernelImageSize + (1UL << shift) - 1) >> shift;
            if (!Covered(request.Memory, request.KernelPhysical.Value, imagePages << shift, MappingKind.KernelImage, carved: false))
                return MappingProblem.Of(MappingError.NotLoaderMemory, MappingKind.KernelImage, detail: request.KernelPhysical.Value);
            if (!Covered(request.Memory, request.Stack.Value, request.StackPages << shift, MappingKind.KernelStack, carved: false))
                return MappingProblem.Of(MappingError.NotLoaderMemory, MappingKind.KernelStack, detail: request.Stack.Value);
            if (!Covered(request.Memory, request.BootData.Value, request.BootDataPages << shift, MappingKind.BootData, carved: false))
                return MappingProblem.Of(MappingError.NotLoaderMemory, MappingKind.BootData, detail: request.BootData.Value);
            if (!Covered(request.Memory, request.HyperspacePage.Value, 1UL << shift, MappingKind.Hyperspace, carved: false))
                return MappingProblem.Of(MappingError.NotLoaderMemory, MappingKind.Hyperspace, detail: request.HyperspacePage.Value);
            if (!Covered(request.Memory, request.TableRoot.Value, 1UL << shift, MappingKind.SelfMap, carved: false))
                return MappingProblem.Of(MappingError.NotLoaderMemory, MappingKind.SelfMap, detail: request.TableRoot.Value);
            // The identity-mapped page must be the loader's own: firmware memory is never identity-mapped.
            if (!Covered(request.Memory, request.HandOff.Value, 1UL << shift, MappingKind.HandOff, carved: false))
                return MappingProblem.Of(MappingError.NotLoaderMemory, MappingKind.HandOff, detail: request.HandOff.Value);
            // Device registers are not memory: a console "device" in RAM would be RAM mapped twice, once uncached.
            if (request.ConsoleDevice.Value != 0 && !OutsideMemory(request.Memory, request.ConsoleDevice.Value & ~((1UL << shift) - 1), 1UL << shift))
                return MappingProblem.Of(MappingError.TypeMismatch, MappingKind.ConsoleDevice, detail: request.ConsoleDevice.Value);
            return MappingProblem.Ok;
        }

        /// <summary>Places <paramref name="pages"/> pages at the window cursor after a guard gap.</summary>
        private static MappingProblem Place(Span<Mapping> list, ref int count, ref ulong cursor, in MappingRequest request, MappingKind kind, ulong physical, ulong pages, PageProtection protection, ulong page)
        {
            ulong end = request.Window.End.Value;
            ulong guard = GuardPages * page;
            if (cursor > end || end - cursor < guard || (end - cursor - guard) / page < pages)
                return MappingProblem.Of(MappingError.WindowFull, kind, detail: physical);
            cursor += guard;
            MappingProblem problem = Add(list, ref count, new Mapping(kind, cursor, physical, pages, protection));
            cursor += pages * page;
            return problem;
        }

        private static MappingProblem Add(Span<Mapping> list, ref int count, Mapping mapping)
        {
            if (count == list.Length)
                return MappingProblem.Of(MappingError.ListTooSmall, mapping.Kind, detail: (ulong)list.Length);
            list[count++] = mapping;
            return MappingProblem.Ok;
        }

        /// <summary>Insertion sort by virtual address: plans are short, and most of one is already in order.</summary>
        private static void Sort(Span<Mapping> list)
        {
            for (int i = 1; i < list.Length; i++)
            {
                Mapping moving = list[i];
                int j = i - 1;
                for (; j >= 0 && list[j].VirtualBase > moving.VirtualBase; j--)
                    list[j + 1] = list[j];
                list[j + 1] = moving;
            }
        }

        private static MappingProblem Validate<TMode>(ReadOnlySpan<Mapping> plan, in MappingRequest request) where TMode : struct, IPagingMode
        {
            MappingProblem problem = CheckShape<TMode>(plan);
            if (!problem.IsOk)
                return problem;
            // The image's pages are the loader's allocation as a whole, its unmapped gaps between sections included: the
            // loader carves all of them as kernel image, so nothing else may lie there (the shape check sees mapped pages only).
            ulong imageFirst = request.KernelPhysical.Value >> TMode.PageShift;
            ulong imagePages = (request.KernelImageSize + (1UL << TMode.PageShift) - 1) >> TMode.PageShift;
            if (Intersects(request.TableRoot.Value >> TMode.PageShift, 1, imageFirst, imagePages))
                return MappingProblem.Of(MappingError.PhysicalOverlap, MappingKind.KernelImage, MappingKind.SelfMap, request.TableRoot.Value);
            for (int i = 0; i < plan.Length; i++)
            {
                Mapping mapping = plan[i];
                if (mapping.HasOwnEntries && mapping.Kind != MappingKind.KernelImage && Intersects(mapping.PhysicalBase >> TMode.PageShift, mapping.PageCount, imageFirst, imagePages))
                    return MappingProblem.Of(MappingError.PhysicalOverlap, MappingKind.KernelImage, mapping.Kind, mapping.PhysicalBase);
                bool windowed = mapping.Kind is MappingKind.KernelImage or MappingKind.KernelStack or MappingKind.BootData or MappingKind.FirmwareRuntime or MappingKind.ConsoleDevice;
                if (windowed && (mapping.VirtualBase < request.Window.Start.Value || mapping.VirtualBase - request.Window.Start.Value > request.Window.Size
                    || (request.Window.Size - (mapping.VirtualBase - request.Window.Start.Value)) >> TMode.PageShift < mapping.PageCount))
                    return MappingProblem.Of(MappingError.OutsideWindow, mapping.Kind, detail: mapping.VirtualBase);
                // The tables are not mapped pages, but a root shared with one would be overwritten by both.
                ulong root = request.TableRoot.Value;
                if (mapping.HasOwnEntries && root >= mapping.PhysicalBase && (root - mapping.PhysicalBase) >> TMode.PageShift < mapping.PageCount)
                    return MappingProblem.Of(MappingError.PhysicalOverlap, MappingKind.SelfMap, mapping.Kind, root);
            }
            return MappingProblem.Ok;
        }

        /// <summary>The checks every plan passes, whoever made it: order, addresses, W^X and no overlaps.</summary>
        private static MappingProblem CheckShape<TMode>(ReadOnlySpan<Mapping> plan) where TMode : struct, IPagingMode
        {
            int shift = TMode.PageShift;
            ulong page = 1UL << shift;
            for (int i = 0; i < plan.Length; i++)
            {
                Mapping mapping = plan[i];
                if (((mapping.VirtualBase | mapping.PhysicalBase) & (page - 1)) != 0 || mapping.PageCount == 0)
                    return MappingProblem.Of(MappingError.Misaligned, mapping.Kind, detail: mapping.VirtualBase);
                if ((mapping.Protection & (PageProtection.Writable | PageProtection.Executable)) == (PageProtection.Writable | PageProtection.Executable))
                    return MappingProblem.Of(MappingError.WritableAndExecutable, mapping.Kind, detail: mapping.VirtualBase);
                ulong last = mapping.VirtualBase + ((mapping.PageCount - 1) << shift);
                if (mapping.PageCount - 1 > (ulong.MaxValue >> shift) || last < mapping.VirtualBase
                    || !TMode.IsCanonical(new VirtualAddress(mapping.VirtualBase)) || !TMode.IsCanonical(new VirtualAddress(last)) || !SameHalf<TMode>(mapping.VirtualBase, last))
                    return MappingProblem.Of(MappingError.NotCanonical, mapping.Kind, detail: mapping.VirtualBase);
                if (mapping.HasOwnEntries)
                {
                    ulong lastFrame = mapping.PhysicalBase + ((mapping.PageCount - 1) << shift);
                    int leaf = TMode.LevelCount - 1;
                    if (lastFrame < mapping.PhysicalBase || !TMode.CanHoldPage(leaf, new PhysicalAddress(mapping.PhysicalBase)) || !TMode.CanHoldPage(leaf, new PhysicalAddress(lastFrame)))
                        return MappingProblem.Of(MappingError.FrameOutOfRange, mapping.Kind, detail: lastFrame);
                }
                else if (!TMode.CanHoldTable(0, new PhysicalAddress(mapping.PhysicalBase)))
                    return MappingProblem.Of(MappingError.FrameOutOfRange, mapping.Kind, detail: mapping.PhysicalBase);
                if (mapping.Kind == MappingKind.HandOff && mapping.VirtualBase != mapping.PhysicalBase)
                    return MappingProblem.Of(MappingError.NotLoaderMemory, mapping.Kind, detail: mapping.VirtualBase);
                if (i > 0)
                {
                    Mapping previous = plan[i - 1];
                    if (previous.VirtualBase > mapping.VirtualBase)
                        return MappingProblem.Of(MappingError.NotSorted, previous.Kind, mapping.Kind, mapping.VirtualBase);
                    if ((mapping.VirtualBase - previous.VirtualBase) >> shift < previous.PageCount)
                        return MappingProblem.Of(MappingError.VirtualOverlap, previous.Kind, mapping.Kind, mapping.VirtualBase);
                }
                for (int j = 0; j < i && mapping.HasOwnEntries; j++)
                {
                    Mapping other = plan[j];
                    if (other.HasOwnEntries && Intersects(mapping.PhysicalBase >> shift, mapping.PageCount, other.PhysicalBase >> shift, other.PageCount))
                        return MappingProblem.Of(MappingError.PhysicalOverlap, other.Kind, mapping.Kind, mapping.PhysicalBase > other.PhysicalBase ? mapping.PhysicalBase : other.PhysicalBase);
                }
            }
            return MappingProblem.Ok;
        }

        private static bool Intersects(ulong a, ulong aPages, ulong b, ulong bPages) => a < b ? b - a < aPages : a - b < bPages;

        /// <summary>A run must not straddle the canonical hole: both ends on the same side of it.</summary>
        private static bool SameHalf<TMode>(ulong first, ulong last) where TMode : struct, IPagingMode
            => !TMode.CanonicalAddresses || TMode.VirtualBits >= 64 || ((first >> (TMode.VirtualBits - 1)) & 1) == ((last >> (TMode.VirtualBits - 1)) & 1);

        /// <summary>The descriptor holding <paramref name="page"/>, or -1.</summary>
        private static int Find(ReadOnlySpan<LoaderMemoryDescriptor> memory, ulong page)
        {
            int low = 0, high = memory.Length - 1;
            while (low <= high)
            {
                int middle = low + (high - low) / 2;
                if (memory[middle].EndPage <= page)
                    low = middle + 1;
                else if (memory[middle].BasePage > page)
                    high = middle - 1;
                else
                    return middle;
            }
            return -1;
        }

        /// <summary>
        /// Whether descriptors cover the pages without a gap, each of a type the kind may map: loader memory
        /// before carving (the firmware's loader types), the kind's own type after.
        /// </summary>
        /// <summary>Whether <paramref name="bytes"/> from <paramref name="physical"/> are memory of the kind's types (the map counts firmware pages).</summary>
        /// <summary>The mode's pages a runtime run is mapped with, whole pages around it: the first page's address, and how many.</summary>
        public static ulong RuntimePages(in LoaderMemoryDescriptor run, int shift, out ulong pages)
        {
            ulong start = run.BasePage << FirmwarePage.Shift, end = run.EndPage << FirmwarePage.Shift, mask = (1UL << shift) - 1;
            ulong first = start & ~mask;
            pages = (((end + mask) & ~mask) - first) >> shift;
            return first;
        }

        /// <summary>The runtime run of the map inside the mapped bytes, or -1.</summary>
        private static int FindRuntime(ReadOnlySpan<LoaderMemoryDescriptor> memory, ulong physical, ulong bytes)
        {
            for (int i = 0; i < memory.Length; i++)
            {
                if ((memory[i].Flags & LoaderMemoryFlags.Runtime) != 0 && memory[i].BasePage << FirmwarePage.Shift >= physical
                    && memory[i].BasePage << FirmwarePage.Shift < physical + bytes)
                    return i;
            }
            return -1;
        }

        /// <summary>What a runtime run is mapped with: its code executable, its device registers as device memory, the rest as data.</summary>
        public static PageProtection RuntimeProtection(LoaderMemoryFlags flags)
            => (flags & LoaderMemoryFlags.FirmwareCode) != 0 ? PageProtection.Executable
                : (flags & LoaderMemoryFlags.Device) != 0 ? Data | PageProtection.Device : Data;

        /// <summary>Whether no run of the memory map holds any of these bytes (device registers lie outside memory).</summary>
        private static bool OutsideMemory(ReadOnlySpan<LoaderMemoryDescriptor> memory, ulong physical, ulong bytes)
        {
            ulong first = physical >> FirmwarePage.Shift, end = (physical + bytes + FirmwarePage.Size - 1) >> FirmwarePage.Shift;
            for (int i = 0; i < memory.Length; i++)
            {
                if (memory[i].BasePage < end && first < memory[i].EndPage)
                    return false;
            }
            return true;
        }

        private static bool Covered(ReadOnlySpan<LoaderMemoryDescriptor> memory, ulong physical, ulong bytes, MappingKind kind, bool carved)
        {
            ulong basePage = physical >> FirmwarePage.Shift, pages = (bytes + FirmwarePage.Size - 1) >> FirmwarePage.Shift;
            if (pages == 0 || basePage + pages < basePage)
                return false;
            ulong page = basePage, end = basePage + pages;
            while (page < end)
            {
                int index = Find(memory, page);
                if (index < 0)
                    return false;
                LoaderMemoryType type = memory[index].Type;
                bool allowed = IsCarvedType(kind, type) || (!carved && type == LoaderMemoryType.LoaderFirmwareTemporary);
                if (!allowed || (memory[index].Flags & LoaderMemoryFlags.Runtime) != 0)
                    return false;
                page = memory[index].EndPage;
            }
            return true;
        }
    }
}
