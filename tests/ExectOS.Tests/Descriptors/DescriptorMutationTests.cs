using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading;
using ExectOS.Descriptors.Binding;
using ExectOS.Descriptors.Emit;
using ExectOS.Descriptors.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace ExectOS.Tests.Descriptors;

/// <summary>
/// Seeded mutants of the real descriptors (tokens deleted, duplicated, swapped or replaced, numbers changed, lines
/// removed, duplicated or swapped, characters flipped) through the descriptor compiler, on a 1 MiB stack as the
/// compiler's threads have: none may throw, each either yields a model whose generated C# compiles without warnings,
/// or diagnostics inside its file and no model.
/// </summary>
public class DescriptorMutationTests
{
    private const int Mutants = 10_000;

    private static readonly Regex TokenPattern = new(@"\s+|#[^\n]*|[A-Za-z_][A-Za-z0-9_-]*|[0-9][A-Za-z0-9_]*|.", RegexOptions.Compiled);

    private static readonly string[] Numbers = { "0", "1", "2", "3", "7", "8", "9", "10", "12", "31", "32", "33", "63", "64", "65", "4K", "3000", "0x1000", "0x1ED", "0xFFFFFFFF", "0xFFFFFFFFFFFFFFFF", "18446744073709551616", "1T", "9T", "99999999999", "0x8000000000000000" };

    private static readonly string[] Punctuation = { "{", "}", "[", "]", ":", "=", ",", ".", "+", "-", "*", "/", "(", ")", ";", "\n", "#", "\r" };

    [Fact]
    public void TenThousandMutantsOfTheRealDescriptorsNeverBreakTheCompiler()
    {
        var failures = new List<string>();
        var accepted = new Dictionary<string, string>(StringComparer.Ordinal);
        int rejected = 0;
        var thread = new Thread(() => (rejected, _) = RunMutants(failures, accepted), 1 << 20);
        thread.Start();
        thread.Join();

        Assert.True(failures.Count == 0, $"{failures.Count} mutants broke the compiler; the first:\n{string.Join("\n\n", failures.Take(3))}");
        // The mutants reach both ends: most are refused, and enough are accepted that their code is worth compiling.
        Assert.True(rejected > Mutants / 2 && accepted.Count > 50, $"{rejected} refused, {accepted.Count} distinct accepted outputs");
        Assert.Empty(CompileErrors(accepted).Take(5));
    }

    // Compiling is the slow part (about 2,800 lines an x86 output): the outputs in mutant order, up to this many lines.
    private const int CompiledLines = 100_000;

    private static (int Rejected, int Accepted) RunMutants(List<string> failures, Dictionary<string, string> accepted)
    {
        var originals = GeneratorHarness.RepositoryDescriptors().Select(p => (Path: p, Tokens: Tokenize(File.ReadAllText(p)))).ToList();
        var random = new Random(15);
        int rejected = 0;
        for (int i = 0; i < Mutants; i++)
        {
            var (path, tokens) = originals[i % originals.Count];
            string text = Mutate(tokens, random);
            try
            {
                DescriptorResult result = DescriptorCompiler.Compile(path, text);
                string? problem = Problem(result, path, text);
                if (problem is not null)
                    failures.Add($"mutant {i}: {problem}\n{text}");
                else if (result.Model is null)
                    rejected++;
                else
                    accepted[Emitter.Emit(result.Model)] = $"mutant {i}";
            }
            catch (Exception exception)
            {
                failures.Add($"mutant {i}: {exception}\n{text}");
            }
        }
        return (rejected, accepted.Count);
    }

    private static string? Problem(DescriptorResult result, string path, string text)
    {
        if (result.Model is null == (result.Diagnostics.Count == 0))
            return "a model and diagnostics, or neither";
        int lines = text.Count(c => c == '\n') + text.Replace("\r\n", "\n").Count(c => c == '\r') + 1;
        foreach (DiagnosticInfo d in result.Diagnostics)
        {
            if (d.Id == DescriptorDiagnostics.Internal || d.Span.Path != path || d.Span.Line < 0 || d.Span.Line >= lines || d.Span.Column < 0 || d.Message.Length < 20)
                return $"diagnostic not located in the file or not explained: {d}";
        }
        return null;
    }

    private static List<string> Tokenize(string text) => TokenPattern.Matches(text).Select(m => m.Value).ToList();

    private static string Mutate(List<string> original, Random random)
    {
        var tokens = new List<string>(original);
        var meaningful = Enumerable.Range(0, tokens.Count).Where(i => !string.IsNullOrWhiteSpace(tokens[i]) && tokens[i][0] != '#').ToList();
        for (int edits = 1 + random.Next(3); edits > 0; edits--)
        {
            int at = meaningful[random.Next(meaningful.Count)] % tokens.Count;
            switch (random.Next(9))
            {
                case 0: tokens[at] = ""; break;
                case 1: tokens[at] = tokens[at] + " " + tokens[at]; break;
                case 2:
                    int other = meaningful[random.Next(meaningful.Count)] % tokens.Count;
                    (tokens[at], tokens[other]) = (tokens[other], tokens[at]);
                    break;
                case 3: tokens[at] = Numbers[random.Next(Numbers.Length)]; break;
                case 4: tokens[at] = tokens[meaningful[random.Next(meaningful.Count)] % tokens.Count]; break;
                case 5: tokens[at] = Punctuation[random.Next(Punctuation.Length)]; break;
                default: return LineMutation(string.Concat(tokens), random);
            }
        }
        return string.Concat(tokens);
    }

    private static string LineMutation(string text, Random random)
    {
        var lines = text.Split('\n').ToList();
        int at = random.Next(lines.Count), other = random.Next(lines.Count);
        switch (random.Next(4))
        {
            case 0: lines.RemoveAt(at); break;
            case 1: lines.Insert(at, lines[other]); break;
            case 2: (lines[at], lines[other]) = (lines[other], lines[at]); break;
            default:
                var chars = lines[at].ToCharArray();
                if (chars.Length > 0)
                    chars[random.Next(chars.Length)] = "{}[]:=;#0123456789xK_-é٣\r"[random.Next(25)];
                lines[at] = new string(chars);
                break;
        }
        return string.Join("\n", lines);
    }

    /// <summary>The distinct accepted outputs compiled at once (up to CompiledLines), each in a namespace of its own so they cannot meet.</summary>
    private static IEnumerable<string> CompileErrors(Dictionary<string, string> accepted)
    {
        int n = 0, lines = 0;
        var trees = accepted.TakeWhile(a => (lines += a.Key.Count(c => c == '\n')) <= CompiledLines).Select(a => CSharpSyntaxTree.ParseText(
            Regex.Replace(a.Key, @"^namespace ExectOS\.Paging\.", $"namespace ExectOS.Paging.Mutant{n++}.", RegexOptions.Multiline), path: a.Value)).ToList();
        Compilation compilation = GeneratorHarness.EmptyCompilation().AddSyntaxTrees(trees);
        return compilation.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning)
            .Select(d => $"{d.Location.SourceTree?.FilePath}: {d.Id} {d.GetMessage()}\n{d.Location.SourceTree?.ToString().Split('\n').ElementAtOrDefault(d.Location.GetLineSpan().StartLinePosition.Line)}");
    }
}
