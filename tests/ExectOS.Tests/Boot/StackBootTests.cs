using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;
using Xunit;

namespace ExectOS.Tests.Boot;

/// <summary>Large stacks, callouts and the stack accounting lines, booted on amd64 and on i686 (PAE).</summary>
[Collection("QEMU")]
[Trait("Category", "Boot")]
public sealed class StackBootTests
{
    /// <summary>One "XTOSKRNL: stacks ..." line; Kind is empty for the line that counts every kind.</summary>
    public sealed record StackLine(string Kind, ulong Live, ulong Committed, ulong Reserved, ulong Cached, ulong DeepestUse);

    private static readonly Regex Line = new(@"^XTOSKRNL: stacks(?: \((?<kind>[a-zA-Z ]+)\))?: (?<live>\d+) live, (?<committed>\d+) committed and (?<reserved>\d+) reserved pages, (?<cached>\d+) cached, deepest use (?<deepest>\d+) bytes$");

    /// <summary>The groups of stack lines in the order printed, each a total line and its kinds.</summary>
    public static List<List<StackLine>> StackReports(IEnumerable<string> lines)
    {
        var reports = new List<List<StackLine>>();
        foreach (string line in lines)
        {
            if (!line.StartsWith("XTOSKRNL: stacks", StringComparison.Ordinal))
                continue;
            Match match = Line.Match(line);
            Assert.True(match.Success, $"a stacks line out of its documented form: {line}");
            var parsed = new StackLine(match.Groups["kind"].Value, ulong.Parse(match.Groups["live"].Value), ulong.Parse(match.Groups["committed"].Value),
                ulong.Parse(match.Groups["reserved"].Value), ulong.Parse(match.Groups["cached"].Value), ulong.Parse(match.Groups["deepest"].Value));
            if (parsed.Kind.Length == 0)
                reports.Add([]);
            Assert.NotEmpty(reports);
            reports[^1].Add(parsed);
        }
        foreach (List<StackLine> report in reports)
        {
            // The first line is the sum of the kinds (the deepest use their maximum).
            StackLine total = report[0];
            var kinds = report.Skip(1).ToList();
            Assert.Equal(total.Live, kinds.Aggregate(0UL, (sum, k) => sum + k.Live));
            Assert.Equal(total.Committed, kinds.Aggregate(0UL, (sum, k) => sum + k.Committed));
            Assert.Equal(total.Reserved, kinds.Aggregate(0UL, (sum, k) => sum + k.Reserved));
            Assert.Equal(total.Cached, kinds.Aggregate(0UL, (sum, k) => sum + k.Cached));
            Assert.Equal(total.DeepestUse, kinds.Max(k => k.DeepestUse));
        }
        return reports;
    }

    private static ExectosCommand.Result Boot(string arch, string parameters) => ExectosCommand.Boot("--arch", arch, "--params", parameters);

    [Theory]
    [InlineData("amd64")]
    [InlineData("i686")]
    public void ARecursionDeeperThanTheCommitSucceedsThroughGrowth(string arch)
    {
        var result = Boot(arch, "TEST=STACK-GROW");

        Assert.True(result.ExitCode == 0, result.Output);
        string grew = Assert.Single(result.Lines, l => l.StartsWith("XTOSKRNL: the stack grew from ", StringComparison.Ordinal));
        Match figures = Regex.Match(grew, @"^XTOSKRNL: the stack grew from (\d+) to (\d+) committed pages of (\d+) reserved, (\d+) bytes deep$");
        Assert.True(figures.Success, grew);
        (ulong from, ulong to, ulong reserved, ulong deep) = (ulong.Parse(figures.Groups[1].Value), ulong.Parse(figures.Groups[2].Value), ulong.Parse(figures.Groups[3].Value), ulong.Parse(figures.Groups[4].Value));
        // 16 KiB committed of 256 KiB, 192 KiB deep: the commit grew to cover the depth, and stayed within the reservation.
        Assert.Equal((4UL, 64UL), (from, reserved));
        Assert.InRange(deep, 192UL * 1024, 200UL * 1024);
        Assert.InRange(to * 4096, deep, reserved * 4096);
        var reports = StackReports(result.Lines);
        StackLine large = Assert.Single(reports[0], l => l.Kind == "large");
        Assert.Equal((1UL, to, reserved), (large.Live, large.Committed, large.Reserved));
        Assert.InRange(large.DeepestUse, 191UL * 1024, to * 4096);
        Assert.Contains($"XTOSKRNL: shrunk back to 4 committed pages, {to - 4} released", result.Lines);
        Assert.Contains("XTOSKRNL: TEST=STACK-GROW passed", result.Lines);
        // The boot's own line, last: the large stack is gone, the double-fault and NMI stacks from the allocator.
        List<StackLine> last = reports[^1];
        Assert.Equal(0UL, last.Single(l => l.Kind == "large").Live);
        Assert.Equal((1UL, 4UL, 4UL), last.Where(l => l.Kind == "double fault").Select(l => (l.Live, l.Committed, l.Reserved)).Single());
        Assert.Equal((1UL, 4UL, 4UL), last.Where(l => l.Kind == "NMI").Select(l => (l.Live, l.Committed, l.Reserved)).Single());
        Assert.StartsWith("exectos: PASS kernel reported success in ", result.LastLine);
    }

