using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Linq;
using ExectOS.Boot;
using ExectOS.Memory;
using Xunit;

namespace ExectOS.Tests.Xtos;

/// <summary>The loader's conversion of the UEFI memory map, on 10,000 generated adversarial maps and on edge cases.</summary>
public class MemoryMapTests
{
    private sealed record Entry(uint Type, ulong StartPage, ulong Pages);

    private static byte[] Encode(IReadOnlyList<Entry> entries, int descriptorSize, Random random)
    {
        byte[] map = new byte[entries.Count * descriptorSize];
        random.NextBytes(map); // padding and the fields we do not read hold garbage, as firmware may
        for (int i = 0; i < entries.Count; i++)
        {
            Span<byte> d = map.AsSpan(i * descriptorSize, descriptorSize);
            BinaryPrimitives.WriteUInt32LittleEndian(d, entries[i].Type);
            BinaryPrimitives.WriteUInt64LittleEndian(d[8..], entries[i].StartPage << 12);
            BinaryPrimitives.WriteUInt64LittleEndian(d[24..], entries[i].Pages);
        }
        return map;
    }

    private static List<Entry> GenerateMap(Random random)
    {
        var entries = new List<Entry>();
        ulong[] regions = [0, 0x100, 0xC0000 - 0x100, 0x100000 - 64, 0x800000, 0x1000000, 0x800000000 >> 12 << 12]; // low, 1 MiB, ~3 GiB, 4 GiB, 32 GiB, 64 GiB, huge
        int count = random.Next(0, 40);
        for (int i = 0; i < count; i++)
        {
            uint type = random.Next(20) switch { 0 => 0x70000000u, 1 => 0x80000001u, 2 => 15u, int t => (uint)(t % 15) };
            ulong start = regions[random.Next(regions.Length)] + (ulong)random.Next(0, 1 << 20);
            ulong pages = random.Next(10) == 0 ? 0 : (ulong)random.Next(1, 1 << 16) * (random.Next(8) == 0 ? 4096UL : 1UL);
            entries.Add(new Entry(type, start, pages));
        }
        return entries.OrderBy(_ => random.Next()).ToList(); // unsorted, as some firmware delivers
    }

    [Fact]
    public void TenThousandAdversarialMapsConvertExactlyOrNameTheirOverlap()
    {
        var random = new Random(4242);
        int converted = 0, overlapping = 0;
        var output = new LoaderMemoryDescriptor[128];
        for (int round = 0; round < 10000; round++)
        {
            List<Entry> entries = GenerateMap(random);
            int size = new[] { 40, 48, 56, 64 }[random.Next(4)];
            MemoryMapProblem problem = MemoryMap.Convert(Encode(entries, size, random), size, 1, output, out int count);
            var real = entries.Select((e, i) => (Entry: e, Index: i)).Where(x => x.Entry.Pages > 0).ToList();
            var clash = real.SelectMany(a => real.Where(b => b.Index > a.Index && a.Entry.StartPage < b.Entry.StartPage + b.Entry.Pages && b.Entry.StartPage < a.Entry.StartPage + a.Entry.Pages)
                .Select(b => (a.Index, b.Index))).ToList();
            if (clash.Count > 0)
            {
                overlapping++;
                Assert.Equal(MemoryMapError.Overlap, problem.Error);
                var named = (Math.Min(problem.First, problem.Second), Math.Max(problem.First, problem.Second));
                Assert.Contains(named, clash);
                continue;
            }
            converted++;
            Assert.Equal(MemoryMapError.None, problem.Error);
            var result = output.AsSpan(0, count).ToArray();
            for (int i = 1; i < result.Length; i++)
            {
                Assert.True(result[i - 1].EndPage <= result[i].BasePage, "descriptors overlap or are unsorted");
                Assert.False(result[i - 1].EndPage == result[i].BasePage && result[i - 1].Type == result[i].Type, "touching runs of one type were not merged");
            }
            AssertSamePages(real.Select(x => (x.Entry.StartPage, x.Entry.StartPage + x.Entry.Pages, MemoryMap.TypeOf(x.Entry.Type))), result);
        }
        Assert.True(converted > 1000 && overlapping > 1000, $"generator too one-sided: {converted} clean, {overlapping} overlapping");
    }

