using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using ExectOS.Descriptors.Model;
using ExectOS.Tests.Snapshots;
using Microsoft.CodeAnalysis;
using Xunit;

namespace ExectOS.Tests.Descriptors;

/// <summary>
/// The corpus of malformed descriptors (tests/ExectOS.Tests/Descriptors/Corpus, one file a mistake, plus the cases
/// too large for a file, built below). A file's first line is <c># XDnnnn kind: why</c> (<c>none</c>: it must be
/// accepted); '⟨' marks where the diagnostic must point. Every case goes through the generator as the compiler
/// runs it, on a thread with a 1 MiB stack, and what it generates is compiled, warnings counting as errors as in the image builds: the expected XD diagnostic first,
/// at its file, line and column, no crash, no C# error.
/// </summary>
public class DescriptorCorpusTests
{
    private const string Path = "/repo/descriptors/test/paging.xd";
    private static readonly string Folder = System.IO.Path.Combine(Snapshot.RepositoryRoot, "tests", "ExectOS.Tests", "Descriptors", "Corpus");

    /// <summary>How a case came out; only <see cref="Outcome.Correct"/> passes.</summary>
    public enum Outcome { Correct, Crash, Silent, GeneratedCodeError, Misplaced, RejectedValid }

    internal sealed record Case(string Name, string Kind, string? Id, string Why, (string Path, string Text)[] Files, string MarkedPath, int Line, int Column);

    public static IEnumerable<object[]> FileCases()
        => Directory.EnumerateFiles(Folder, "*.xd").Select(p => System.IO.Path.GetFileName(p)).Order(StringComparer.Ordinal).Select(n => new object[] { n });

    public static IEnumerable<object[]> BuiltCases() => Built().Keys.Order(StringComparer.Ordinal).Select(n => new object[] { n });

    [Theory]
    [MemberData(nameof(FileCases))]
    public void CorpusFileGivesItsDiagnostic(string name)
    {
        Case c = Load(name);
        (Outcome outcome, string detail) = Run(c);
        Assert.True(outcome == Outcome.Correct, $"{name} ({c.Kind}: {c.Why}): {outcome}\n{detail}");
    }

    [Theory]
    [MemberData(nameof(BuiltCases))]
    public void BuiltCaseGivesItsDiagnostic(string name)
    {
        Case c = Built()[name]();
        (Outcome outcome, string detail) = Run(c);
        Assert.True(outcome == Outcome.Correct, $"{name} ({c.Kind}: {c.Why}): {outcome}\n{detail}");
    }

    [Fact]
    public void TheCorpusCoversEveryDiagnosticAndEveryKind()
    {
        var cases = FileCases().Select(n => Load((string)n[0])).ToList();
        Assert.True(cases.Count + Built().Count >= 60);
        var covered = cases.Select(c => c.Id).Concat(Built().Values.Select(b => b().Id)).ToHashSet();
        // XD0000 must never appear; XD0038 is about the build, not a file (ImageArchWithoutADescriptorIsReported).
        var missing = DescriptorDiagnostics.Ids.Where(i => i != DescriptorDiagnostics.Internal && i != DescriptorDiagnostics.UnknownImage && !covered.Contains(i));
        Assert.Empty(missing);
        var kinds = cases.Select(c => c.Kind).Concat(Built().Values.Select(b => b().Kind)).ToHashSet();
        Assert.Superset(new HashSet<string> { "located", "crash", "silent", "generated", "misplaced", "accepted" }, kinds);
    }

    [Theory]
    [InlineData("silent-overlap-at-one-page-count.xd")]
    [InlineData("silent-division-by-zero-at-one-page-count.xd")]
    public void AMistakeAtASinglePageCountIsFoundAndNamed(string name)
    {
        // Both layouts break at 123457 pages only, a count no sample of powers of two or formula constants visits.
        (string path, string text) = Load(name).Files[0];
        var result = ExectOS.Descriptors.Binding.DescriptorCompiler.Compile(path, text);

        DiagnosticInfo diagnostic = Assert.Single(result.Diagnostics);
        Assert.Contains("with 123457 pages", diagnostic.Message);
    }

    internal static Case Load(string name)
    {
        string raw = File.ReadAllText(System.IO.Path.Combine(Folder, name), Encoding.UTF8);
        int end = raw.IndexOfAny(new[] { '\r', '\n' });
        string[] header = raw.Substring(0, end).TrimStart('#', ' ').Split(' ', 3);
        string kind = header[1].TrimEnd(':');
        return Marked(name, kind, header[0] == "none" ? null : header[0], header[2], raw);
    }

