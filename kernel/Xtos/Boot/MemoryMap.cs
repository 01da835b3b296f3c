using System;
using ExectOS.Memory;

namespace ExectOS.Boot
{
    /// <summary>Why a firmware memory map could not be turned into loader descriptors.</summary>
    public enum MemoryMapError
    {
        None = 0,
        UnsupportedVersion,
        DescriptorTooSmall,
        MapNotWholeDescriptors,
        Misaligned,
        AddressOverflow,
        Overlap,
        TooManyDescriptors,
        CarveOutsideFreeMemory,
    }

    /// <summary>What went wrong and where: the entries concerned (indices in the firmware's map) and their pages.</summary>
    public struct MemoryMapProblem
    {
        public MemoryMapError Error;
        public int First;
        public int Second;
        public ulong Detail;

        public readonly bool IsOk => Error == MemoryMapError.None;

        public static MemoryMapProblem Of(MemoryMapError error, int first = -1, int second = -1, ulong detail = 0)
            => new MemoryMapProblem { Error = error, First = first, Second = second, Detail = detail };

        public static string Describe(MemoryMapError error) => error switch
        {
            MemoryMapError.None => "is valid",
            MemoryMapError.UnsupportedVersion => "has an unsupported descriptor version",
            MemoryMapError.DescriptorTooSmall => "has descriptors smaller than EFI_MEMORY_DESCRIPTOR",
            MemoryMapError.MapNotWholeDescriptors => "is not a whole number of descriptors",
            MemoryMapError.Misaligned => "has a descriptor that does not start on a page",
            MemoryMapError.AddressOverflow => "has a descriptor that runs past the end of the address space",
            MemoryMapError.Overlap => "has two descriptors that overlap",
            MemoryMapError.TooManyDescriptors => "has more descriptors than the loader can hold",
            MemoryMapError.CarveOutsideFreeMemory => "does not show a loader allocation as loader memory",
            _ => "has an unknown problem",
        };
    }

    /// <summary>Which limit of the running mode left memory out of the map (<see cref="MemoryMap.CutToReach{TMode, TLayout}"/>).</summary>
    [System.Flags]
    public enum ReachLimit : uint
    {
        None = 0,
        /// <summary>Memory at or above 2^PhysicalBits: the mode's entries cannot hold its addresses (above 4 GiB without PAE).</summary>
        PhysicalAddressBits = 1,
        /// <summary>RAM at or above the layout's MaximumPages: the kernel's address space is not laid out for it.</summary>
        LayoutMaximum = 2,
    }

    /// <summary>What cutting a map to the running mode's reach left out, and why. Limits and counts are in firmware pages.</summary>
    public struct MemoryCut
    {
        /// <summary>Memory of any type at or above this page is out of the mode's physical reach.</summary>
        public ulong PhysicalLimit;
        /// <summary>RAM at or above this page is left out: the lower of the physical limit and the layout's maximum.</summary>
        public ulong RamLimit;
        /// <summary>The limits that left something out.</summary>
        public ReachLimit Reason;
        public ulong PagesLeftOut;
        /// <summary>The free memory among <see cref="PagesLeftOut"/>: what the system does without.</summary>
        public ulong FreePagesLeftOut;
        /// <summary>Descriptors left out whole.</summary>
        public int DescriptorsLeftOut;
        /// <summary>Descriptors across a limit, cut there (their part below kept).</summary>
        public int DescriptorsSplit;

        public readonly bool LeftOutAny => PagesLeftOut != 0;

        /// <summary>Says what was left out and why, for the loader's and kernel's log: "N pages (M MiB, F free) above ...".</summary>
        public static void Describe(ref Text.TextLine line, ulong pages, ulong freePages, ReachLimit reason, string mode)
        {
            line.AppendDecimal(pages);
            line.Append(" pages (");
            line.AppendSize(pages << FirmwarePage.Shift);
            line.Append(", ");
            line.AppendDecimal(freePages);
            line.Append(" free) beyond what ");
            line.Append(mode);
            line.Append(" reaches: ");
            if ((reason & ReachLimit.PhysicalAddressBits) != 0)
                line.Append((reason & ReachLimit.LayoutMaximum) != 0 ? "its physical address bits and its layout's maximum" : "its physical address bits");
            else
                line.Append("its layout's maximum");
        }
    }