    [Theory]
    [InlineData("amd64")]
    [InlineData("i686")]
    public void ACalloutAskingForMoreThanTheReservationRunsOnANewSegment(string arch)
    {
        var result = Boot(arch, "TEST=STACK-CALLOUT");

        Assert.True(result.ExitCode == 0, result.Output);
        string ran = Assert.Single(result.Lines, l => l.StartsWith("XTOSKRNL: the callout runs on a new ", StringComparison.Ordinal));
        Match figures = Regex.Match(ran, @"^XTOSKRNL: the callout runs on a new (\d+)-page segment, (\d+) bytes deep$");
        Assert.True(figures.Success, ran);
        ulong pages = ulong.Parse(figures.Groups[1].Value);
        // 256 KiB asked for: the segment has at least that, and the callout used 200 KiB of it.
        Assert.InRange(pages * 4096, 256UL * 1024, 264UL * 1024);
        Assert.InRange(ulong.Parse(figures.Groups[2].Value), 200UL * 1024, 256UL * 1024);
        var reports = StackReports(result.Lines);
        // While it runs: the segment and the large stack it was made from, both live.
        StackLine segment = Assert.Single(reports[0], l => l.Kind == "callout segment");
        Assert.Equal((1UL, pages, pages), (segment.Live, segment.Committed, segment.Reserved));
        // The measure is a lower bound: zeros the callout wrote read as unused.
        Assert.InRange(segment.DeepestUse, 199UL * 1024, pages * 4096);
        Assert.Equal((1UL, 16UL), reports[0].Where(l => l.Kind == "large").Select(l => (l.Live, l.Reserved)).Single());
        // After it returned and the large stack was freed: both kept in the cache.
        Assert.Equal((0UL, 1UL), reports[1].Where(l => l.Kind == "callout segment").Select(l => (l.Live, l.Cached)).Single());
        Assert.Contains("XTOSKRNL: TEST=STACK-CALLOUT passed", result.Lines);
        Assert.StartsWith("exectos: PASS kernel reported success in ", result.LastLine);
    }

    [Theory]
    [InlineData("amd64")]
    [InlineData("i686")]
    public void AnOverflowThreeCalloutSegmentsDeepIsTheNamedBugCheck(string arch)
    {
        var result = Boot(arch, "TEST=STACK-CALLOUT-OVERFLOW");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains(result.Lines, l => l.StartsWith("XTOSKRNL: trap #DF double fault (vector 8) at ", StringComparison.Ordinal));
        (ulong address, ulong stackBase) = BootTests.AssertGuardPageOverflow(result);
        // The double-fault path knows which stack it was: the third segment of the chain, the current one.
        Assert.Contains(result.Lines, l => Regex.IsMatch(l, "^XTOSKRNL: it is a callout segment stack with 17 of 17 reserved pages committed, top 0x[0-9A-F]{16}; the current stack is that one, 3 callout segments deep$"));
        Assert.StartsWith($"exectos: FAIL bug check 0x0000007F UNEXPECTED_KERNEL_MODE_TRAP (0x0000000000000008, 0x{address:X16}, 0x{stackBase:X16}, ", result.LastLine);
    }
}
