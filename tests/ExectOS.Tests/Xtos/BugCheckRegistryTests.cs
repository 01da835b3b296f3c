using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text.RegularExpressions;
using ExectOS.Diagnostics;
using ExectOS.Memory;
using ExectOS.Tests.Snapshots;
using ExectOS.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Xunit;

namespace ExectOS.Tests.Xtos;

/// <summary>
/// The bug-check registry (kernel/Xtos/Diagnostics/BugCheckCodes.cs) read by reflection: codes distinct and
/// named, each code's sub-codes and step ranges distinct and apart, every sub-code explained, and no kernel
/// source passing a bare number where the registry has a name.
/// </summary>
public class BugCheckRegistryTests
{
    private sealed record Code(string Member, uint Value, SubCodesAttribute? SubCodes);

    /// <summary>One sub-code: the values <see cref="First"/> to <see cref="Last"/> (a step range) or just one.</summary>
    private sealed record SubCode(string Member, ulong First, ulong Last)
    {
        public override string ToString() => First == Last ? $"{Member} (0x{First:X})" : $"{Member} (0x{First:X}-0x{Last:X})";
    }

    private static IReadOnlyList<Code> Codes() => typeof(BugCheckCode).GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => new Code(f.Name, (uint)f.GetRawConstantValue()!, f.GetCustomAttribute<SubCodesAttribute>()))
        .ToList();

    private static IReadOnlyList<SubCode> SubCodes(Type table) => table.GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f =>
        {
            ulong first = Convert.ToUInt64(f.GetRawConstantValue());
            ulong highest = f.GetCustomAttribute<StepsAttribute>()?.Highest ?? 0;
            Assert.True(first <= ulong.MaxValue - highest, $"{table.Name}.{f.Name}'s range runs past the top of parameter 1");
            return new SubCode($"{table.Name}.{f.Name}", first, first + highest);
        })
        .ToList();

    /// <summary>Every pair of sub-codes that share a value, as "a overlaps b".</summary>
    private static IEnumerable<string> Overlaps(IReadOnlyList<SubCode> subCodes)
    {
        var sorted = subCodes.OrderBy(s => s.First).ThenBy(s => s.Last).ToList();
        for (int i = 0; i < sorted.Count; i++)
        {
            for (int j = i + 1; j < sorted.Count && sorted[j].First <= sorted[i].Last; j++)
                yield return $"{sorted[i]} overlaps {sorted[j]}";
        }
    }

    [Fact]
    public void EveryCodeIsDistinctAndHasANameAndADescription()
    {
        IReadOnlyList<Code> codes = Codes();
        Assert.NotEmpty(codes);
        Assert.Empty(codes.GroupBy(c => c.Value).Where(g => g.Count() > 1).Select(g => $"0x{g.Key:X}: {string.Join(", ", g.Select(c => c.Member))}"));
        foreach (Code code in codes)
        {
            string name = BugCheckCodes.Name((BugCheckCode)code.Value), description = BugCheckCodes.Description((BugCheckCode)code.Value);
            Assert.True(name != BugCheckCodes.UnknownName, $"{code.Member} has no name");
            Assert.Matches("^[A-Z][A-Z0-9_]*$", name);
            Assert.True(description != BugCheckCodes.UnknownDescription && description.Length > 0, $"{code.Member} has no description");
            // The kernel prints it indented on one console line (TextLine holds 240 characters).
            Assert.True(description.Length <= TextLine.Capacity - 4, $"{code.Member}'s description is longer than a console line");
        }
        Assert.Equal(codes.Count, codes.Select(c => BugCheckCodes.Name((BugCheckCode)c.Value)).Distinct().Count());
        Assert.Equal(codes.Count, codes.Select(c => BugCheckCodes.Description((BugCheckCode)c.Value)).Distinct().Count());
    }

    [Fact]
    public void ReadmeListsEveryCodeByItsName()
    {
        string readme = File.ReadAllText(Path.Combine(Snapshot.RepositoryRoot, "README.md"));
        var rows = Regex.Matches(readme, @"^\| 0x([0-9A-F]+) \| ([A-Z0-9_]+) \|", RegexOptions.Multiline)
            .Select(m => (Value: Convert.ToUInt32(m.Groups[1].Value, 16), Name: m.Groups[2].Value)).OrderBy(r => r.Value).ToList();
        var codes = Codes().Select(c => (c.Value, Name: BugCheckCodes.Name((BugCheckCode)c.Value))).OrderBy(r => r.Value).ToList();
        Assert.Equal(codes, rows);
    }

    [Fact]
    public void SubCodesOfEachCodeAreDistinctAndTheirRangesDoNotOverlap()
    {
        var problems = new List<string>();
        foreach (Code code in Codes().Where(c => c.SubCodes is not null))
        {
            Type table = code.SubCodes!.Table;
            Assert.True(table.IsEnum, $"{code.Member}'s sub-code table {table.Name} is not an enum");
            Assert.InRange(code.SubCodes.Parameter, 1, 4);
            IReadOnlyList<SubCode> subCodes = SubCodes(table);
            Assert.True(subCodes.Count > 0, $"{code.Member}'s sub-code table {table.Name} is empty");
            problems.AddRange(Overlaps(subCodes).Select(o => $"{code.Member}: {o}"));
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void EveryTableInTheRegistryBelongsToACode()
    {
        var referenced = Codes().Where(c => c.SubCodes is not null).Select(c => c.SubCodes!.Table).ToList();
        Assert.Equal(referenced.Count, referenced.Distinct().Count());
        IEnumerable<Type> tables = typeof(BugCheckCode).Assembly.GetTypes()
            .Where(t => t.IsEnum && t.Namespace == typeof(BugCheckCode).Namespace && t != typeof(BugCheckCode));
        Assert.Empty(tables.Where(t => !referenced.Contains(t)).Select(t => t.Name));
    }

    [Fact]
    public void EverySubCodeHasAOneLineMeaning()
    {
        var parse = CSharpParseOptions.Default.WithDocumentationMode(DocumentationMode.Parse);
        var enums = Directory.EnumerateFiles(Path.Combine(Snapshot.RepositoryRoot, "kernel"), "*.cs", SearchOption.AllDirectories)
            .SelectMany(path => CSharpSyntaxTree.ParseText(File.ReadAllText(path), parse, path).GetRoot().DescendantNodes().OfType<EnumDeclarationSyntax>())
            .ToList();
        var missing = new List<string>();
        foreach (Type table in Codes().Where(c => c.SubCodes is not null).Select(c => c.SubCodes!.Table))
        {
            EnumDeclarationSyntax declaration = Assert.Single(enums, e => e.Identifier.Text == table.Name
                && e.Ancestors().OfType<BaseNamespaceDeclarationSyntax>().FirstOrDefault()?.Name.ToString() == table.Namespace);
            foreach (EnumMemberDeclarationSyntax member in declaration.Members)
            {
                if (member.Identifier.Text == "None")
                    continue; // "no error": never raised
                var docs = member.GetLeadingTrivia().Select(t => t.GetStructure()).OfType<DocumentationCommentTriviaSyntax>().ToList();
                string text = string.Concat(docs.Select(d => d.ToFullString()));
                int lines = text.Split('\n').Count(l => l.TrimStart().StartsWith("///", StringComparison.Ordinal));
                if (lines != 1 || !text.Contains("<summary>", StringComparison.Ordinal) || text.Replace("<summary>", "").Replace("</summary>", "").Trim('/', ' ', '\r', '\n').Length == 0)
                    missing.Add($"{table.Name}.{member.Identifier.Text} ({Path.GetFileName(declaration.SyntaxTree.FilePath)})");
            }
        }
        Assert.True(missing.Count == 0, "no one-line /// <summary> meaning: " + string.Join(", ", missing));
    }

    public static TheoryData<string, string> SelfTests => new()
    {
        { nameof(MemoryManagementCheck.MemorySelfTest), "kernel/Xtoskrnl/MemorySelfTest.cs" },
        { nameof(MemoryManagementCheck.PoolSelfTest), "kernel/Xtoskrnl/PoolSelfTest.cs" },
    };

    /// <summary>A self-test raises its range's start + the step of its Fail(step, ...) calls: every step it uses must be reserved.</summary>
    [Theory]
    [MemberData(nameof(SelfTests))]
    public void StepRangesHoldEveryStepTheirSelfTestUses(string range, string source)
    {
        ulong highest = typeof(MemoryManagementCheck).GetField(range)!.GetCustomAttribute<StepsAttribute>()!.Highest;
        string text = File.ReadAllText(Path.Combine(Snapshot.RepositoryRoot, source));
        Assert.Contains($"MemoryManagementCheck.{range} + step", text, StringComparison.Ordinal);
        var steps = Regex.Matches(text, @"\bFail\((\d+),").Select(m => ulong.Parse(m.Groups[1].Value)).ToList();
        Assert.NotEmpty(steps);
        Assert.True(steps.Max() <= highest, $"{source} fails at step {steps.Max()}, but {range} reserves steps up to {highest}");
    }

    [Fact]
    public void PfnBuildRangeHoldsEveryBuildError()
    {
        ulong highest = typeof(MemoryManagementCheck).GetField(nameof(MemoryManagementCheck.PfnBuild))!.GetCustomAttribute<StepsAttribute>()!.Highest;
        Assert.True(Enum.GetValues<PfnBuildError>().Max(e => (ulong)e) <= highest);
    }

    /// <summary>
    /// A code with a parameter-1 table must get a name from it, never a number: no <c>BugCheckCode.X, 0x...</c>
    /// and no number cast to a table (<c>(MemoryManagementCheck)0x...</c>) anywhere in kernel/ or the hosted code.
    /// </summary>
    [Fact]
    public void NoSourceRaisesACodedBugCheckWithANumber()
    {
        var coded = Codes().Where(c => c.SubCodes is { Parameter: 1 }).ToList();
        string codes = string.Join("|", coded.Select(c => c.Member));
        string tables = string.Join("|", coded.Select(c => c.SubCodes!.Table.Name));
        var literal = new Regex($@"BugCheckCode\.(?:{codes})\s*,\s*\(?\s*(?:0[xX][0-9A-Fa-f]+|\d+)\b|\(\s*(?:{tables})\s*\)\s*\(?\s*(?:0[xX]|\d)");
        var found = new List<string>();
        foreach (string folder in new[] { "kernel", "tests/ExectOS.Hosted" })
        {
            foreach (string path in Directory.EnumerateFiles(Path.Combine(Snapshot.RepositoryRoot, folder), "*.cs", SearchOption.AllDirectories))
            {
                if (path.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                    || path.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
                    continue;
                string[] lines = File.ReadAllLines(path);
                for (int i = 0; i < lines.Length; i++)
                {
                    if (literal.IsMatch(lines[i]))
                        found.Add($"{Path.GetRelativePath(Snapshot.RepositoryRoot, path)}:{i + 1}: {lines[i].Trim()}");
                }
            }
        }
        Assert.True(found.Count == 0, "a bug check's parameter 1 is a number where the registry has a name:\n" + string.Join("\n", found));
    }
}