    /// <summary>
    /// Turns the UEFI memory map into sorted, merged, non-overlapping loader descriptors. Pure code:
    /// the firmware's bytes in, descriptors out, or a problem naming the entries. Reads each entry at
    /// the firmware's descriptor size, never sizeof.
    /// </summary>
    public static class MemoryMap
    {
        public const uint EfiDescriptorVersion = 1;
        public const int EfiDescriptorMinimumSize = 40;
        private const int PageShift = FirmwarePage.Shift;

        /// <summary>The loader type of a UEFI memory type (ExectOS's mapping, with the differences noted).</summary>
        public static LoaderMemoryType TypeOf(uint efiType) => efiType switch
        {
            // EfiReservedMemoryType: ExectOS drops these entries; reporting them lets the PFN database know the pages.
            0 => LoaderMemoryType.LoaderFirmwarePermanent,
            1 or 2 or 4 => LoaderMemoryType.LoaderFirmwareTemporary, // loader code/data, boot-services data
            3 => LoaderMemoryType.LoaderFree,                         // boot-services code, free after ExitBootServices
            5 or 6 or 11 or 12 => LoaderMemoryType.LoaderFirmwarePermanent, // runtime services, MMIO, MMIO port space
            7 => LoaderMemoryType.LoaderFree,                         // conventional memory
            8 => LoaderMemoryType.LoaderBad,                          // unusable
            9 or 10 or 13 => LoaderMemoryType.LoaderSpecialMemory,    // ACPI reclaim, ACPI NVS, PAL code
            // Persistent memory: ExectOS treats it as free RAM; it holds data that must survive, so ours keeps off it.
            14 => LoaderMemoryType.LoaderSpecialMemory,
            // Unaccepted memory, and OEM/OS-defined types: not ours until understood.
            _ => LoaderMemoryType.LoaderFirmwarePermanent,
        };

        private const ulong EfiMemoryRuntime = 1UL << 63;
        private const ulong EfiMemoryWriteBack = 0x8;
        private const uint EfiRuntimeServicesCode = 5, EfiMemoryMappedIO = 11, EfiMemoryMappedIOPortSpace = 12;
        private const uint IndexMask = (uint)LoaderMemoryFlags.ConversionIndexMask;

        /// <summary>
        /// The flags of a UEFI entry: whether runtime services need it mapped, whether it is their code, and whether it is
        /// device registers (MMIO, or a run without EFI_MEMORY_WB: on AArch64 the virt board's flash and RTC).
        /// </summary>
        public static LoaderMemoryFlags FlagsOf(uint efiType, ulong attributes)
        {
            if ((attributes & EfiMemoryRuntime) == 0)
                return LoaderMemoryFlags.None;
            if (efiType == EfiRuntimeServicesCode)
                return LoaderMemoryFlags.Runtime | LoaderMemoryFlags.FirmwareCode;
            bool device = efiType is EfiMemoryMappedIO or EfiMemoryMappedIOPortSpace || (attributes & EfiMemoryWriteBack) == 0;
            return device ? LoaderMemoryFlags.Runtime | LoaderMemoryFlags.Device : LoaderMemoryFlags.Runtime;
        }