    /// <summary>A case from text holding one '⟨' (none for an accepted case); lines end at CR, LF or CRLF.</summary>
    internal static Case Marked(string name, string kind, string? id, string why, string text, string path = Path, params (string Path, string Text)[] others)
    {
        int marker = text.IndexOf('⟨');
        Assert.True(id is null == marker < 0, $"{name}: a case with an expected diagnostic marks its place with ⟨, an accepted one does not");
        int line = 1, column = 1;
        for (int i = 0; i < Math.Max(marker, 0); i++)
        {
            if (text[i] == '\n' || (text[i] == '\r' && (i + 1 >= text.Length || text[i + 1] != '\n')))
            {
                line++;
                column = 1;
            }
            else if (text[i] != '\r')
            {
                column++;
            }
        }
        string clean = marker < 0 ? text : text.Remove(marker, 1);
        return new Case(name, kind, id, why, others.Prepend((path, clean)).ToArray(), path, line, column);
    }

    internal static (Outcome, string) Run(Case c)
    {
        (Outcome, string) result = (Outcome.Crash, "did not finish");
        // The compiler runs generators on its own threads: 1 MiB is the stack a deep input must not exhaust.
        var thread = new Thread(() => result = RunOnThisThread(c), 1 << 20);
        thread.Start();
        thread.Join();
        return result;
    }

    private static (Outcome, string) RunOnThisThread(Case c)
    {
        GeneratorDriverRunResult run;
        System.Collections.Immutable.ImmutableArray<Diagnostic> compile;
        try
        {
            (run, compile) = GeneratorHarness.Run(null, DiagnosticSeverity.Warning, c.Files);
        }
        catch (Exception exception)
        {
            return (Outcome.Crash, exception.ToString());
        }
        var xd = run.Diagnostics.Where(d => d.Id.StartsWith("XD", StringComparison.Ordinal))
            .OrderBy(d => d.Location.GetLineSpan().Path, StringComparer.Ordinal).ThenBy(d => d.Location.GetLineSpan().StartLinePosition).ToList();
        string Describe() => string.Join("\n", run.Diagnostics.Concat(compile).Take(12).Select(d => $"{d.Location.GetLineSpan()}: {d.Id}: {d.GetMessage()}"));
        if (run.Results.Any(r => r.Exception is not null) || run.Diagnostics.Any(d => d.Id == DescriptorDiagnostics.Internal || d.Id == "CS8785"))
            return (Outcome.Crash, run.Results.FirstOrDefault(r => r.Exception is not null).Exception?.ToString() ?? Describe());
        if (compile.Length > 0)
            return (Outcome.GeneratedCodeError, Describe());
        if (c.Id is null)
            return xd.Count == 0 ? (Outcome.Correct, "") : (Outcome.RejectedValid, Describe());
        if (xd.Count == 0)
            return (Outcome.Silent, "no diagnostic");
        FileLinePositionSpan first = xd[0].Location.GetLineSpan();
        bool located = xd[0].Id == c.Id && first.Path == c.MarkedPath
            && (first.StartLinePosition.Line + 1, first.StartLinePosition.Character + 1) == (c.Line, c.Column);
        // One mistake, one kind of diagnostic: anything after the first is the same mistake elsewhere, never a cascade.
        if (!located || xd.Any(d => d.Id != c.Id) || xd.Any(d => d.GetMessage().Length < 20))
            return (Outcome.Misplaced, $"expected {c.Id} at {c.MarkedPath}({c.Line},{c.Column}), got:\n{Describe()}");
        return (Outcome.Correct, "");
    }

    private static string Base() => File.ReadAllText(System.IO.Path.Combine(Folder, "xd0013-unknown-role.xd")).Replace("role ⟨presnt", "role present");

    private static string Edit(string text, string find, string replace)
    {
        int at = text.IndexOf(find, StringComparison.Ordinal);
        Assert.True(at >= 0, $"'{find}' is not in the base descriptor");
        return text.Substring(0, at) + replace + text.Substring(at + find.Length);
    }

