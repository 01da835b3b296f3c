using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using ExectOS.Descriptors.Binding;
using ExectOS.Descriptors.Model;
using ExectOS.Memory;
using Microsoft.CodeAnalysis;
using Xunit;

namespace ExectOS.Tests.Descriptors;

/// <summary>
/// The generated mode identities and image mode lists: the loader block names a mode by its id, and the
/// loader and kernel enter their generic code once through an image's Dispatch.
/// </summary>
public class ImageModeTests
{
    /// <summary>Every generated image class (Amd64Image, I686Image ...) in the hosted build.</summary>
    public static IEnumerable<object[]> Images() => GeneratedTypes.Images().Select(t => new object[] { t.FullName! });

    [Fact]
    public void ModeIdsAreUniqueAcrossEveryDescriptor()
    {
        var ids = GeneratedTypes.PagingModes().Select(t => ((string)Static(t, "Name"), (uint)Static(t, "Id"))).ToList();
        Assert.True(ids.Count >= 6, "the x86 and RISC-V modes are generated");
        Assert.Equal(ids.Count, ids.Select(i => i.Item2).Distinct().Count());
        Assert.DoesNotContain(ids, i => i.Item2 == 0);
    }

    [Fact]
    public void ModeIdIsTheHashOfArchitectureAndName()
    {
        // Stable across builds and descriptor order: a change here breaks every loader/kernel pair in the field.
        Assert.Equal(ModeBinder.ModeId("X86", "Amd64"), ExectOS.Paging.X86.Amd64.Id);
        Assert.NotEqual(ModeBinder.ModeId("X86", "Amd64"), ModeBinder.ModeId("RiscV", "Amd64"));
    }

    [Fact]
    public void TheX86ImagesPreferTheMostCapableMode()
    {
        Assert.Equal(new[] { "Amd64La57", "Amd64" }, Visit(typeof(ExectOS.Paging.X86.Amd64Image)).Select(v => v.Mode));
        Assert.Equal(new[] { "I686Pae", "I686" }, Visit(typeof(ExectOS.Paging.X86.I686Image)).Select(v => v.Mode));
        Assert.Equal(new[] { "Amd64La57Kernel", "Amd64Kernel" }, Visit(typeof(ExectOS.Paging.X86.Amd64Image)).Select(v => v.Layout));
    }

    [Theory]
    [MemberData(nameof(Images))]
    public void DispatchEntersEveryListedModeAndRefusesOthers(string image)
    {
        Type type = typeof(PhysicalAddress).Assembly.GetType(image, throwOnError: true)!;
        var visited = Visit(type);
        Assert.NotEmpty(visited);
        foreach (var (mode, layout, id) in visited)
        {
            Type modeType = GeneratedTypes.PagingModes().Single(t => t.Name == mode);
            Assert.Equal((uint)Static(modeType, "Id"), id);
            // The layout handed over is the one made for that mode: it judges addresses as the mode does, on addresses
            // that tell the x86 modes apart (a 48-bit hole, a 57-bit hole, above 4 GiB).
            Type layoutType = typeof(PhysicalAddress).Assembly.GetTypes().Single(t => t.Name == layout && typeof(ILayout).IsAssignableFrom(t));
            foreach (ulong probe in new[] { 0UL, 0x100000000UL, 0x0000800000000000UL, 0xFFFF800000000000UL, 0x0100000000000000UL, 0xFF00000000000000UL })
            {
                object[] address = { new VirtualAddress(probe) };
                Assert.Equal(modeType.GetMethod("IsCanonical")!.Invoke(null, address), layoutType.GetMethod("IsCanonical")!.Invoke(null, address));
            }
        }
        Assert.False(GeneratedTypes.Dispatch(type, 0, out _, out _));
        Assert.False(GeneratedTypes.Dispatch(type, visited[0].Id ^ 1, out _, out _));
    }

