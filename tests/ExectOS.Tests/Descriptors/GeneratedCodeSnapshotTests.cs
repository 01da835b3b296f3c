using System.Collections.Generic;
using System.IO;
using System.Linq;
using ExectOS.Descriptors.Binding;
using ExectOS.Descriptors.Emit;
using ExectOS.Tests.Snapshots;
using Xunit;

namespace ExectOS.Tests.Descriptors;

/// <summary>The code generated from every descriptor in descriptors/, compared with its reviewed snapshot.</summary>
public class GeneratedCodeSnapshotTests
{
    public static IEnumerable<object[]> Descriptors()
        => GeneratorHarness.RepositoryDescriptors().Select(p => new object[] { Path.GetRelativePath(Snapshot.RepositoryRoot, p) });

    [Theory]
    [MemberData(nameof(Descriptors))]
    public void GeneratedCodeMatchesTheReviewedSnapshot(string descriptor)
    {
        string path = Path.Combine(Snapshot.RepositoryRoot, descriptor);
        var result = DescriptorCompiler.Compile(path, File.ReadAllText(path));

        Assert.Empty(result.Diagnostics);
        Snapshot.Match("generated/" + Emitter.HintName(result.Model!).Replace(".g.cs", ""), Emitter.Emit(result.Model!));
    }

    [Theory]
    [MemberData(nameof(Descriptors))]
    public void GeneratedCodeCompilesWithoutWarnings(string descriptor)
    {
        string path = Path.Combine(Snapshot.RepositoryRoot, descriptor);
        var (run, compile) = GeneratorHarness.Run((path, File.ReadAllText(path)));

        Assert.Empty(run.Diagnostics);
        Assert.Single(run.GeneratedTrees, t => !t.FilePath.EndsWith("PagingLimits.g.cs", System.StringComparison.Ordinal));
        Assert.Empty(compile);
    }

    [Fact]
    public void OutputIsDeterministic()
    {
        string path = GeneratorHarness.RepositoryDescriptors().First();
        string text = File.ReadAllText(path);
        Assert.Equal(Emitter.Emit(DescriptorCompiler.Compile(path, text).Model!), Emitter.Emit(DescriptorCompiler.Compile("/elsewhere/" + DescriptorsRelative(path), text).Model!));
    }

    private static string DescriptorsRelative(string path) => path.Substring(path.Replace('\\', '/').LastIndexOf("descriptors/", System.StringComparison.Ordinal));
}
