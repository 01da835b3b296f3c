using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Numerics;
using System.Reflection;
using ExectOS.Descriptors.Binding;
using ExectOS.Descriptors.Model;
using ExectOS.Memory;
using Xunit;

namespace ExectOS.Tests.Descriptors;

/// <summary>Every generated kernel layout, swept across its supported page counts.</summary>
public class GeneratedLayoutTests
{
    public static IEnumerable<object[]> Layouts()
        => typeof(PhysicalAddress).Assembly.GetTypes().Where(t => t.IsValueType && typeof(ILayout).IsAssignableFrom(t))
            .OrderBy(t => t.FullName, StringComparer.Ordinal).Select(t => new object[] { t.FullName! });

    [Fact]
    public void EveryDescriptorLayoutIsGenerated()
        => Assert.Equal(new[] { "AArch64Kernel16K", "AArch64Kernel4K", "AArch64Kernel64K", "Amd64Kernel", "Amd64La57Kernel", "I686Kernel", "I686PaeKernel" }, Layouts().Select(l => ((string)l[0]).Split('.').Last()).Order());

    [Theory]
    [MemberData(nameof(Layouts))]
    public void RegionsAreDisjointAlignedCanonicalAndNeverEndLowerWithMoreMemory(string layout) => Run(nameof(Sweep), layout);

    [Theory]
    [MemberData(nameof(Layouts))]
    public void PageCountsOutsideTheRangeAreRefused(string layout) => Run(nameof(Range), layout);

    [Theory]
    [MemberData(nameof(Layouts))]
    public void GeneratedCodeAgreesWithTheCompilersProof(string layout) => Run(nameof(AgreesWithEvaluator), layout);

    private static void Run(string test, string layout)
        => typeof(GeneratedLayoutTests).GetMethod(test, BindingFlags.NonPublic | BindingFlags.Static)!
            .MakeGenericMethod(GeneratedTypes.Named(layout)).Invoke(null, null);

    /// <summary>Dense near every power of two and the range ends, plus random counts.</summary>
    internal static IEnumerable<ulong> PageCounts<TLayout>(int random = 300) where TLayout : struct, ILayout
    {
        var counts = new SortedSet<ulong> { TLayout.MinimumPages, TLayout.MaximumPages };
        for (int k = 0; k < 63; k++)
        {
            for (long delta = -3; delta <= 3; delta++)
                counts.Add((ulong)((long)(1UL << k) + delta));
        }
        var generator = new Random(TLayout.Name.Length);
        for (int i = 0; i < random; i++)
            counts.Add(TLayout.MinimumPages + (ulong)(generator.NextDouble() * (TLayout.MaximumPages - TLayout.MinimumPages)));
        return counts.Where(p => p >= TLayout.MinimumPages && p <= TLayout.MaximumPages);
    }

    private static void Sweep<TLayout>() where TLayout : struct, ILayout
    {
        var regions = new LayoutRegion[TLayout.RegionCount];
        LayoutRegion[]? previous = null;
        foreach (ulong pages in PageCounts<TLayout>())
        {
            Assert.True(TLayout.Compute(pages, regions), $"{pages} pages refused");
            var ordered = regions.Select((r, i) => (Region: r, Name: TLayout.RegionName(i))).Where(r => r.Region.Size > 0).OrderBy(r => r.Region.Start.Value).ToArray();
            for (int i = 0; i < ordered.Length; i++)
            {
                var (region, name) = ordered[i];
                Assert.True(region.Start.IsAligned(12) && region.Size % 4096 == 0, $"{name} misaligned with {pages} pages");
                Assert.True(region.End.Value > region.Start.Value || region.End.Value == 0, $"{name} wraps with {pages} pages");
                Assert.True(TLayout.IsCanonical(region.Start) && TLayout.IsCanonical(new VirtualAddress(region.End.Value - 1)), $"{name} leaves the address space with {pages} pages");
                if (i > 0)
                    Assert.True(ordered[i - 1].Region.End.Value <= region.Start.Value || ordered[i - 1].Region.End.Value == 0,
                        $"{ordered[i - 1].Name} and {name} overlap with {pages} pages");
            }
            // Growth: no region's end moves down as memory grows. (A size alone may shrink when the region
            // before it grows by more: the non-paged expansion is the maximum pool minus the initial one.)
            if (previous is not null)
            {
                for (int i = 0; i < regions.Length; i++)
                    Assert.True(regions[i].End.Value - 1 >= previous[i].End.Value - 1, $"{TLayout.RegionName(i)} ends lower as memory grows to {pages} pages");
            }
            previous = (LayoutRegion[])regions.Clone();
        }
    }

    private static void Range<TLayout>() where TLayout : struct, ILayout
    {
        var regions = new LayoutRegion[TLayout.RegionCount];
        Assert.False(TLayout.Compute(TLayout.MinimumPages - 1, regions));
        Assert.False(TLayout.Compute(TLayout.MaximumPages + 1, regions));
        Assert.False(TLayout.Compute(TLayout.MinimumPages, new LayoutRegion[TLayout.RegionCount - 1]));
        Assert.True(TLayout.Compute(TLayout.MinimumPages, regions));
    }

    private static void AgreesWithEvaluator<TLayout>() where TLayout : struct, ILayout
    {
        LayoutModel model = GeneratorHarness.RepositoryDescriptors()
            .Select(path => DescriptorCompiler.Compile(path, File.ReadAllText(path)).Model!)
            .SelectMany(m => m.Layouts).Single(l => l.Name == TLayout.Name);
        var regions = new LayoutRegion[TLayout.RegionCount];
        foreach (ulong pages in PageCounts<TLayout>(random: 2000))
        {
            Assert.True(TLayout.Compute(pages, regions));
            var expected = LayoutEvaluator.Evaluate(model, pages, out _, out string? why);
            Assert.True(expected is not null, why);
            for (int i = 0; i < regions.Length; i++)
            {
                (BigInteger start, BigInteger end) = expected![TLayout.RegionName(i)];
                Assert.Equal((ulong)start, regions[i].Start.Value);
                Assert.Equal((ulong)(end - start), regions[i].Size);
            }
        }
    }
}
