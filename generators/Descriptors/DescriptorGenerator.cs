using System;
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
    }

    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        IncrementalValuesProvider<DescriptorResult> results = context.AdditionalTextsProvider
            .Where(static file => file.Path.EndsWith(".xd", StringComparison.OrdinalIgnoreCase))
            .Select(static (file, cancellationToken) =>
                DescriptorCompiler.Compile(file.Path, file.GetText(cancellationToken)?.ToString() ?? ""))
            .WithTrackingName(StepNames.Compile);

        context.RegisterSourceOutput(results, static (output, result) =>
        {
            foreach (DiagnosticInfo diagnostic in result.Diagnostics)
                output.ReportDiagnostic(diagnostic.ToDiagnostic());
            if (result.Model is not null)
                output.AddSource(Emitter.HintName(result.Model), Emitter.Emit(result.Model));
        });
    }
}
