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
/// Malformed descriptors: each case edits a valid descriptor and marks with '⟨' the token the error
/// must point at. The test asserts the diagnostic id at that line and column, and that nothing crashed.
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

    public static IEnumerable<object[]> Cases() => new (string Id, string Why, string[] Edits)[]
    {
        ("XD0001", "missing colon in a position", ["frame Next [31:12]", "frame Next [31 ⟨12]"]),
        ("XD0001", "flag without a name", ["flag On [0] role present", "⟨flag [0] role present"]),
        ("XD0001", "level without its bits", ["level Leaf 10 page Small", "level ⟨Leaf page Small"]),
        ("XD0002", "unknown declaration", ["mode Two {", "⟨paging X\nmode Two {"]),
        ("XD0002", "unknown field kind", ["reserved [11:1]", "⟨bitfield X [11:1]"]),
        ("XD0002", "unknown mode statement", ["page 4K", "⟨pages 4K"]),
        ("XD0003", "entry declared twice", ["mode Two {", "entry ⟨Small bits 32 {\n    frame Page [31:12]\n    reserved [11:1]\n    flag On [0] role present\n}\nmode Two {"]),
        ("XD0003", "field declared twice", ["reserved [11:1]\n    flag On [0]", "flag On [11]\n    reserved [10:1]\n    flag ⟨On [0]"]),
        ("XD0003", "field named like a generated member", ["reserved [11:1]", "flag ⟨Value [11]\n    reserved [10:1]"]),
        ("XD0004", "unknown format in a level", ["level Leaf 10 page Small", "level Leaf 10 page ⟨Tiny"]),
        ("XD0004", "unknown fields block", ["reserved [11:1]", "use ⟨Nothing"]),
        ("XD0004", "unknown base mode", ["mode Two {", "mode Three extends ⟨Four {\n}\nmode Two {"]),
        ("XD0005", "overlapping fields", ["reserved [11:1]\n    flag On [0]", "reserved [11:0]\n    flag On [⟨0]"]),
        ("XD0006", "gap between fields", ["reserved [11:2]\n    flag Large [1] = 0", "reserved [11:3]\n    flag Large [⟨1] = 0"]),
        ("XD0006", "format shorter than its width", ["entry Small bits 32 {\n    frame Page [31:12]\n    reserved [11:1]\n    flag On [0] role present", "entry ⟨Small bits 32 {\n    frame Page [31:12]\n    reserved [11:2]\n    flag On [1] role present"]),
        ("XD0007", "position past the width", ["frame Next [31:12]", "frame Next [⟨32:12]"]),
        ("XD0007", "width running past bit 0", ["reserved [11:1]\n    flag On", "reserved ⟨13\n    flag On"]),
        ("XD0008", "entry of 48 bits", ["entry Small bits 32", "entry Small bits ⟨48"]),
        ("XD0008", "mode with 16-bit entries", ["entry 32", "entry ⟨16"]),
        ("XD0009", "low bit above high bit", ["reserved [11:1]", "reserved [1:⟨11]"]),
        ("XD0009", "flag two bits wide", ["reserved [11:1]", "reserved [11:3]\n    flag ⟨Wide [2:1]"]),
        ("XD0009", "align on a number", ["reserved [11:1]", "number N [11:1] align ⟨12"]),
        ("XD0010", "index bits do not add up", ["virtual 32", "virtual ⟨33"]),
        ("XD0011", "format wider than the mode's entries", ["level Leaf 10 page Small", "level Leaf 10 page ⟨Wide"]),
        ("XD0012", "large-page frame at the last level", ["level Leaf 10 page Small", "level Leaf 10 page ⟨Big"]),
        ("XD0013", "unknown role", ["flag On [0] role present", "flag On [0] role ⟨presnt"]),
        ("XD0014", "role given twice", ["flag Large [1] = 0 role large\n    flag Valid [0] role present", "flag Large [1] = 0 role present\n    flag Valid [0] role ⟨present"]),
        ("XD0015", "mode without physical", ["mode Two {\n    virtual 32\n    physical 32", "mode ⟨Two {\n    virtual 32"]),
        ("XD0016", "last level with a table", ["level Leaf 10 page Small", "level ⟨Leaf 10 table Table page Small"]),
        ("XD0016", "inner level without a table", ["level Top 10 table Table page Big", "level ⟨Top 10 page Big"]),
        ("XD0017", "self-map outside the root", ["page 4K", "page 4K\n    self-map ⟨1024"]),
        ("XD0018", "page size not a power of two", ["page 4K", "page ⟨3000"]),
        ("XD0019", "fixed number", ["reserved [11:1]", "number N [11:1] = ⟨1"]),
        ("XD0019", "flag fixed to 2", ["flag Large [1] = 0 role large", "flag Large [1] = ⟨2 role large"]),
        ("XD0020", "enum value too large", ["reserved [11:1]", "enum Kind [11:10] { A = 0, B = ⟨4 }\n    reserved [9:1]"]),
        ("XD0020", "enum member twice", ["reserved [11:1]", "enum Kind [11:10] { A = 0, ⟨A = 1 }\n    reserved [9:1]"]),
        ("XD0021", "frame beyond physical bits", ["physical 32", "physical 31", "level Top 10 table Table", "level Top 10 table ⟨Table"]),
        ("XD0022", "physical wider than frames", ["physical 32", "physical 36", "level Top 10 table Table", "level Top 10 table ⟨Table"]),
        ("XD0022", "virtual above 64 bits", ["virtual 32", "virtual ⟨65"]),
        ("XD0023", "mode extending itself", ["mode Two {", "mode Three extends ⟨Three {\n}\nmode Two {"]),
        ("XD0024", "fields block using itself", ["reserved [11:1]", "use A", "mode Two {", "fields A {\n    use B\n}\nfields B {\n    use ⟨A\n}\nmode Two {"]),
        ("XD0025", "format without a frame", ["frame Page [31:12]\n    reserved [11:1]", "number Page [31:12]\n    reserved [11:1]", "entry Small", "entry ⟨Small"]),
        ("XD0025", "format without a present flag", ["flag On [0] role present", "flag On [0]", "entry Small", "entry ⟨Small"]),
        ("XD0026", "no architecture line", ["architecture Test\n", "⟨"]),
        ("XD0026", "architecture twice", ["entry Table", "architecture ⟨Other\nentry Table"]),
        ("XD0027", "malformed number", ["virtual 32", "virtual ⟨3x2"]),
        ("XD0028", "table and large page alike", ["flag Large [1] = 1 role large", "flag Large [1] = 0 role large", "level Top", "level ⟨Top"]),
        ("XD0029", "unknown CPUID register", ["feature Pse cpuid 1 edx 3", "feature Pse cpuid 1 ⟨esx 3"]),
        ("XD0001", "feature without a probe", ["feature Pse cpuid 1 edx 3", "feature Pse ⟨3"]),
        ("XD0004", "requirement of an undeclared feature", ["requires Pse", "requires ⟨Pae"]),
        ("XD0003", "feature declared twice", ["feature Pse cpuid 1 edx 3", "feature Pse cpuid 1 edx 3\nfeature ⟨Pse cpuid 1 edx 4"]),
        ("XD0004", "image of an unknown mode", ["image test modes Two", "image test modes Two, ⟨Three"]),
        ("XD0001", "image without its mode list", ["image test modes Two", "image test ⟨Two"]),
        ("XD0036", "image mode without a layout", ["image test modes Two", "mode Three extends Two {\n}\nimage test modes Two, ⟨Three"]),
        ("XD0036", "image listing a mode twice", ["image test modes Two", "image test modes Two, ⟨Two"]),
        ("XD0037", "two image modes with one identifier", ["image test modes Two", "mode M7a9cf extends Two {\n}\nmode Mad928 extends Two {\n}\nlayout L1 for M7a9cf extends Space {\n}\nlayout L2 for Mad928 extends Space {\n}\nimage test modes M7a9cf, ⟨Mad928"]),
        ("XD0030", "regions overlapping for large memory", ["region High at 0xFFC00000", "region ⟨High at 0x3000000"]),
        ("XD0031", "region start not page-aligned", ["region Low at 0x1000", "region Low at ⟨0x1800"]),
        ("XD0031", "region start not aligned to its own alignment", ["region High at 0xFFC00000 size 4M", "region High at ⟨0xFFC00000 size 4M align 8M"]),
        ("XD0032", "region past the 32-bit address space", ["region High at 0xFFC00000 size 4M", "region ⟨High at 0xFFC00000 size 8M"]),
        ("XD0033", "negative region size", ["region Pool after Low size half * 4K max 64M", "region Pool after Low ⟨size half * 4K - 1G max 64M"]),
        ("XD0033", "division by zero", ["region Pool after Low size half * 4K max 64M", "region Pool after Low ⟨size half / (pages - pages) max 64M"]),
        ("XD0034", "page range upside down", ["pages 16 .. 0x100000", "pages ⟨32 .. 16"]),
        ("XD0035", "layout without pages", ["layout Space for Two {\n    pages 16 .. 0x100000\n", "layout ⟨Space for Two {\n"]),
        ("XD0001", "malformed formula", ["size half * 4K max", "size half * ⟨* 4K max"]),
        ("XD0004", "unknown name in a formula", ["size half * 4K max", "size ⟨quarter * 4K max"]),
        ("XD0004", "region after an undeclared region", ["region Pool after Low", "region Pool after ⟨Nothing"]),
        ("XD0004", "layout for an unknown mode", ["layout Space for Two", "layout Space for ⟨Three"]),
        ("XD0003", "let named like a region", ["let half = pages / 2", "let half = pages / 2\n    let ⟨half = 3"]),
        ("XD0023", "layout extending itself", ["layout Space for Two", "layout Loop for Two extends ⟨Loop {\n}\nlayout Space for Two"]),
    }.Select(c => new object[] { c.Id, c.Why, c.Edits });

    [Theory]
    [MemberData(nameof(Cases))]
    public void DiagnosticPointsAtTheMistake(string id, string why, string[] edits)
    {
        (string text, int line, int column) = Apply(edits);

        DescriptorResult result = DescriptorCompiler.Compile(Path, text);

        Assert.Null(result.Model);
        Assert.DoesNotContain(result.Diagnostics, d => d.Id == DescriptorDiagnostics.Internal);
        // The mistake is reported first, at its token; anything after it is the same mistake elsewhere, never a cascade.
        DiagnosticInfo first = result.Diagnostics.FirstOrDefault()!;
        Assert.True(first is not null && first.Id == id && first.Span.Line + 1 == line && first.Span.Column + 1 == column && result.Diagnostics.All(d => d.Id == id),
            $"{why}: expected {id} at {line}:{column}, got:\n{string.Join("\n", result.Diagnostics)}");
        Assert.All(result.Diagnostics, d => Assert.Equal(Path, d.Span.Path));
    }

    [Fact]
    public void TheBaseDescriptorIsValid()
    {
        DescriptorResult result = DescriptorCompiler.Compile(Path, Valid);
        Assert.Empty(result.Diagnostics);
        Assert.Equal(new[] { "Table", "Big", "Small" }, result.Model!.Formats.Select(f => f.Name));
        Assert.Equal(new[] { 22, 12 }, result.Model.Modes[0].Levels.Select(l => l.Shift));
    }

    [Fact]
    public void CasesCoverAtLeastTwentyFiveDistinctMistakes()
    {
        Assert.True(Cases().Count() >= 25);
        var covered = Cases().Select(c => (string)c[0]).ToHashSet();
        // XD0038 is about the build, not a file: ImageArchWithoutADescriptorIsReported covers it.
        var missing = DescriptorDiagnostics.Ids.Where(i => i != DescriptorDiagnostics.Internal && i != DescriptorDiagnostics.UnknownImage && !covered.Contains(i));
        Assert.Empty(missing);
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
