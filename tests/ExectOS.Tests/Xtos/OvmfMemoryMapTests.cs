using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using ExectOS.Boot;
using ExectOS.Tests.Snapshots;
using Xunit;

namespace ExectOS.Tests.Xtos;

/// <summary>Real OVMF memory maps (tests/data/ovmf-maps, see its README) through the loader's conversion.</summary>
public class OvmfMemoryMapTests
{
    private static string Folder => Path.Combine(Snapshot.RepositoryRoot, "tests", "data", "ovmf-maps");

    public static IEnumerable<object[]> Maps()
        => Directory.EnumerateFiles(Path.Combine(Snapshot.RepositoryRoot, "tests", "data", "ovmf-maps"), "*.txt")
            .OrderBy(p => p, StringComparer.Ordinal).Select(p => new object[] { Path.GetFileName(p) });

    [Fact]
    public void MapsWereCapturedAtSeveralSizes() => Assert.True(Maps().Count() >= 6);

    internal static List<(uint Type, ulong Start, ulong Pages, ulong Attribute)> Entries(string file)
        => File.ReadAllLines(Path.Combine(Folder, file)).Where(l => l.Length > 0).Select(Parse).ToList();

    /// <summary>The capture as the loader's descriptors (conversion asserted to succeed).</summary>
    internal static LoaderMemoryDescriptor[] Convert(string file)
    {
        var entries = Entries(file);
        byte[] map = Encode(entries);
        var output = new LoaderMemoryDescriptor[256];
        Assert.Equal(MemoryMapError.None, MemoryMap.Convert(map, 48, 1, output, out int count).Error);
        return output[..count];
    }

    private static byte[] Encode(List<(uint Type, ulong Start, ulong Pages, ulong Attribute)> entries)
    {
        const int descriptorSize = 48; // what OVMF uses
        byte[] map = new byte[entries.Count * descriptorSize];
        for (int i = 0; i < entries.Count; i++)
        {
            Span<byte> d = map.AsSpan(i * descriptorSize);
            BinaryPrimitives.WriteUInt32LittleEndian(d, entries[i].Type);
            BinaryPrimitives.WriteUInt64LittleEndian(d[8..], entries[i].Start);
            BinaryPrimitives.WriteUInt64LittleEndian(d[24..], entries[i].Pages);
            BinaryPrimitives.WriteUInt64LittleEndian(d[32..], entries[i].Attribute);
        }
        return map;
    }

    [Theory]
    [MemberData(nameof(Maps))]
    public void ConvertsWithEveryPageAccountedAndTheRamFree(string file)
    {
        var entries = Entries(file);
        const int descriptorSize = 48; // what OVMF uses
        byte[] map = Encode(entries);
        var output = new LoaderMemoryDescriptor[256];

        MemoryMapProblem problem = MemoryMap.Convert(map, descriptorSize, 1, output, out int count);

        Assert.Equal(MemoryMapError.None, problem.Error);
        var descriptors = output.AsSpan(0, count).ToArray();
        Assert.Equal(entries.Aggregate(0UL, (sum, e) => sum + e.Pages), descriptors.Aggregate(0UL, (sum, d) => sum + d.PageCount));
        ulong ramPages = ulong.Parse(file.Split('-')[2].TrimEnd('M', 'G', '.', 't', 'x'), CultureInfo.InvariantCulture) << (file.Contains("G.") ? 18 : 8);
        ulong free = descriptors.Where(d => LoaderMemoryDescriptor.IsFree(d.Type)).Aggregate(0UL, (sum, d) => sum + d.PageCount);
        Assert.InRange(free, ramPages * 9 / 10, ramPages);
        // Every conventional-memory page of the firmware is free for the kernel, wherever it lies (ExectOS #23).
        foreach (var e in entries.Where(e => e.Type == 7))
            Assert.Contains(descriptors, d => d.BasePage <= e.Start >> 12 && d.EndPage >= (e.Start >> 12) + e.Pages && d.Type == LoaderMemoryType.LoaderFree);
        // Runtime services and MMIO are never handed out as free memory.
        foreach (var e in entries.Where(e => e.Type is 5 or 6 or 11))
            Assert.Contains(descriptors, d => d.BasePage <= e.Start >> 12 && d.EndPage >= (e.Start >> 12) + e.Pages && d.Type == LoaderMemoryType.LoaderFirmwarePermanent);
        // What the firmware needs at runtime keeps its flag (and its code is told apart), whatever merging did.
        foreach (var e in entries.Where(e => (e.Attribute >> 63) != 0))
            Assert.Contains(descriptors, d => d.BasePage <= e.Start >> 12 && d.EndPage >= (e.Start >> 12) + e.Pages && (d.Flags & LoaderMemoryFlags.Runtime) != 0
                && ((d.Flags & LoaderMemoryFlags.FirmwareCode) != 0) == (e.Type == 5)
                && ((d.Flags & LoaderMemoryFlags.Device) != 0) == (e.Type is 11 or 12 || (e.Type != 5 && (e.Attribute & 0x8) == 0)));
        Assert.DoesNotContain(descriptors, d => (d.Flags & LoaderMemoryFlags.Runtime) != 0 && !entries.Any(e => (e.Attribute >> 63) != 0 && e.Start >> 12 <= d.BasePage && d.BasePage < (e.Start >> 12) + e.Pages));
    }

    private static (uint Type, ulong Start, ulong Pages, ulong Attribute) Parse(string line)
    {
        string[] f = line.Split(' ');
        return (uint.Parse(f[0], CultureInfo.InvariantCulture), Hex(f[1]), Hex(f[2]), Hex(f[3]));
    }

    private static ulong Hex(string text) => ulong.Parse(text.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
}
