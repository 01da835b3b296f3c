using System;
using System.Collections.Generic;
using System.Linq;
using ExectOS.Boot;
using ExectOS.Memory;
using ExectOS.Paging.X86;
using ExectOS.Tests.Descriptors;
using Xunit;

namespace ExectOS.Tests.Xtos;

/// <summary>
/// Cutting the loader's memory map to what the running mode reaches (ExectOS #23): memory above the mode's physical
/// limit and RAM above its layout's maximum are left out and counted, a descriptor across a limit is split, and
/// nothing is ever refused.
/// </summary>
public class MemoryMapReachTests
{
    private const ulong FourGigabytes = (1UL << 32) >> FirmwarePage.Shift;

    public static IEnumerable<object[]> LayoutModesAndMaps() => GeneratedTypes.Cross(GeneratedTypes.LayoutModeData(), OvmfMemoryMapTests.Maps());

    [Fact]
    public void WithoutPaeEverythingAboveFourGigabytesIsLeftOutAndTheRestKept()
    {
        LoaderMemoryDescriptor[] map = OvmfMemoryMapTests.Convert("ovmf-q35-8G.txt");
        LoaderMemoryDescriptor[] cut = Cut<I686, I686Kernel>(map, out MemoryCut result);

        Assert.Equal(map.Where(d => d.EndPage <= FourGigabytes), cut);
        Assert.Equal(ReachLimit.PhysicalAddressBits, result.Reason);
        Assert.Equal(FourGigabytes, result.PhysicalLimit);
        Assert.Equal(FourGigabytes, result.RamLimit);
        // q35 puts 2 GiB below 4 GiB and the other 6 GiB above: all of it free memory, all of it left out.
        Assert.Equal((6UL << 30) >> FirmwarePage.Shift, result.PagesLeftOut);
        Assert.Equal(result.PagesLeftOut, result.FreePagesLeftOut);
        Assert.Equal(map.Count(d => d.BasePage >= FourGigabytes), result.DescriptorsLeftOut);
        Assert.Equal(0, result.DescriptorsSplit);
        // The firmware's flash below 4 GiB ends exactly at the limit: kept, with its runtime flag.
        Assert.Contains(cut, d => d.EndPage == FourGigabytes && (d.Flags & LoaderMemoryFlags.Runtime) != 0);
        // What is left boots: the layout takes its page count, where the whole map's was refused.
        Assert.False(I686Kernel.Compute(MemoryMap.RamPages(map), new LayoutRegion[I686Kernel.RegionCount]));
        Assert.True(I686Kernel.Compute(MemoryMap.RamPages(cut), new LayoutRegion[I686Kernel.RegionCount]));
    }

    [Fact]
    public void PaeKeepsEveryPageOfAnEightGigabyteMachine()
    {
        LoaderMemoryDescriptor[] map = OvmfMemoryMapTests.Convert("ovmf-q35-8G.txt");
        LoaderMemoryDescriptor[] cut = Cut<I686Pae, I686PaeKernel>(map, out MemoryCut result);

        Assert.Equal(map, cut);
        Assert.Equal(ReachLimit.None, result.Reason);
        Assert.False(result.LeftOutAny);
        Assert.Equal((0UL, 0UL, 0, 0), (result.PagesLeftOut, result.FreePagesLeftOut, result.DescriptorsLeftOut, result.DescriptorsSplit));
        Assert.Equal(1UL << (I686Pae.PhysicalBits - FirmwarePage.Shift), result.PhysicalLimit);
        Assert.Equal(I686PaeKernel.MaximumPages, result.RamLimit);
        Assert.True(MemoryMap.RamPages(cut) > FourGigabytes);
        Assert.True(I686PaeKernel.Compute(MemoryMap.RamPages(cut), new LayoutRegion[I686PaeKernel.RegionCount]));
    }

