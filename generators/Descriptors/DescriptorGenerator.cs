using System;
using System.Collections.Immutable;
using System.Linq;
using ExectOS.Descriptors.Binding;
using ExectOS.Descriptors.Emit;
using ExectOS.Descriptors.Model;
using Microsoft.CodeAnalysis;

namespace ExectOS.Descriptors;

/// <summary>
/// Compiles every descriptors/**/*.xd given as AdditionalFiles. Each file goes through its own
/// pipeline (text -> result -> source), so editing one descriptor regenerates only its output.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class DescriptorGenerator : IIncrementalGenerator
{
    /// <summary>Tracking names of the pipeline steps, for incrementality tests.</summary>
    public static class StepNames
    {
        public const string Compile = nameof(Compile);
        public const string CurrentImage = nameof(CurrentImage);
    }

    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        IncrementalValuesProvider<DescriptorResult> results = context.AdditionalTextsProvider
            .Where(static file => file.Path.EndsWith(".xd", StringComparison.OrdinalIgnoreCase))
            .Select(static (file, cancellationToken) =>
                DescriptorCompiler.Compile(file.Path, file.GetText(cancellationToken)?.ToString() ?? ""))
            .WithTrackingName(StepNames.Compile);

        // Each file's output also sees what every file declares: two files may not generate one name.
        IncrementalValueProvider<System.Collections.Immutable.ImmutableArray<FileSummary?>> summaries = results.Select(static (result, _) => FileSummary.Of(result)).Collect();
        context.RegisterSourceOutput(results.Combine(summaries), static (output, pair) =>
        {
            DescriptorResult result = pair.Left;
            foreach (DiagnosticInfo diagnostic in result.Diagnostics)
                output.ReportDiagnostic(diagnostic.ToDiagnostic());
            if (result.Model is null)
                return;
            if (FileClashes.Find(FileSummary.Of(result)!, pair.Right) is DiagnosticInfo clash)
                output.ReportDiagnostic(clash.ToDiagnostic());
            else
                output.AddSource(Emitter.HintName(result.Model), Emitter.Emit(result.Model));
        });

        // An image build (ImageArch set by kernel/Image.targets) also gets ExectOS.Paging.ImageModes, its own list.
        IncrementalValueProvider<string> imageArch = context.AnalyzerConfigOptionsProvider
            .Select(static (options, _) => options.GlobalOptions.TryGetValue("build_property.ImageArch", out string? value) ? value ?? "" : "");
        IncrementalValueProvider<CurrentImage> current = results.Collect().Combine(imageArch)
            .Select(static (pair, _) => CurrentImage.Find(pair.Left, pair.Right))
            .WithTrackingName(StepNames.CurrentImage);
        context.RegisterSourceOutput(current, static (output, image) =>
        {
            if (image.Source is not null)
                output.AddSource("ImageModes.g.cs", image.Source);
            else if (image.Missing is not null)
                output.ReportDiagnostic(Diagnostic.Create(DescriptorDiagnostics.Get(DescriptorDiagnostics.UnknownImage), Location.None, image.Missing));
        });
    }
}

/// <summary>The generated ImageModes source for the build's ImageArch, or why there is none (a value: cached by equality).</summary>
internal sealed record CurrentImage(string? Source, string? Missing)
{
    public static CurrentImage Find(System.Collections.Immutable.ImmutableArray<DescriptorResult> results, string imageArch)
    {
        // Projects without descriptors (the kernel and loader reference libxtos's generated types) get nothing.
        if (imageArch.Length == 0 || results.IsEmpty)
            return new CurrentImage(null, null);
        var summaries = results.Select(FileSummary.Of).ToImmutableArray();
        foreach (DescriptorResult result in results)
        {
            // A file that clashes with another generates nothing (its diagnostic says why): its image is not one to use.
            if (result.Model is null || FileClashes.Find(FileSummary.Of(result)!, summaries) is not null)
                continue;
            foreach (ImageModel image in result.Model.Images)
            {
                if (image.Name == imageArch)
                    return new CurrentImage(ImageEmitter.EmitCurrent(result.Model, image), null);
            }
        }
        // A descriptor with errors may be the one that declares it: those errors are the ones to read.
        foreach (DescriptorResult result in results)
        {
            if (result.Model is null)
                return new CurrentImage(null, null);
        }
        return new CurrentImage(null, $"ImageArch is '{imageArch}', but no descriptor declares 'image {imageArch} modes ...'; add it to descriptors/<architecture>/paging.xd");
    }
}