    /// <summary>Cases too large for a file, built from the base descriptor.</summary>
    internal static Dictionary<string, Func<Case>> Built() => new()
    {
        ["crash-nested-parentheses-100k"] = () => Marked("crash-nested-parentheses-100k", "crash", "XD0039", "100,000 nested parentheses",
            Edit(Base(), "let half = pages / 2", "let half = " + new string('(', 64) + "⟨" + new string('(', 100_000 - 64) + "pages" + new string(')', 100_000) + " / 2")),
        ["crash-sum-100k"] = () => Marked("crash-sum-100k", "crash", "XD0039", "a sum of 100,000 terms",
            Edit(Base(), "let half = pages / 2", "let half = pages" + string.Concat(Enumerable.Repeat(" + 1", 256)) + " ⟨+ 1" + string.Concat(Enumerable.Repeat(" + 1", 100_000 - 258)))),
        ["crash-fields-chain-20k"] = () => Marked("crash-fields-chain-20k", "crash", "XD0039", "fields blocks using each other 20,000 deep",
            Edit(Base(), "feature Pse", string.Concat(Enumerable.Range(0, 20_000).Select(i => $"fields F{i} {{\n    use {(i == 31 ? "⟨" : "")}F{i + 1}\n}}\n")) + "fields F20000 {\n    reserved [11:1]\n}\nfeature Pse")
                .Replace("entry Small bits 32 {\n    frame Page [31:12]\n    reserved [11:1]", "entry Small bits 32 {\n    frame Page [31:12]\n    use F0")),
        ["crash-mode-extends-chain-20k"] = () => Marked("crash-mode-extends-chain-20k", "crash", "XD0039", "modes extending each other 20,000 deep",
            Edit(Base(), "layout Space", string.Concat(Enumerable.Range(1, 20_000).Select(i => $"mode M{i} extends {(i == 17 ? "⟨" : "")}{(i == 1 ? "Two" : $"M{i - 1}")} {{\n}}\n")) + "layout Space")),
        ["crash-mode-extends-chain-20k-reversed"] = () => Marked("crash-mode-extends-chain-20k-reversed", "crash", "XD0039", "modes extending each other 20,000 deep, the deepest declared first",
            Edit(Base(), "feature Pse", string.Concat(Enumerable.Range(1, 20_000).Reverse().Select(i => $"mode M{i} extends {(i == 17 ? "⟨" : "")}{(i == 1 ? "Two" : $"M{i - 1}")} {{\n}}\n")) + "feature Pse")),
        ["crash-layout-extends-chain-20k"] = () => Marked("crash-layout-extends-chain-20k", "crash", "XD0039", "layouts extending each other 20,000 deep",
            Edit(Base(), "image test", string.Concat(Enumerable.Range(1, 20_000).Select(i => $"layout L{i} for Two extends {(i == 17 ? "⟨" : "")}{(i == 1 ? "Space" : $"L{i - 1}")} {{\n}}\n")) + "image test")),
        ["crash-same-file-name-twice"] = () => Marked("crash-same-file-name-twice", "crash", "XD0044", "two descriptor files of one architecture with the same file name",
            "architecture ⟨Test\nentry Other bits 32 {\n    frame Page [31:12]\n    reserved [11:1]\n    flag On [0] role present\n}\n",
            "/repo/descriptors/zz/paging.xd", ("/repo/descriptors/test/paging.xd", Base())),
        ["generated-same-type-in-two-files"] = () => Marked("generated-same-type-in-two-files", "generated", "XD0044", "two descriptor files of one architecture declaring one type",
            "architecture Test\nentry ⟨Small bits 32 {\n    frame Page [31:12]\n    reserved [11:1]\n    flag On [0] role present\n}\n",
            "/repo/descriptors/test/pool.xd", ("/repo/descriptors/test/paging.xd", Base())),
        ["accepted-two-files-of-one-architecture"] = () => Marked("accepted-two-files-of-one-architecture", "accepted", null, "two descriptor files of one architecture, distinct names",
            "architecture Test\nentry Other bits 32 {\n    frame Page [31:12]\n    reserved [11:1]\n    flag On [0] role present\n}\n",
            "/repo/descriptors/test/pool.xd", ("/repo/descriptors/test/paging.xd", Base())),
    };

    /// <summary>The counts per kind and outcome, printed so a run shows where the corpus stands.</summary>
    [Fact]
    public void EveryCaseComesOutCorrect()
    {
        var cases = FileCases().Select(n => Load((string)n[0])).Concat(Built().Values.Select(b => b())).ToList();
        var outcomes = cases.Select(c => (c.Kind, c.Name, Outcome: Run(c).Item1)).ToList();
        string table = string.Join("\n", outcomes.GroupBy(o => o.Kind).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => $"{g.Key}: {g.Count()} cases, " + string.Join(", ", g.GroupBy(o => o.Outcome).Select(o => $"{o.Key} {o.Count()}"))));
        string wrong = string.Join("\n", outcomes.Where(o => o.Outcome != Outcome.Correct).Select(o => $"  {o.Name}: {o.Outcome}"));
        Assert.True(wrong.Length == 0, $"{table}\n{wrong}");
    }
}
