using System;
using System.Linq;
using System.Reflection;
using CsCheck;
using ExectOS.Memory;
using Xunit;

namespace ExectOS.Tests.Descriptors;

/// <summary>Properties every generated paging mode must have, run through its IPagingMode implementation.</summary>
public class GeneratedModePropertyTests
{
    [Fact]
    public void EveryDescriptorModeIsGenerated()
    {
        string[] modes = GeneratedTypes.PagingModes().Select(t => t.Name).ToArray();
        Assert.Subset(modes.ToHashSet(), new[] { "Amd64", "Amd64La57", "I686", "I686Pae", "Sv39", "Sv48" }.ToHashSet());
    }

    [Theory]
    [MemberData(nameof(GeneratedTypes.PagingModeData), MemberType = typeof(GeneratedTypes))]
    public void LevelsTileTheVirtualAddress(string modeName) => Run(nameof(Levels), modeName);

    [Theory]
    [MemberData(nameof(GeneratedTypes.PagingModeData), MemberType = typeof(GeneratedTypes))]
    public void IndicesRebuildEveryCanonicalAddress(string modeName) => Run(nameof(Indices), modeName);

    [Theory]
    [MemberData(nameof(GeneratedTypes.PagingModeData), MemberType = typeof(GeneratedTypes))]
    public void CanonicalMeansSignExtendedOrInRange(string modeName) => Run(nameof(Canonical), modeName);

    [Theory]
    [MemberData(nameof(GeneratedTypes.PagingModeData), MemberType = typeof(GeneratedTypes))]
    public void PresentMaskIsWhatMakesAnEntryPresent(string modeName) => Run(nameof(Presence), modeName);

    [Theory]
    [MemberData(nameof(GeneratedTypes.PagingModeData), MemberType = typeof(GeneratedTypes))]
    public void NamedLevelHelpersAgreeWithTheGenericOnes(string modeName)
    {
        Type mode = GeneratedTypes.Named(modeName);
        foreach (MethodInfo helper in mode.GetMethods(BindingFlags.Public | BindingFlags.Static).Where(m => !m.IsSpecialName && m.Name.EndsWith("Index", StringComparison.Ordinal) && m.Name != "Index"))
        {
            string level = helper.Name[..^"Index".Length];
            int number = (int)mode.GetField(level + "Level")!.GetValue(null)!;
            Assert.Equal((int)mode.GetField(level + "Shift")!.GetValue(null)!, (int)mode.GetMethod("LevelShift")!.Invoke(null, [number])!);
            Gen.ULong.Sample(value =>
            {
                var address = new VirtualAddress(value);
                return (int)helper.Invoke(null, [address])! == (int)mode.GetMethod("Index")!.Invoke(null, [number, address])!;
            }, iter: 100);
        }
    }

    private static void Run(string check, string modeName)
        => typeof(GeneratedModePropertyTests).GetMethod(check, BindingFlags.NonPublic | BindingFlags.Static)!
            .MakeGenericMethod(GeneratedTypes.Named(modeName)).Invoke(null, null);

    private static void Levels<TMode>() where TMode : struct, IPagingMode
    {
        int bits = TMode.PageShift;
        for (int level = TMode.LevelCount - 1; level >= 0; level--)
        {
            Assert.Equal(bits, TMode.LevelShift(level));
            bits += TMode.LevelIndexBits(level);
        }
        Assert.Equal(TMode.VirtualBits, bits);
        Assert.True(TMode.LevelMapsPages(TMode.LevelCount - 1));
        // The slots lie within the top SelfMapLevels levels taken as one table.
        int spanned = Enumerable.Range(0, TMode.SelfMapLevels).Sum(TMode.LevelIndexBits);
        Assert.InRange(TMode.SelfMapLevels, 1, TMode.LevelCount - 1);
        Assert.InRange(TMode.SelfMapIndex, -1, (1 << spanned) - (TMode.SelfMapIndex < 0 ? 1 : SelfMap<TMode>.SlotCount));
        Assert.Contains(TMode.EntryBytes, new[] { 4, 8 });
        for (int i = 0; i < TMode.RequirementCount; i++)
            Assert.InRange(TMode.Requirement(i).Bit, 0, 31);
    }

    private static void Presence<TMode>() where TMode : struct, IPagingMode
    {
        for (int level = 0; level < TMode.LevelCount; level++)
        {
            ulong mask = TMode.PresentMask(level);
            Assert.Equal(1, System.Numerics.BitOperations.PopCount(mask));
            var kinds = new System.Collections.Generic.List<ulong>();
            if (TMode.LevelMapsPages(level))
                kinds.Add(TMode.MakePage(level, default, PageProtection.Writable));
            if (level < TMode.LevelCount - 1)
                kinds.Add(TMode.MakeTable(level, default, PageProtection.Writable));
            foreach (ulong entry in kinds)
            {
                Assert.NotEqual(0UL, entry & mask);
                Assert.NotEqual(EntryKind.NotPresent, TMode.Classify(level, entry));
                Assert.Equal(EntryKind.NotPresent, TMode.Classify(level, entry & ~mask));
            }
        }
    }

    private static void Indices<TMode>() where TMode : struct, IPagingMode
    {
        Gen.ULong.Sample(value =>
        {
            var address = new VirtualAddress(Canonicalize<TMode>(value));
            ulong rebuilt = address.Value & ((1UL << TMode.PageShift) - 1);
            for (int level = 0; level < TMode.LevelCount; level++)
            {
                int index = TMode.Index(level, address);
                if (index < 0 || index >= 1 << TMode.LevelIndexBits(level))
                    return false;
                rebuilt |= (ulong)index << TMode.LevelShift(level);
            }
            return rebuilt == Low<TMode>(address.Value);
        }, iter: 500);
    }

    private static void Canonical<TMode>() where TMode : struct, IPagingMode
    {
        Gen.ULong.Sample(value =>
        {
            ulong canonical = Canonicalize<TMode>(value);
            bool flipped = TMode.VirtualBits == 64 || TMode.IsCanonical(new VirtualAddress(canonical ^ (1UL << 63 - (TMode.CanonicalAddresses ? 0 : 1)))) == false;
            return TMode.IsCanonical(new VirtualAddress(canonical)) && flipped;
        }, iter: 500);
    }

    private static ulong Low<TMode>(ulong value) where TMode : struct, IPagingMode
        => TMode.VirtualBits == 64 ? value : value & ((1UL << TMode.VirtualBits) - 1);

    private static ulong Canonicalize<TMode>(ulong value) where TMode : struct, IPagingMode
    {
        if (TMode.VirtualBits == 64)
            return value;
        int unused = 64 - TMode.VirtualBits;
        // A split mode's high half: the low bits under all ones (bit 63 of the sample chooses the half).
        if (TMode.RootCount == 2 && (value >> 63) != 0)
            return Low<TMode>(value) | (ulong.MaxValue << TMode.VirtualBits);
        return TMode.CanonicalAddresses ? (ulong)((long)(value << unused) >> unused) : Low<TMode>(value);
    }
}
