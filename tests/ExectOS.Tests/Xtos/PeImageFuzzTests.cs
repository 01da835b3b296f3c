using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Text;
using ExectOS.Images;
using ExectOS.Tests.Snapshots;
using Xunit;
using Xunit.Abstractions;

namespace ExectOS.Tests.Xtos;

/// <summary>
/// Whatever <see cref="PeImage.Check"/> accepts, <see cref="PeImage.Load"/> loads: seeded mutants of the real kernel image
/// (headers, section table, relocation table, truncation), each accepted one loaded into SizeOfImage bytes.
/// </summary>
public class PeImageFuzzTests(ITestOutputHelper output)
{
    private const int Seed = 0x17_0009; // issue 17, item 9; mutant n uses Seed + n, so any failure reproduces alone
    private const int Mutants = 100_000;
    private const ulong MovedBase = 0x0DE62000; // where the loader would place it physically

    [Fact]
    public void EveryMutantCheckAcceptsLoads()
    {
        byte[] original = File.ReadAllBytes(Path.Combine(Snapshot.RepositoryRoot, "artifacts/images/amd64/xtoskrnl.exe"));
        Assert.True(PeImage.Check(original, PeMachine.Amd64, out PeImageInfo originalInfo).IsOk);
        var layout = new Layout(original, originalInfo);
        byte[] file = (byte[])original.Clone();
        byte[] memory = new byte[originalInfo.SizeOfImage];
        var undo = new Stack<(int Offset, byte Value)>();
        var refusals = new Dictionary<ImageError, int>();
        var failures = new List<string>();
        int accepted = 0, moved = 0, rawlessPastEnd = 0, failureCount = 0, threw = 0;
        var clock = Stopwatch.StartNew();

        for (int n = 0; n < Mutants; n++)
        {
            int length = Mutate(new Random(Seed + n), file, layout, undo, log: null);
            ReadOnlySpan<byte> mutant = file.AsSpan(0, length);
            string? failure = null;
            try
            {
                ImageProblem problem = PeImage.Check(mutant, PeMachine.Amd64, out PeImageInfo info);
                if (!problem.IsOk)
                {
                    refusals[problem.Error] = refusals.GetValueOrDefault(problem.Error) + 1;
                }
                else
                {
                    accepted++;
                    if (HasRawlessSectionPastEnd(mutant, info))
                        rawlessPastEnd++;
                    if (memory.Length < info.SizeOfImage)
                        memory = new byte[info.SizeOfImage]; // up to the 1 GiB Check allows, a few dozen times
                    Span<byte> destination = memory.AsSpan(0, (int)info.SizeOfImage);
                    // Moving needs relocations; a fixed image refuses to move (the caller's mistake), and loads at its base.
                    bool relocatable = !info.RelocationsStripped && info.RelocationSize != 0; // PeImageInfo.Relocatable, spelled out
                    ulong loadBase = relocatable ? MovedBase : info.ImageBase;
                    if (relocatable)
                        moved++;
                    else if (PeImage.Load(mutant, in info, destination, MovedBase).Error != ImageError.RelocationsStripped)
                        failure = "a fixed image did not refuse to move";
                    ImageProblem loaded = PeImage.Load(mutant, in info, destination, loadBase);
                    if (!loaded.IsOk)
                        failure = $"Check accepted, Load refused: {loaded.Error} (section {loaded.Section}, expected 0x{loaded.Expected:X}, found 0x{loaded.Actual:X})";
                }
            }
            catch (Exception e)
            {
                failure = $"{e.GetType().Name}: {e.Message}";
                threw++;
            }
            if (failure != null && failureCount++ < 5)
            {
                var log = new StringBuilder();
                Mutate(new Random(Seed + n), (byte[])original.Clone(), layout, new Stack<(int, byte)>(), log);
                failures.Add($"mutant {n} ({log}length {length}): {failure}");
            }
            while (undo.Count > 0)
            {
                (int offset, byte value) = undo.Pop();
                file[offset] = value;
            }
        }

        int refused = Mutants - accepted;
        output.WriteLine($"{Mutants} mutants in {clock.ElapsedMilliseconds} ms: {accepted} accepted and loaded ({moved} moved, {rawlessPastEnd} with a rawless section pointing past the end), {refused} refused");
        output.WriteLine($"  largest image loaded: {memory.Length >> 20} MiB");
        foreach ((ImageError error, int count) in refusals)
            output.WriteLine($"  {error}: {count}");
        Assert.True(failureCount == 0, $"{failureCount} of {accepted} accepted mutants failed to load ({threw} threw):\n{string.Join("\n", failures)}");
        Assert.Equal(original, file); // every mutation was undone
        // The mutants must exercise both sides and many checks, or this test could not fail.
        Assert.InRange(accepted, Mutants / 20, Mutants / 2);
        Assert.InRange(moved, accepted / 2, accepted);
        Assert.True(rawlessPastEnd >= 100, $"only {rawlessPastEnd} accepted mutants had a rawless section pointing past the end");
        Assert.True(refusals.Count >= 15, $"refusals name only {refusals.Count} distinct problems: {string.Join(", ", refusals.Keys)}");
    }

