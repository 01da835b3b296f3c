using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using ExectOS.Descriptors.Binding;
using ExectOS.Descriptors.Model;
using Microsoft.CodeAnalysis;
using Xunit;

namespace ExectOS.Tests.Descriptors;

/// <summary>
/// The base of the malformed-descriptor corpus (its cases are files now: <see cref="DescriptorCorpusTests"/>),
/// how a diagnostic reaches the compiler, and random damage.
/// </summary>
public class DescriptorDiagnosticTests
{
    private const string Path = "/repo/descriptors/test/paging.xd";

    private const string Valid = """
        architecture Test
        entry Table bits 32 {
            frame Next [31:12]
            reserved [11:2]
            flag Large [1] = 0 role large
            flag Valid [0] role present
        }
        entry Big bits 32 {
            frame Page [31:22]
            reserved [21:2]
            flag Large [1] = 1 role large
            flag Present [0] role present
        }
        entry Small bits 32 {
            frame Page [31:12]
            reserved [11:1]
            flag On [0] role present
        }
        feature Pse cpuid 1 edx 3
        mode Two {
            virtual 32
            physical 32
            page 4K
            entry 32
            level Top 10 table Table page Big
            level Leaf 10 page Small
            requires Pse
        }
        layout Space for Two {
            pages 16 .. 0x100000
            let half = pages / 2
            region Low at 0x1000 size 4K
            region Pool after Low size half * 4K max 64M
            region High at 0xFFC00000 size 4M
        }
        image test modes Two
        """;

    [Fact]
    public void TheBaseDescriptorIsValid()
    {
        DescriptorResult result = DescriptorCompiler.Compile(Path, Valid);
        Assert.Empty(result.Diagnostics);
        Assert.Equal(new[] { "Table", "Big", "Small" }, result.Model!.Formats.Select(f => f.Name));
        Assert.Equal(new[] { 22, 12 }, result.Model.Modes[0].Levels.Select(l => l.Shift));
    }

    [Fact]
    public void TheCompilerReportsDescriptorFileLineAndColumn()
    {
        (string text, int line, int column) = Apply(["flag On [0] role present", "flag On [0] role ⟨presnt"]);
        var (run, _) = GeneratorHarness.Run((Path, text));

        Diagnostic diagnostic = Assert.Single(run.Diagnostics);
        FileLinePositionSpan span = diagnostic.Location.GetLineSpan();
        Assert.Equal("XD0013", diagnostic.Id);
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        Assert.Equal(Path, span.Path);
        Assert.Equal((line, column), (span.StartLinePosition.Line + 1, span.StartLinePosition.Character + 1));
        Assert.Empty(run.GeneratedTrees);
    }

    [Fact]
    public void RandomDamageNeverCrashesTheCompiler()
    {
        string original = File.ReadAllText(GeneratorHarness.RepositoryDescriptors().First(p => p.Contains("x86")));
        var random = new Random(1124);
        const string alphabet = "[]{}:=;#\n 0123456789abcxyz_-";
        for (int round = 0; round < 600; round++)
        {
            char[] text = original.ToCharArray();
            for (int edits = 1 + random.Next(3); edits > 0; edits--)
                text[random.Next(text.Length)] = alphabet[random.Next(alphabet.Length)];
            DescriptorResult result = DescriptorCompiler.Compile(Path, new string(text));
            Assert.DoesNotContain(result.Diagnostics, d => d.Id == DescriptorDiagnostics.Internal);
            Assert.True(result.Model is null == result.Diagnostics.Count > 0);
        }
    }

    // Edits come in pairs (find, replace). '⟨' in a replacement marks the expected diagnostic position.
    private static (string Text, int Line, int Column) Apply(string[] edits)
    {
        string text = Valid.Replace("\r\n", "\n") + "\nentry Wide bits 64 {\n    frame Page [63:12]\n    reserved [11:1]\n    flag On [0] role present\n}\n";
        for (int i = 0; i < edits.Length; i += 2)
        {
            int at = text.IndexOf(edits[i], StringComparison.Ordinal);
            Assert.True(at >= 0, $"edit {i / 2}: '{edits[i]}' is not in the descriptor");
            text = text.Substring(0, at) + edits[i + 1] + text.Substring(at + edits[i].Length);
        }
        int marker = text.IndexOf('⟨');
        Assert.True(marker >= 0, "no ⟨ marker");
        string before = text.Substring(0, marker);
        int line = before.Count(c => c == '\n') + 1;
        int column = marker - (before.LastIndexOf('\n') + 1) + 1;
        return (text.Remove(marker, 1), line, column);
    }
}
