using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Threading;
using ExectOS.Descriptors;
using ExectOS.Tests.Snapshots;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;

namespace ExectOS.Tests.Descriptors;

/// <summary>Runs the descriptor generator the way the compiler does: AdditionalFiles in, sources and diagnostics out.</summary>
internal static class GeneratorHarness
{
    public static IEnumerable<string> RepositoryDescriptors()
        => Directory.EnumerateFiles(Path.Combine(Snapshot.RepositoryRoot, "descriptors"), "*.xd", SearchOption.AllDirectories).OrderBy(p => p, System.StringComparer.Ordinal);

    public static CSharpCompilation EmptyCompilation(string code = "namespace Probe { public static class P { } }")
    {
        // The generated code needs ExectOS.Memory's types: reference the hosted build that holds them.
        var references = new List<MetadataReference>
        {
            MetadataReference.CreateFromFile(typeof(object).Assembly.Location),
            MetadataReference.CreateFromFile(typeof(ExectOS.Memory.PhysicalAddress).Assembly.Location),
        };
        string runtime = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        references.Add(MetadataReference.CreateFromFile(Path.Combine(runtime, "System.Runtime.dll")));
        return CSharpCompilation.Create("Probe", new[] { CSharpSyntaxTree.ParseText(code) }, references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));
    }

    public static GeneratorDriver Driver(params AdditionalText[] files) => Driver(null, files);

    /// <summary>A driver as an image build runs it: <paramref name="imageArch"/> is the build's ImageArch (null: a hosted build).</summary>
    public static GeneratorDriver Driver(string? imageArch, params AdditionalText[] files)
        => CSharpGeneratorDriver.Create(
            new[] { new DescriptorGenerator().AsSourceGenerator() },
            files,
            optionsProvider: new BuildProperties(imageArch is null ? new Dictionary<string, string>() : new Dictionary<string, string> { ["build_property.ImageArch"] = imageArch }),
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    /// <summary>Generates from descriptor texts and compiles the result: diagnostics of both are returned.</summary>
    public static (GeneratorDriverRunResult Run, ImmutableArray<Diagnostic> CompileDiagnostics) Run(params (string Path, string Text)[] files)
        => Run(null, files);

    public static (GeneratorDriverRunResult Run, ImmutableArray<Diagnostic> CompileDiagnostics) Run(string? imageArch, params (string Path, string Text)[] files)
        => Run(imageArch, DiagnosticSeverity.Error, files);

    /// <summary>As <see cref="Run(string?, (string, string)[])"/>, returning the compiler's diagnostics from <paramref name="least"/> up (Warning: what the images' TreatWarningsAsErrors build refuses).</summary>
    public static (GeneratorDriverRunResult Run, ImmutableArray<Diagnostic> CompileDiagnostics) Run(string? imageArch, DiagnosticSeverity least, params (string Path, string Text)[] files)
    {
        GeneratorDriver driver = Driver(imageArch, files.Select(f => (AdditionalText)new InMemoryText(f.Path, f.Text)).ToArray());
        driver = driver.RunGeneratorsAndUpdateCompilation(EmptyCompilation(), out Compilation output, out _);
        var errors = output.GetDiagnostics().Where(d => d.Severity >= least).ToImmutableArray();
        return (driver.GetRunResult(), errors);
    }
}

/// <summary>An AdditionalText held in memory.</summary>
internal sealed class InMemoryText : AdditionalText
{
    private readonly SourceText _text;

    public InMemoryText(string path, string text)
    {
        Path = path;
        _text = SourceText.From(text);
    }

    public override string Path { get; }

    public override SourceText GetText(CancellationToken cancellationToken = default) => _text;
}

/// <summary>Global analyzer options (what MSBuild passes as build_property.*), for image-build runs of the generator.</summary>
internal sealed class BuildProperties : Microsoft.CodeAnalysis.Diagnostics.AnalyzerConfigOptionsProvider
{
    private readonly Options _global;

    public BuildProperties(Dictionary<string, string> values) => _global = new Options(values);

    public override Microsoft.CodeAnalysis.Diagnostics.AnalyzerConfigOptions GlobalOptions => _global;

    public override Microsoft.CodeAnalysis.Diagnostics.AnalyzerConfigOptions GetOptions(SyntaxTree tree) => Options.Empty;

    public override Microsoft.CodeAnalysis.Diagnostics.AnalyzerConfigOptions GetOptions(AdditionalText textFile) => Options.Empty;

    private sealed class Options : Microsoft.CodeAnalysis.Diagnostics.AnalyzerConfigOptions
    {
        public static readonly Options Empty = new(new Dictionary<string, string>());

        private readonly Dictionary<string, string> _values;

        public Options(Dictionary<string, string> values) => _values = values;

        public override bool TryGetValue(string key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? value)
            => _values.TryGetValue(key, out value);
    }
}
