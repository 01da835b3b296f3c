using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace ExectOS.Descriptors;

/// <summary>
/// XD0100: a page-table change's TlbFlush must be used. Discarding it (`out _`) would leave stale
/// translations in the TLB when the tables are live; callers say Flush() or, for tables not yet
/// loaded, Ignore(). Enforced wherever the analyzer is referenced (loader and kernel code).
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class TlbFlushAnalyzer : DiagnosticAnalyzer
{
    public const string Id = "XD0100";

    private static readonly DiagnosticDescriptor Rule = new(
        Id, "TLB flush discarded",
        "The TLB flush of this page-table change is discarded; keep it and call Flush<TCache>() once the tables are live, or Ignore() while they are not",
        "ExectOS.Memory", DiagnosticSeverity.Error, isEnabledByDefault: true);

    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => ImmutableArray.Create(Rule);

    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterOperationAction(static operation =>
        {
            var argument = (IArgumentOperation)operation.Operation;
            if (argument.Parameter is { RefKind: RefKind.Out } parameter
                && parameter.Type is INamedTypeSymbol { Name: "TlbFlush", ContainingNamespace: { Name: "Memory", ContainingNamespace.Name: "ExectOS" } }
                && argument.Value is IDiscardOperation)
            {
                operation.ReportDiagnostic(Diagnostic.Create(Rule, argument.Syntax.GetLocation()));
            }
        }, OperationKind.Argument);
    }
}
