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
        public const string Limits = nameof(Limits);
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
        // The largest page the build's modes use (the image's, or every descriptor's in a build for no image): what the
        // memory manager sizes by it (the pools' free lists) costs an image only what its own modes need.
        IncrementalValueProvider<string?> limits = results.Collect().Combine(imageArch)
            .Select(static (pair, _) => PagingLimits.Emit(pair.Left, pair.Right))
            .WithTrackingName(StepNames.Limits);
        context.RegisterSourceOutput(limits, static (output, source) =>
        {
            if (source is not null)
                output.AddSource("PagingLimits.g.cs", source);
        });

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

/// <summary>Writes <c>ExectOS.Paging.PagingLimits</c>: the largest page shift of the modes a build compiles for.</summary>
internal static class PagingLimits
{
    public static string? Emit(System.Collections.Immutable.ImmutableArray<DescriptorResult> results, string imageArch)
    {
        var models = results.Where(r => r.Model is not null).Select(r => r.Model!).ToList();
        if (models.Count == 0)
            return null;
        ImageModel? image = imageArch.Length == 0 ? null : models.SelectMany(m => m.Images).FirstOrDefault(i => i.Name == imageArch);
        var modes = models.SelectMany(m => m.Modes).Where(m => image is null || image.Modes.Any(i => i.Mode == m.Name)).ToList();
        if (modes.Count == 0)
            return null;
        var w = new CodeWriter();
        Emitter.WriteHeader(w, image is null ? "from every descriptor" : $"for ImageArch={imageArch}");
        w.Open("namespace ExectOS.Paging");
        w.Line($"/// <summary>Limits over the paging modes of {(image is null ? "every descriptor" : $"image {imageArch}")}.</summary>");
        w.Open("public static class PagingLimits");
        w.Line("/// <summary>The largest page any of the modes uses, as a shift.</summary>");
        w.Line($"public const int MaxPageShift = {modes.Max(m => m.PageShift)};");
        w.Close();
        w.Close();
        return w.ToString();
    }
}