    /// <summary>
    /// 80 GiB of RAM under PAE, whose layout stops at 64 GiB: RAM is cut at 64 GiB (the run across it split there),
    /// special and firmware memory above stays (the PFN database does not span it, and PAE still maps it), and
    /// memory beyond 2^52 goes too, for the other reason.
    /// </summary>
    [Fact]
    public void RamAboveThePaeLayoutsLimitIsCutThere()
    {
        ulong gib = (1UL << 30) >> FirmwarePage.Shift, limit = I686PaeKernel.MaximumPages;
        Assert.Equal(64 * gib, limit);
        LoaderMemoryDescriptor[] map =
        [
            new(LoaderMemoryType.LoaderFree, 0x100, 2 * gib - 0x100),
            new(LoaderMemoryType.LoaderFirmwarePermanent, 4 * gib - 0x200, 0x200, LoaderMemoryFlags.Runtime),
            new(LoaderMemoryType.LoaderFree, 4 * gib, 56 * gib - 16),
            new(LoaderMemoryType.LoaderBad, 60 * gib - 16, 16),
            new(LoaderMemoryType.LoaderFree, 60 * gib, 8 * gib),                                       // across the limit
            new(LoaderMemoryType.LoaderSpecialMemory, 70 * gib, 16),                                   // ACPI NVS above it
            new(LoaderMemoryType.LoaderFirmwarePermanent, 512 * gib, 0x1000, LoaderMemoryFlags.Runtime), // a 64-bit BAR
        ];
        LoaderMemoryDescriptor[] cut = Cut<I686Pae, I686PaeKernel>(map, out MemoryCut result);
        Assert.Equal([map[0], map[1], map[2], map[3], new(LoaderMemoryType.LoaderFree, 60 * gib, 4 * gib), map[5], map[6]], cut);
        Assert.Equal(ReachLimit.LayoutMaximum, result.Reason);
        Assert.Equal((4 * gib, 4 * gib, 0, 1), (result.PagesLeftOut, result.FreePagesLeftOut, result.DescriptorsLeftOut, result.DescriptorsSplit));
        Assert.Equal(limit, MemoryMap.RamPages(cut));
        Assert.False(I686PaeKernel.Compute(MemoryMap.RamPages(map), new LayoutRegion[I686PaeKernel.RegionCount]));
        Assert.True(I686PaeKernel.Compute(MemoryMap.RamPages(cut), new LayoutRegion[I686PaeKernel.RegionCount]));

        // More RAM above the limit goes whole, and firmware memory across 2^52 is cut there.
        ulong beyond = 1UL << (I686Pae.PhysicalBits - FirmwarePage.Shift);
        LoaderMemoryDescriptor[] wide = [.. map[..5], new(LoaderMemoryType.LoaderFirmwareTemporary, 68 * gib, 2 * gib), map[5],
            new(LoaderMemoryType.LoaderFree, 70 * gib + 16, 10 * gib - 16), map[6], new(LoaderMemoryType.LoaderFirmwarePermanent, beyond - 1, 2)];
        cut = Cut<I686Pae, I686PaeKernel>(wide, out result);
        Assert.Equal([.. wide[..4], new(LoaderMemoryType.LoaderFree, 60 * gib, 4 * gib), map[5], map[6], new(LoaderMemoryType.LoaderFirmwarePermanent, beyond - 1, 1)], cut);
        Assert.Equal(ReachLimit.LayoutMaximum | ReachLimit.PhysicalAddressBits, result.Reason);
        Assert.Equal((16 * gib - 16 + 1, 16 * gib - 16, 2, 2), (result.PagesLeftOut, result.FreePagesLeftOut, result.DescriptorsLeftOut, result.DescriptorsSplit));
        Assert.Equal(limit, MemoryMap.RamPages(cut));
    }

    /// <summary>Every mode on every captured map: the cut keeps exactly the pages its limits allow, and its layout then takes the map.</summary>
    [Theory]
    [MemberData(nameof(LayoutModesAndMaps))]
    public void EveryModeKeepsExactlyWhatItReachesOfARealMap(string mode, string file)
        => GeneratedTypes.RunForMode(typeof(MemoryMapReachTests), nameof(RealMap), mode, file);

    private static void RealMap<TMode, TLayout>(string file) where TMode : struct, IPagingMode where TLayout : struct, ILayout
    {
        LoaderMemoryDescriptor[] map = OvmfMemoryMapTests.Convert(file);
        LoaderMemoryDescriptor[] cut = Cut<TMode, TLayout>(map, out MemoryCut result);
        int scale = TMode.PageShift - FirmwarePage.Shift;
        Assert.Equal(1UL << (TMode.PhysicalBits - FirmwarePage.Shift), result.PhysicalLimit);
        Assert.Equal(Math.Min(result.PhysicalLimit, TLayout.MaximumPages << scale), result.RamLimit);
        AssertAgreesWithModel(map, cut, result);
        Assert.True(TLayout.Compute(MemoryMap.RamPages(cut) >> scale, new LayoutRegion[TLayout.RegionCount]), $"{TLayout.Name} refuses the cut map");
    }