    private static bool HasRawlessSectionPastEnd(ReadOnlySpan<byte> file, in PeImageInfo info)
    {
        for (int i = 0; i < info.SectionCount; i++)
        {
            PeSection section = PeImage.GetSection(file, in info, i);
            if (section.RawSize == 0 && section.RawOffset >= (uint)file.Length)
                return true;
        }
        return false;
    }

    /// <summary>Offsets in the real image the mutations aim at.</summary>
    private sealed class Layout
    {
        public readonly int FileLength, HeaderEnd, RelocationOffset, RelocationSize, SizeOfImage;
        public readonly List<(int Offset, int Width, string Name)> Fields = [];
        public readonly List<int> Cuts = [];

        public Layout(byte[] file, PeImageInfo info)
        {
            FileLength = file.Length;
            SizeOfImage = (int)info.SizeOfImage;
            int nt = BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan(0x3C));
            int optional = nt + 24;
            int table = optional + BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(nt + 20));
            HeaderEnd = table + info.SectionCount * 40;
            Fields.AddRange([
                (0x3C, 4, "e_lfanew"), (nt, 4, "Signature"), (nt + 4, 2, "Machine"), (nt + 6, 2, "NumberOfSections"),
                (nt + 20, 2, "SizeOfOptionalHeader"), (nt + 22, 2, "Characteristics"), (optional, 2, "Magic"),
                (optional + 16, 4, "AddressOfEntryPoint"), (optional + 24, 8, "ImageBase"), (optional + 32, 4, "SectionAlignment"),
                (optional + 36, 4, "FileAlignment"), (optional + 56, 4, "SizeOfImage"), (optional + 60, 4, "SizeOfHeaders"),
                (optional + 108, 4, "NumberOfRvaAndSizes"), (optional + 152, 4, "BaseRelocation.Rva"), (optional + 156, 4, "BaseRelocation.Size"),
            ]);
            Cuts.AddRange([0, 63, 64, nt + 24, table, HeaderEnd - 1, HeaderEnd, (int)info.SizeOfHeaders - 1, (int)info.SizeOfHeaders, file.Length - 1]);
            for (int i = 0; i < info.SectionCount; i++)
            {
                int header = table + i * 40;
                Fields.AddRange([
                    (header + 8, 4, $"s{i}.VirtualSize"), (header + 12, 4, $"s{i}.VirtualAddress"), (header + 16, 4, $"s{i}.SizeOfRawData"),
                    (header + 20, 4, $"s{i}.PointerToRawData"), (header + 36, 4, $"s{i}.Characteristics"),
                ]);
                PeSection section = PeImage.GetSection(file, in info, i);
                Cuts.AddRange([(int)section.RawOffset, (int)(section.RawOffset + section.RawSize) - 1]);
                if (info.RelocationRva >= section.VirtualAddress && info.RelocationRva < section.VirtualAddress + section.RawSize)
                    RelocationOffset = (int)(section.RawOffset + info.RelocationRva - section.VirtualAddress);
            }
            RelocationSize = (int)info.RelocationSize;
            Assert.True(RelocationOffset > 0 && RelocationSize > 16, "the kernel image has a relocation table to corrupt");
        }
    }

    /// <summary>Applies one to four mutations to <paramref name="file"/> (saving every byte it changes) and returns the mutant's length.</summary>
    private static int Mutate(Random random, byte[] file, Layout layout, Stack<(int, byte)> undo, StringBuilder? log)
    {
        int length = file.Length;
        int count = 1 + random.Next(4);
        for (int m = 0; m < count; m++)
        {
            int kind = random.Next(100);
            if (kind < 35)
            {
                (int offset, int width, string name) = layout.Fields[random.Next(layout.Fields.Count)];
                ulong old = Read(file, offset, width);
                ulong value = Boundary(random, old, layout, width);
                Write(file, offset, width, value, undo);
                log?.Append($"{name} 0x{old:X} -> 0x{value:X}; ");
            }
            else if (kind < 50)
            {
                int offset = HeaderOffset(random, layout);
                byte value = (byte)random.Next(256);
                log?.Append($"header byte 0x{offset:X} = 0x{value:X2}; ");
                Write(file, offset, 1, value, undo);
            }
            else if (kind < 62)
            {
                int offset = HeaderOffset(random, layout), bit = random.Next(8);
                log?.Append($"header bit 0x{offset:X}.{bit}; ");
                Write(file, offset, 1, (byte)(file[offset] ^ (1 << bit)), undo);
            }
            else if (kind < 75)
            {
                int offset = layout.RelocationOffset + random.Next(layout.RelocationSize);
                byte value = random.Next(2) == 0 ? (byte)(file[offset] ^ (1 << random.Next(8))) : (byte)random.Next(256);
                log?.Append($"relocation byte 0x{offset:X} = 0x{value:X2}; ");
                Write(file, offset, 1, value, undo);
            }
            else if (kind < 81)
            {
                // The issue's case: a section without raw data whose pointer lies at, past or far past the end of the file.
                int section = random.Next((layout.Fields.Count - 16) / 5);
                uint pointer = random.Next(4) switch
                {
                    0 => (uint)layout.FileLength,
                    1 => (uint)layout.FileLength + 1 + (uint)random.Next(0x10000),
                    2 => 0xFFFFFFFF,
                    _ => 0x80000000u + (uint)random.Next(),
                };
                (int rawSize, _, _) = layout.Fields[16 + section * 5 + 2];
                Write(file, rawSize, 4, 0, undo);
                Write(file, rawSize + 4, 4, pointer, undo);
                log?.Append($"s{section} rawless at 0x{pointer:X}; ");
            }
            else if (kind < 97)
            {
                int cut = random.Next(2) == 0 ? layout.Cuts[random.Next(layout.Cuts.Count)] + random.Next(-2, 3) : random.Next(file.Length);
                length = Math.Clamp(Math.Min(length, cut), 0, file.Length);
                log?.Append($"cut to 0x{length:X}; ");
            }
            else
            {
                int offset = random.Next(file.Length);
                byte value = (byte)random.Next(256);
                log?.Append($"byte 0x{offset:X} = 0x{value:X2}; ");
                Write(file, offset, 1, value, undo);
            }
        }
        return length;
    }

    // A third of the time a byte of a field Check reads, else any header byte (most of which Check ignores).
    private static int HeaderOffset(Random random, Layout layout)
    {
        if (random.Next(3) != 0)
            return random.Next(layout.HeaderEnd);
        (int offset, int width, _) = layout.Fields[random.Next(layout.Fields.Count)];
        return offset + random.Next(width);
    }

    private static ulong Boundary(Random random, ulong old, Layout layout, int width)
    {
        ulong mask = width == 8 ? ulong.MaxValue : (1UL << (8 * width)) - 1;
        ulong value = random.Next(18) switch
        {
            0 => 0,
            1 => 1,
            2 => ulong.MaxValue,
            3 => mask >> 1,
            4 => (mask >> 1) + 1,
            5 => (ulong)layout.FileLength,
            6 => (ulong)layout.FileLength - 1,
            7 => (ulong)layout.FileLength + 1,
            8 => (ulong)layout.SizeOfImage,
            9 => (ulong)layout.SizeOfImage + 1,
            10 => (ulong)layout.SizeOfImage - 0x1000,
            11 => old + 1,
            12 => old - 1,
            13 => old + 0x1000,
            14 => old - 0x1000,
            15 => old * 2,
            16 => old ^ (1UL << random.Next(8 * width)),
            _ => (ulong)random.NextInt64(),
        };
        return value & mask;
    }

    private static ulong Read(byte[] file, int offset, int width)
    {
        ulong value = 0;
        for (int i = 0; i < width; i++)
            value |= (ulong)file[offset + i] << (8 * i);
        return value;
    }

    private static void Write(byte[] file, int offset, int width, ulong value, Stack<(int, byte)> undo)
    {
        for (int i = 0; i < width; i++)
        {
            undo.Push((offset + i, file[offset + i]));
            file[offset + i] = (byte)(value >> (8 * i));
        }
    }
}
