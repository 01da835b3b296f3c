using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;

namespace ExectOS.Bench;

/// <summary>A measured operation and the baseline it is compared with; Prepare runs untimed before each.</summary>
internal sealed record Benchmark(string Name, string Unit, long UnitsPerRun, string CandidateLabel, Action Candidate, string BaselineLabel, Action Baseline, Action Prepare);

/// <summary>
/// Runs candidate and baseline alternately, round after round, so both see the same machine state,
/// and reports medians. Output lines are stable (the README documents them).
/// </summary>
internal static class BenchmarkRunner
{
    public static void Run(Benchmark benchmark, int rounds, int warmup)
    {
        var candidate = new List<double>();
        var baseline = new List<double>();
        for (int round = 0; round < warmup + rounds; round++)
        {
            bool measured = round >= warmup;
            // Alternate which goes first, so neither always runs on a warmer cache.
            if (round % 2 == 0)
            {
                Time(benchmark.Candidate, benchmark.Prepare, measured ? candidate : null);
                Time(benchmark.Baseline, benchmark.Prepare, measured ? baseline : null);
            }
            else
            {
                Time(benchmark.Baseline, benchmark.Prepare, measured ? baseline : null);
                Time(benchmark.Candidate, benchmark.Prepare, measured ? candidate : null);
            }
        }
        double c = Median(candidate), b = Median(baseline);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"exectos bench: {benchmark.Name}: {benchmark.CandidateLabel} {c:F3} ms ({Rate(benchmark, c)}), {benchmark.BaselineLabel} {b:F3} ms, ratio {c / b:F2} (median of {rounds}; ratio > 1 means slower than the baseline)"));
    }

    /// <summary>Millions a second; plain units a second for what runs a few times a second (a whole command).</summary>
    private static string Rate(Benchmark benchmark, double milliseconds)
    {
        double perSecond = benchmark.UnitsPerRun / milliseconds * 1000;
        return perSecond >= 100_000
            ? string.Create(CultureInfo.InvariantCulture, $"{perSecond / 1_000_000:F1} M{benchmark.Unit}/s")
            : string.Create(CultureInfo.InvariantCulture, $"{perSecond:F1} {benchmark.Unit}/s");
    }

    private static void Time(Action action, Action prepare, List<double>? into)
    {
        prepare();
        long start = Stopwatch.GetTimestamp();
        action();
        double milliseconds = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        into?.Add(milliseconds);
    }

    private static double Median(List<double> values)
    {
        var sorted = values.OrderBy(v => v).ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