    /// <summary>Random normalised maps against random limits, page by page against a model.</summary>
    [Fact]
    public void RandomMapsKeepExactlyThePagesBelowTheirLimits()
    {
        var random = new Random(23);
        var types = new[] { LoaderMemoryType.LoaderFree, LoaderMemoryType.LoaderFirmwareTemporary, LoaderMemoryType.LoaderFirmwarePermanent,
            LoaderMemoryType.LoaderSpecialMemory, LoaderMemoryType.LoaderBad, LoaderMemoryType.LoaderSystemCode };
        for (int round = 0; round < 3000; round++)
        {
            var map = new List<LoaderMemoryDescriptor>();
            ulong cursor = (ulong)random.Next(0, 64);
            for (int i = random.Next(0, 24); i > 0; i--)
            {
                cursor += random.Next(3) == 0 ? (ulong)random.Next(1, 200) : 0;
                ulong pages = (ulong)random.Next(1, 300);
                map.Add(new LoaderMemoryDescriptor(types[random.Next(types.Length)], cursor, pages, random.Next(8) == 0 ? LoaderMemoryFlags.Runtime : LoaderMemoryFlags.None));
                cursor += pages;
            }
            ulong physical = (ulong)random.Next(0, (int)cursor + 100), ram = random.Next(4) == 0 ? ulong.MaxValue : (ulong)random.Next(0, (int)cursor + 100);
            var descriptors = map.ToArray();
            int count = descriptors.Length;
            MemoryCut result = MemoryMap.Cut(descriptors, ref count, physical, ram);
            Assert.Equal(physical, result.PhysicalLimit);
            Assert.Equal(Math.Min(physical, ram), result.RamLimit);
            AssertAgreesWithModel(map.ToArray(), descriptors[..count], result);
        }
    }

    private static LoaderMemoryDescriptor[] Cut<TMode, TLayout>(LoaderMemoryDescriptor[] map, out MemoryCut result) where TMode : struct, IPagingMode where TLayout : struct, ILayout
    {
        var copy = map.ToArray();
        int count = copy.Length;
        result = MemoryMap.CutToReach<TMode, TLayout>(copy, ref count);
        return copy[..count];
    }

    /// <summary>
    /// Page by page: a page is kept, with its descriptor's type and flags, exactly when it is below the physical
    /// limit and, if RAM, below the RAM limit; the counts and reasons are those of the pages left out.
    /// </summary>
    private static void AssertAgreesWithModel(LoaderMemoryDescriptor[] map, LoaderMemoryDescriptor[] cut, MemoryCut result)
    {
        ulong leftOut = 0, freeLeftOut = 0;
        int whole = 0, split = 0;
        var reason = ReachLimit.None;
        var expected = new List<LoaderMemoryDescriptor>();
        foreach (LoaderMemoryDescriptor d in map)
        {
            ulong limit = MemoryMap.IsRam(d.Type) ? result.RamLimit : result.PhysicalLimit;
            ulong keep = d.EndPage <= limit ? d.PageCount : d.BasePage >= limit ? 0 : limit - d.BasePage;
            if (keep > 0)
                expected.Add(new LoaderMemoryDescriptor(d.Type, d.BasePage, keep, d.Flags));
            if (keep == d.PageCount)
                continue;
            (whole, split) = keep == 0 ? (whole + 1, split) : (whole, split + 1);
            leftOut += d.PageCount - keep;
            if (LoaderMemoryDescriptor.IsFree(d.Type))
                freeLeftOut += d.PageCount - keep;
            for (ulong page = d.BasePage + keep; page < d.EndPage; page++)
            {
                reason |= page >= result.PhysicalLimit ? ReachLimit.PhysicalAddressBits : ReachLimit.LayoutMaximum;
                if (reason == (ReachLimit.PhysicalAddressBits | ReachLimit.LayoutMaximum))
                    break;
            }
        }
        Assert.Equal(expected, cut);
        Assert.Equal((leftOut, freeLeftOut, whole, split, reason), (result.PagesLeftOut, result.FreePagesLeftOut, result.DescriptorsLeftOut, result.DescriptorsSplit, result.Reason));
        Assert.Equal(leftOut != 0, result.LeftOutAny);
        Assert.True(MemoryMap.RamPages(cut) <= result.RamLimit);
    }
}