    /// <summary>Every page of the input appears once in the output with the input's (mapped) type, and no other page does.</summary>
    private static void AssertSamePages(IEnumerable<(ulong Start, ulong End, LoaderMemoryType Type)> input, LoaderMemoryDescriptor[] output)
    {
        var expected = input.OrderBy(r => r.Start).ToList();
        var actual = output.Select(d => (Start: d.BasePage, End: d.EndPage, d.Type)).ToList();
        ulong total = 0;
        foreach (var r in expected)
        {
            total += r.End - r.Start;
            var covering = actual.Where(a => a.Start <= r.Start && a.End >= r.End).ToList();
            Assert.True(covering.Count == 1 && covering[0].Type == r.Type, $"pages {r.Start:X}..{r.End:X} of type {r.Type} are not one output run of that type");
        }
        Assert.Equal(total, actual.Aggregate(0UL, (sum, a) => sum + (a.End - a.Start)));
    }

    [Fact]
    public void CarvingLoaderAllocationsKeepsEveryPageAndRetypesExactlyThem()
    {
        var random = new Random(77);
        for (int round = 0; round < 2000; round++)
        {
            var descriptors = new LoaderMemoryDescriptor[64];
            descriptors[0] = new LoaderMemoryDescriptor(LoaderMemoryType.LoaderFree, 0, 0x100);
            descriptors[1] = new LoaderMemoryDescriptor(LoaderMemoryType.LoaderFirmwareTemporary, 0x100, 0x1000);
            descriptors[2] = new LoaderMemoryDescriptor(LoaderMemoryType.LoaderFirmwarePermanent, 0x1100, 0x10);
            int count = 3;
            var carved = new List<(ulong Start, ulong Pages, LoaderMemoryType Type)>();
            for (int i = 0; i < 6; i++)
            {
                ulong start = 0x100 + (ulong)random.Next(0x1000), pages = (ulong)random.Next(1, 64);
                var type = (LoaderMemoryType)random.Next(7, 21);
                bool fits = start + pages <= 0x1100 && carved.All(c => start + pages <= c.Start || c.Start + c.Pages <= start);
                MemoryMapProblem problem = MemoryMap.Carve(descriptors, ref count, start, pages, type);
                Assert.Equal(fits ? MemoryMapError.None : MemoryMapError.CarveOutsideFreeMemory, problem.Error);
                if (fits)
                    carved.Add((start, pages, type));
            }
            var result = descriptors.AsSpan(0, count).ToArray();
            Assert.Equal(0x1110UL, result.Aggregate(0UL, (sum, d) => sum + d.PageCount));
            for (int i = 1; i < result.Length; i++)
                Assert.Equal(result[i - 1].EndPage, result[i].BasePage);
            foreach (var c in carved)
                Assert.Contains(result, d => d.BasePage == c.Start && d.PageCount == c.Pages && d.Type == c.Type);
        }
    }

    [Theory]
    [InlineData(2u, 48, 0, MemoryMapError.UnsupportedVersion)]
    [InlineData(1u, 32, 0, MemoryMapError.DescriptorTooSmall)]
    [InlineData(1u, 48, 7, MemoryMapError.MapNotWholeDescriptors)]
    public void MalformedMapsAreNamed(uint version, int size, int extraBytes, MemoryMapError expected)
    {
        byte[] map = new byte[size * 2 + extraBytes];
        Assert.Equal(expected, MemoryMap.Convert(map, size, version, new LoaderMemoryDescriptor[4], out _).Error);
    }

    [Fact]
    public void MisalignedAndOverflowingEntriesAreNamedByIndex()
    {
        var random = new Random(1);
        byte[] map = Encode([new Entry(7, 0x100, 1), new Entry(7, 0x200, 1)], 48, random);
        BinaryPrimitives.WriteUInt64LittleEndian(map.AsSpan(48 + 8), 0x200123);
        MemoryMapProblem misaligned = MemoryMap.Convert(map, 48, 1, new LoaderMemoryDescriptor[4], out _);
        Assert.Equal((MemoryMapError.Misaligned, 1), (misaligned.Error, misaligned.First));

        map = Encode([new Entry(7, 0x100, 1), new Entry(7, (ulong.MaxValue >> 12) - 4, 8)], 48, random);
        MemoryMapProblem overflow = MemoryMap.Convert(map, 48, 1, new LoaderMemoryDescriptor[4], out _);
        Assert.Equal((MemoryMapError.AddressOverflow, 1), (overflow.Error, overflow.First));
    }