        /// <summary>
        /// Converts <paramref name="map"/> (descriptors of <paramref name="descriptorSize"/> bytes) into
        /// <paramref name="output"/>, sorted by address, adjacent runs of one type merged, empty entries dropped.
        /// </summary>
        public static MemoryMapProblem Convert(ReadOnlySpan<byte> map, int descriptorSize, uint descriptorVersion, Span<LoaderMemoryDescriptor> output, out int count)
        {
            count = 0;
            if (descriptorVersion != EfiDescriptorVersion)
                return MemoryMapProblem.Of(MemoryMapError.UnsupportedVersion, detail: descriptorVersion);
            if (descriptorSize < EfiDescriptorMinimumSize)
                return MemoryMapProblem.Of(MemoryMapError.DescriptorTooSmall, detail: (ulong)descriptorSize);
            if (map.Length % descriptorSize != 0)
                return MemoryMapProblem.Of(MemoryMapError.MapNotWholeDescriptors, detail: (ulong)map.Length);

            int entries = map.Length / descriptorSize;
            for (int i = 0; i < entries; i++)
            {
                ReadOnlySpan<byte> entry = map.Slice(i * descriptorSize, descriptorSize);
                uint type = Read32(entry, 0);
                ulong start = Read64(entry, 8), pages = Read64(entry, 24), attributes = Read64(entry, 32);
                if ((start & ((1UL << PageShift) - 1)) != 0)
                    return MemoryMapProblem.Of(MemoryMapError.Misaligned, i, detail: start);
                if (pages == 0)
                    continue;
                ulong basePage = start >> PageShift;
                if (pages > (ulong.MaxValue >> PageShift) - basePage + 1)
                    return MemoryMapProblem.Of(MemoryMapError.AddressOverflow, i, detail: start);
                if (count == output.Length)
                    return MemoryMapProblem.Of(MemoryMapError.TooManyDescriptors, i, detail: (ulong)output.Length);
                output[count] = new LoaderMemoryDescriptor(TypeOf(type), basePage, pages, FlagsOf(type, attributes) | (LoaderMemoryFlags)((uint)i & IndexMask));
                count++;
            }
            return Normalize(output, ref count);
        }

        /// <summary>
        /// Sorts by base page (insertion sort: maps are short and usually sorted already), rejects overlaps,
        /// merges neighbours of one type and flags. Clears the conversion's index bits.
        /// </summary>
        public static MemoryMapProblem Normalize(Span<LoaderMemoryDescriptor> descriptors, ref int count)
        {
            for (int i = 1; i < count; i++)
            {
                LoaderMemoryDescriptor moving = descriptors[i];
                int j = i - 1;
                for (; j >= 0 && descriptors[j].BasePage > moving.BasePage; j--)
                    descriptors[j + 1] = descriptors[j];
                descriptors[j + 1] = moving;
            }
            for (int i = 1; i < count; i++)
            {
                if (descriptors[i].BasePage < descriptors[i - 1].EndPage)
                    return MemoryMapProblem.Of(MemoryMapError.Overlap, (int)((uint)descriptors[i - 1].Flags & IndexMask), (int)((uint)descriptors[i].Flags & IndexMask), descriptors[i].BasePage);
            }
            int kept = 0;
            for (int i = 0; i < count; i++)
            {
                descriptors[i].Flags &= ~LoaderMemoryFlags.ConversionIndexMask;
                if (kept > 0 && descriptors[kept - 1].Type == descriptors[i].Type && descriptors[kept - 1].Flags == descriptors[i].Flags
                    && descriptors[kept - 1].EndPage == descriptors[i].BasePage)
                    descriptors[kept - 1].PageCount += descriptors[i].PageCount;
                else
                    descriptors[kept++] = descriptors[i];
            }
            count = kept;
            return MemoryMapProblem.Of(MemoryMapError.None);
        }

        /// <summary>
        /// Gives pages the loader allocated their own type (kernel image, stack, loader block ...), so the
        /// kernel never mistakes them for free memory (ExectOS #25). The pages must lie in loader memory.
        /// </summary>
        public static MemoryMapProblem Carve(Span<LoaderMemoryDescriptor> descriptors, ref int count, ulong basePage, ulong pageCount, LoaderMemoryType type)
        {
            int index = 0;
            while (index < count && descriptors[index].EndPage <= basePage)
                index++;
            if (index == count || descriptors[index].BasePage > basePage || descriptors[index].EndPage < basePage + pageCount
                || descriptors[index].Type != LoaderMemoryType.LoaderFirmwareTemporary)
                return MemoryMapProblem.Of(MemoryMapError.CarveOutsideFreeMemory, index, detail: basePage);

            LoaderMemoryDescriptor host = descriptors[index];
            int pieces = (host.BasePage < basePage ? 1 : 0) + 1 + (host.EndPage > basePage + pageCount ? 1 : 0);
            if (count + pieces - 1 > descriptors.Length)
                return MemoryMapProblem.Of(MemoryMapError.TooManyDescriptors, index, detail: (ulong)descriptors.Length);
            for (int i = count - 1; i > index; i--)
                descriptors[i + pieces - 1] = descriptors[i];
            int at = index;
            if (host.BasePage < basePage)
                descriptors[at++] = new LoaderMemoryDescriptor(host.Type, host.BasePage, basePage - host.BasePage, host.Flags);
            descriptors[at++] = new LoaderMemoryDescriptor(type, basePage, pageCount);
            if (host.EndPage > basePage + pageCount)
                descriptors[at] = new LoaderMemoryDescriptor(host.Type, basePage + pageCount, host.EndPage - basePage - pageCount, host.Flags);
            count += pieces - 1;
            return MemoryMapProblem.Of(MemoryMapError.None);
        }

