using System.Collections.Immutable;
using System.Linq;
using System.Threading.Tasks;
using ExectOS.Descriptors;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Xunit;

namespace ExectOS.Tests.Descriptors;

/// <summary>XD0100: discarding the TLB flush of a page-table change does not compile.</summary>
public class TlbFlushAnalyzerTests
{
    private const string Code = """
        using ExectOS.Memory;
        using ExectOS.Paging.X86;
        struct Tlb : ITranslationCache { public static void Invalidate(VirtualAddress address) { } }
        static class Caller
        {
            static void Use<TMemory, TAllocator>(PageTable<Amd64> table, ref TMemory memory, ref TAllocator allocator)
                where TMemory : struct, IPhysicalMemory where TAllocator : struct, IFrameAllocator
            {
                table.Map(ref memory, ref allocator, default, default, 3, PageProtection.Read, out TlbFlush kept);
                kept.Flush<Tlb>();
                table.Map(ref memory, ref allocator, default, default, 3, PageProtection.Read, out var ignored);
                ignored.Ignore();
                table.Unmap(ref memory, ref allocator, default, out _, out _, out _);
            }
        }
        """;

    [Fact]
    public async Task DiscardedFlushIsAnErrorAtTheDiscard()
    {
        CSharpCompilation compilation = GeneratorHarness.EmptyCompilation(Code);
        Assert.Empty(compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));

        ImmutableArray<Diagnostic> diagnostics = await compilation
            .WithAnalyzers(ImmutableArray.Create<DiagnosticAnalyzer>(new TlbFlushAnalyzer()))
            .GetAnalyzerDiagnosticsAsync();

        Diagnostic diagnostic = Assert.Single(diagnostics);
        Assert.Equal(TlbFlushAnalyzer.Id, diagnostic.Id);
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        // The third `out _` of the Unmap call: the flush, not the frame or the level.
        FileLinePositionSpan span = diagnostic.Location.GetLineSpan();
        Assert.Equal(12, span.StartLinePosition.Line);
        Assert.Equal(Code.Split('\n')[12].LastIndexOf("out _"), span.StartLinePosition.Character);
    }
}