    /// <summary>
    /// What runtime services keep: their code (executable), their data, and device registers (MMIO, or any run without
    /// EFI_MEMORY_WB), which the plan maps as device memory; nothing for a run that is not runtime.
    /// </summary>
    [Theory]
    [InlineData(5u, 0x800000000000000FUL, LoaderMemoryFlags.Runtime | LoaderMemoryFlags.FirmwareCode)]
    [InlineData(6u, 0x800000000000000FUL, LoaderMemoryFlags.Runtime)]
    [InlineData(11u, 0x8000000000000001UL, LoaderMemoryFlags.Runtime | LoaderMemoryFlags.Device)]
    [InlineData(11u, 0x800000000000000FUL, LoaderMemoryFlags.Runtime | LoaderMemoryFlags.Device)]
    [InlineData(12u, 0x8000000000000001UL, LoaderMemoryFlags.Runtime | LoaderMemoryFlags.Device)]
    [InlineData(6u, 0x8000000000000001UL, LoaderMemoryFlags.Runtime | LoaderMemoryFlags.Device)]
    [InlineData(11u, 0x0000000000000001UL, LoaderMemoryFlags.None)]
    [InlineData(7u, 0x000000000000000FUL, LoaderMemoryFlags.None)]
    public void RuntimeRunsAreToldApartAsCodeDataOrDeviceRegisters(uint type, ulong attributes, LoaderMemoryFlags expected)
    {
        Assert.Equal(expected, MemoryMap.FlagsOf(type, attributes));
        PageProtection protection = MappingPlan.RuntimeProtection(expected);
        Assert.Equal((expected & LoaderMemoryFlags.Device) != 0, (protection & PageProtection.Device) != 0);
        Assert.Equal((expected & LoaderMemoryFlags.FirmwareCode) != 0, (protection & PageProtection.Executable) != 0);
        Assert.NotEqual(PageProtection.Writable | PageProtection.Executable, protection & (PageProtection.Writable | PageProtection.Executable));
    }

    /// <summary>RamFrames is what RamPages says of the map made frames by ToFrames, for every page size, without rewriting the map.</summary>
    [Theory]
    [InlineData(12)]
    [InlineData(14)]
    [InlineData(16)]
    public void RamFramesCountsTheFramesToFramesWouldLeave(int pageShift)
    {
        var random = new Random(pageShift);
        for (int round = 0; round < 2000; round++)
        {
            var map = new List<LoaderMemoryDescriptor>();
            ulong cursor = (ulong)random.Next(0, 64);
            for (int i = random.Next(1, 12); i > 0; i--)
            {
                LoaderMemoryType type = random.Next(4) switch { 0 => LoaderMemoryType.LoaderFree, 1 => LoaderMemoryType.LoaderFirmwareTemporary, 2 => LoaderMemoryType.LoaderFirmwarePermanent, _ => LoaderMemoryType.LoaderBad };
                ulong pages = (ulong)random.Next(1, 40);
                map.Add(new LoaderMemoryDescriptor(type, cursor, pages));
                cursor += pages + (ulong)random.Next(0, 3);
            }
            LoaderMemoryDescriptor[] before = map.ToArray(), frames = map.ToArray();
            int count = frames.Length;
            MemoryMap.ToFrames(frames, ref count, pageShift);
            Assert.Equal(MemoryMap.RamPages(frames.AsSpan(0, count)), MemoryMap.RamFrames(before, pageShift));
        }
    }

    /// <summary>A runtime run is mapped with the whole pages of the mode around it (UEFI aligns runtime memory to 64 KiB on AArch64).</summary>
    [Theory]
    [InlineData(0x9010UL, 1UL, 16, 0x9010000UL, 1UL)]
    [InlineData(0x9011UL, 1UL, 16, 0x9010000UL, 1UL)]
    [InlineData(0x900FUL, 2UL, 16, 0x9000000UL, 2UL)]
    [InlineData(0x5C440UL, 128UL, 16, 0x5C440000UL, 8UL)]
    [InlineData(0x9011UL, 1UL, 12, 0x9011000UL, 1UL)]
    public void RuntimeRunsAreMappedWithTheWholePagesAroundThem(ulong basePage, ulong pages, int shift, ulong first, ulong count)
    {
        var run = new LoaderMemoryDescriptor(LoaderMemoryType.LoaderFirmwarePermanent, basePage, pages, LoaderMemoryFlags.Runtime | LoaderMemoryFlags.Device);
        Assert.Equal(first, MappingPlan.RuntimePages(run, shift, out ulong mapped));
        Assert.Equal(count, mapped);
    }

    [Fact]
    public void RamAboveFourAndSixtyFourGigabytesKeepsItsFullAddress()
    {
        // ExectOS #23: PAE descriptors cut to 32 bits aliased high RAM onto low pages.
        var random = new Random(2);
        byte[] map = Encode([new Entry(7, 0x100000, 0x40000), new Entry(7, 0x1000000 + 5, 0x10)], 48, random);
        var output = new LoaderMemoryDescriptor[4];
        Assert.True(MemoryMap.Convert(map, 48, 1, output, out int count).IsOk);
        Assert.Equal(2, count);
        Assert.Equal((0x100000UL, 0x40000UL), (output[0].BasePage, output[0].PageCount));
        Assert.Equal(0x1000005UL, output[1].BasePage);
    }
}