        /// <summary>
        /// The page frames a PFN database must span: up to the highest page that is RAM (firmware MMIO and
        /// special memory above it are not). Loader and kernel size the layout with it.
        /// </summary>
        public static ulong RamPages(ReadOnlySpan<LoaderMemoryDescriptor> descriptors)
        {
            ulong pages = 0;
            for (int i = 0; i < descriptors.Length; i++)
            {
                if (IsRam(descriptors[i].Type) && descriptors[i].EndPage > pages)
                    pages = descriptors[i].EndPage;
            }
            return pages;
        }

        /// <summary>
        /// What <see cref="RamPages"/> gives for the map once <see cref="ToFrames"/> has made it frames of
        /// 2^<paramref name="pageShift"/> bytes, without rewriting it: the layouts count frames of the mode.
        /// </summary>
        public static ulong RamFrames(ReadOnlySpan<LoaderMemoryDescriptor> descriptors, int pageShift)
        {
            int scale = pageShift - FirmwarePage.Shift;
            if (scale <= 0)
                return RamPages(descriptors);
            // ToFrames' walk, keeping only the last run it kept (the one the next may still trim): a run counts once it
            // is final, when another is kept after it or the map ends.
            ulong round = (1UL << scale) - 1, frames = 0, previousBase = 0, previousEnd = 0;
            LoaderMemoryType previousType = default;
            bool kept = false;
            for (int i = 0; i < descriptors.Length; i++)
            {
                LoaderMemoryDescriptor d = descriptors[i];
                bool free = LoaderMemoryDescriptor.IsFree(d.Type);
                ulong first = free ? (d.BasePage + round) >> scale : d.BasePage >> scale;
                ulong end = free ? d.EndPage >> scale : (d.EndPage + round) >> scale;
                if (kept)
                {
                    if (previousEnd > first && !free && LoaderMemoryDescriptor.IsFree(previousType))
                        previousEnd = first;
                    else if (previousEnd > first)
                        first = previousEnd;
                    if (previousEnd <= previousBase)
                        kept = false;
                }
                if (end <= first)
                    continue;
                if (kept && IsRam(previousType) && previousEnd > frames)
                    frames = previousEnd;
                kept = true;
                previousType = d.Type;
                previousBase = first;
                previousEnd = end;
            }
            if (kept && IsRam(previousType) && previousEnd > frames)
                frames = previousEnd;
            return frames;
        }

        /// <summary>
        /// Rewrites a normalized map (sorted, in firmware pages) in place into page frames of 2^<paramref name="pageShift"/>
        /// bytes, what the PFN database counts: a free run keeps only the frames wholly inside it, any other run takes
        /// every frame it touches, and a frame two runs share goes to the one not free (or, both taken, to the first).
        /// Runs left empty are dropped, so the map never grows. With the firmware's own page size nothing changes.
        /// </summary>
        public static void ToFrames(Span<LoaderMemoryDescriptor> descriptors, ref int count, int pageShift)
        {
            int scale = pageShift - FirmwarePage.Shift;
            if (scale <= 0)
                return;
            ulong round = (1UL << scale) - 1;
            int kept = 0;
            for (int i = 0; i < count; i++)
            {
                LoaderMemoryDescriptor d = descriptors[i];
                bool free = LoaderMemoryDescriptor.IsFree(d.Type);
                ulong first = free ? (d.BasePage + round) >> scale : d.BasePage >> scale;
                ulong end = free ? d.EndPage >> scale : (d.EndPage + round) >> scale;
                if (kept > 0)
                {
                    ref LoaderMemoryDescriptor previous = ref descriptors[kept - 1];
                    // Only the frame at the boundary can be shared; a taken run wins it from a free one.
                    if (previous.EndPage > first && !free && LoaderMemoryDescriptor.IsFree(previous.Type))
                        previous.PageCount = first - previous.BasePage;
                    else if (previous.EndPage > first)
                        first = previous.EndPage;
                    if (previous.PageCount == 0)
                        kept--;
                }
                if (end <= first)
                    continue;
                descriptors[kept++] = new LoaderMemoryDescriptor(d.Type, first, end - first, d.Flags);
            }
            count = kept;
        }