    [Fact]
    public void AnImageBuildGetsItsOwnModeList()
    {
        string x86 = GeneratorHarness.RepositoryDescriptors().First(p => p.Contains("x86"));
        var (run, errors) = GeneratorHarness.Run("i686", (x86, File.ReadAllText(x86)));
        Assert.Empty(run.Diagnostics);
        Assert.Empty(errors);
        string source = run.GeneratedTrees.Single(t => t.FilePath.EndsWith("ImageModes.g.cs", StringComparison.Ordinal)).ToString();
        Assert.Contains("public static class ImageModes", source);
        Assert.Contains("=> X86.I686Image.Dispatch(modeId, ref visitor);", source);

        // A hosted build (no ImageArch) gets no ImageModes.
        var (hosted, _) = GeneratorHarness.Run((x86, File.ReadAllText(x86)));
        Assert.DoesNotContain(hosted.GeneratedTrees, t => t.FilePath.EndsWith("ImageModes.g.cs", StringComparison.Ordinal));
    }

    [Fact]
    public void TheLargestPageIsTheBuildsOwn()
    {
        // An amd64 image build: its modes' 4 KiB pages; a hosted build with every descriptor: AArch64's 64 KiB granule.
        string x86 = GeneratorHarness.RepositoryDescriptors().First(p => p.Contains("x86"));
        string arm = GeneratorHarness.RepositoryDescriptors().First(p => p.Contains("aarch64"));
        (string, string)[] both = [(x86, File.ReadAllText(x86)), (arm, File.ReadAllText(arm))];
        string Limits(Microsoft.CodeAnalysis.GeneratorDriverRunResult run)
            => run.GeneratedTrees.Single(t => t.FilePath.EndsWith("PagingLimits.g.cs", StringComparison.Ordinal)).ToString();
        Assert.Contains("public const int MaxPageShift = 12;", Limits(GeneratorHarness.Run("amd64", both).Run));
        Assert.Contains("public const int MaxPageShift = 16;", Limits(GeneratorHarness.Run(both).Run));
        Assert.Equal(16, ExectOS.Paging.PagingLimits.MaxPageShift);
        Assert.Equal(16, ExectOS.Memory.Pool.MaxPageShift);
    }

    [Fact]
    public void ImageArchWithoutADescriptorIsReported()
    {
        string x86 = GeneratorHarness.RepositoryDescriptors().First(p => p.Contains("x86"));
        var (run, _) = GeneratorHarness.Run("sparc", (x86, File.ReadAllText(x86)));
        Diagnostic diagnostic = Assert.Single(run.Diagnostics);
        Assert.Equal(DescriptorDiagnostics.UnknownImage, diagnostic.Id);
        Assert.Contains("'sparc'", diagnostic.GetMessage());
        Assert.DoesNotContain(run.GeneratedTrees, t => t.FilePath.EndsWith("ImageModes.g.cs", StringComparison.Ordinal));
    }

    [Fact]
    public void RequirementsNameTheFeatureAndHowToProbeIt()
    {
        FeatureRequirement la57 = ExectOS.Paging.X86.Amd64La57.Requirement(0);
        Assert.Equal(1, ExectOS.Paging.X86.Amd64La57.RequirementCount);
        Assert.Equal(("La57", FeatureProbe.CpuId, 7u, 0u, 2, 16), (la57.Name, la57.Probe, la57.Selector, la57.Subselector, la57.Word, la57.Bit));
        Assert.Equal("Pae", ExectOS.Paging.X86.I686Pae.Requirement(0).Name);
        Assert.Equal(0, ExectOS.Paging.X86.Amd64.RequirementCount);
    }

    private static object Static(Type type, string property) => type.GetProperty(property, BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!;

    private static List<(string Mode, string Layout, uint Id)> Visit(Type image)
    {
        var result = new List<(string, string, uint)>();
        int count = (int)Static(image, "ModeCount");
        for (int i = 0; i < count; i++)
        {
            uint id = (uint)image.GetMethod("ModeId")!.Invoke(null, new object[] { i })!;
            Assert.True(GeneratedTypes.Dispatch(image, id, out Type? mode, out Type? layout));
            result.Add(((string)Static(mode!, "Name"), (string)Static(layout!, "Name"), id));
        }
        return result;
    }
}