        /// <summary>Whether a type counts towards <see cref="RamPages"/>: everything but firmware memory (ROM, MMIO) and special memory.</summary>
        public static bool IsRam(LoaderMemoryType type)
            => type != LoaderMemoryType.LoaderFirmwarePermanent && type != LoaderMemoryType.LoaderSpecialMemory;

        /// <summary>
        /// Cuts a normalized map to what <typeparamref name="TMode"/> and its layout reach, in place: memory at or
        /// above the mode's physical limit (2^PhysicalBits) and RAM at or above the layout's MaximumPages are left
        /// out, a descriptor across a limit is split there, and the result says how much went and why (ExectOS
        /// #23: never a reason to refuse the boot, and never a truncated address). Firmware and special memory
        /// between the two limits stay: the PFN database does not span them, and the mode can still map them.
        /// </summary>
        public static MemoryCut CutToReach<TMode, TLayout>(Span<LoaderMemoryDescriptor> descriptors, ref int count)
            where TMode : struct, IPagingMode
            where TLayout : struct, ILayout
        {
            int physicalShift = TMode.PhysicalBits - FirmwarePage.Shift;
            ulong physical = physicalShift >= 64 ? ulong.MaxValue : 1UL << physicalShift;
            // The layout counts the mode's page frames; descriptors count firmware pages.
            int scale = TMode.PageShift - FirmwarePage.Shift;
            ulong layout = TLayout.MaximumPages > ulong.MaxValue >> scale ? ulong.MaxValue : TLayout.MaximumPages << scale;
            return Cut(descriptors, ref count, physical, layout);
        }

        /// <summary>The cut of <see cref="CutToReach{TMode, TLayout}"/> with its limits given: any memory from <paramref name="physicalLimit"/> on, RAM from <paramref name="ramLimit"/> on.</summary>
        public static MemoryCut Cut(Span<LoaderMemoryDescriptor> descriptors, ref int count, ulong physicalLimit, ulong ramLimit)
        {
            var cut = new MemoryCut { PhysicalLimit = physicalLimit, RamLimit = ramLimit < physicalLimit ? ramLimit : physicalLimit };
            int kept = 0;
            for (int i = 0; i < count; i++)
            {
                LoaderMemoryDescriptor descriptor = descriptors[i];
                ulong limit = IsRam(descriptor.Type) ? cut.RamLimit : physicalLimit;
                if (descriptor.EndPage > limit)
                {
                    ulong from = descriptor.BasePage > limit ? descriptor.BasePage : limit;
                    ulong beyondPhysical = descriptor.EndPage > physicalLimit ? descriptor.EndPage - (from > physicalLimit ? from : physicalLimit) : 0;
                    cut.PagesLeftOut += descriptor.EndPage - from;
                    if (LoaderMemoryDescriptor.IsFree(descriptor.Type))
                        cut.FreePagesLeftOut += descriptor.EndPage - from;
                    if (beyondPhysical != 0)
                        cut.Reason |= ReachLimit.PhysicalAddressBits;
                    if (descriptor.EndPage - from > beyondPhysical)
                        cut.Reason |= ReachLimit.LayoutMaximum;
                    if (descriptor.BasePage >= limit)
                    {
                        cut.DescriptorsLeftOut++;
                        continue;
                    }
                    descriptor.PageCount = limit - descriptor.BasePage;
                    cut.DescriptorsSplit++;
                }
                descriptors[kept++] = descriptor;
            }
            count = kept;
            return cut;
        }

        private static uint Read32(ReadOnlySpan<byte> data, int offset)
            => (uint)(data[offset] | data[offset + 1] << 8 | data[offset + 2] << 16 | data[offset + 3] << 24);

        private static ulong Read64(ReadOnlySpan<byte> data, int offset) => Read32(data, offset) | (ulong)Read32(data, offset + 4) << 32;
    }
}
