using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using ExectOS.Tool.Boot;
using ExectOS.Tool.Cli;

namespace ExectOS.Tool.Testing;

/// <summary>
/// <c>exectos test</c>: builds what changed (nothing, in a tenth of a second, when no input did), runs dotnet test on the
/// test assemblies, then sums the .trx files it wrote into one line.
/// </summary>
public sealed class TestCommand(RepositoryLayout repo, TextWriter output)
{
    /// <summary>Tests that start QEMU carry this trait (Category=Boot).</summary>
    public const string BootCategoryExclusion = "Category!=Boot";

    /// <summary>One .trx per test project. A fixed LogFileName would make every project of the solution
    /// overwrite the same file ("WARNING: Overwriting results file"), so only the last would be counted.</summary>
    public const string ResultsLogger = "trx;LogFilePrefix=results";

    public int Run(TestOptions options)
    {
        string solution = repo.Solution;
        if (!File.Exists(solution))
        {
            output.WriteLine($"exectos: error: no solution to test at {solution}");
            output.WriteLine("exectos: FAIL no tests ran");
            return ExitCodes.Fail;
        }

        Directory.CreateDirectory(repo.TestResultsDirectory);
        Dictionary<string, DateTime> before = Snapshot(repo.TestResultsDirectory);
        ProcessInvocation tests = Command(solution, repo.TestResultsDirectory, options);
        if (TestAssemblies.Find(repo) is { } assemblies)
        {
            // Built here, quietly, and only when an input changed since the last successful build (the fingerprint
            // ./exectos boot keeps); then the assemblies run without MSBuild, which takes seconds to find nothing to do.
            if (BuildStep.Run(repo, [.. assemblies, .. TestAssemblies.Images(repo)]) is { } buildOutput)
            {
                output.WriteLine(buildOutput);
                output.WriteLine("exectos: build failed");
                (string failed, int failedStatus) = Summarize(default, ExitCodes.BuildFailed);
                output.WriteLine(failed);
                return failedStatus;
            }

            if (assemblies.All(File.Exists))
            {
                tests = AssemblyCommand(assemblies, repo.TestResultsDirectory, options);
            }
        }

        int exitCode = HostProcess.RunInherited(tests, BuildStep.QuietDotnet);

        var total = default(TestCounts);
        foreach (string trx in WrittenSince(repo.TestResultsDirectory, before))
        {
            total += TrxCounter.CountFile(trx, out string? problem);
            if (problem is not null)
            {
                output.WriteLine("exectos: error: " + problem);
            }
        }

        if (exitCode != 0)
        {
            output.WriteLine($"exectos: dotnet test exited with status {exitCode}");
        }

        (string line, int status) = Summarize(total, exitCode);
        output.WriteLine(line);
        return status;
    }

    /// <summary>The final line and exit status from the counts and dotnet test's own status.</summary>
    public static (string Line, int ExitCode) Summarize(TestCounts counts, int dotnetTestExitCode)
    {
        if (!counts.AnyRan)
        {
            return ("exectos: FAIL no tests ran", ExitCodes.Fail);
        }

        string line = $"exectos: {counts.Passed} passed, {counts.Failed} failed, {counts.Skipped} skipped";
        bool passed = counts.Failed == 0 && dotnetTestExitCode == 0;
        return (line, passed ? ExitCodes.Pass : ExitCodes.Fail);
    }

    public static ProcessInvocation Command(string solution, string resultsDirectory, TestOptions options)
    {
        var args = new List<string>
        {
            "test", solution, "-nologo",
            "--logger", ResultsLogger,
            "--results-directory", resultsDirectory,
        };
        if (CombineFilter(options) is { } filter)
        {
            args.Add("--filter");
            args.Add(filter);
        }

        return new ProcessInvocation("dotnet", args);
    }

    /// <summary>dotnet test on built test assemblies: no MSBuild, so nothing is built or evaluated.</summary>
    public static ProcessInvocation AssemblyCommand(IReadOnlyList<string> assemblies, string resultsDirectory, TestOptions options)
    {
        var args = new List<string> { "test" };
        args.AddRange(assemblies);
        args.AddRange(["--logger", ResultsLogger, "--results-directory", resultsDirectory]);
        if (CombineFilter(options) is { } filter)
        {
            args.Add("--filter");
            args.Add(filter);
        }

        // The assemblies side by side, as dotnet test on the solution runs its projects.
        args.AddRange(["--", "RunConfiguration.MaxCpuCount=0"]);
        return new ProcessInvocation("dotnet", args);
    }

    /// <summary>The filter passed to dotnet test, combining --filter and --no-boot with AND.</summary>
    public static string? CombineFilter(TestOptions options) => (options.Filter, options.NoBoot) switch
    {
        (null, false) => null,
        (null, true) => BootCategoryExclusion,
        ({ } filter, false) => filter,
        ({ } filter, true) => $"({filter})&{BootCategoryExclusion}",
    };

    /// <summary>Streams straight to the terminal: the user watches the run, and nothing here parses it.</summary>
    private static Dictionary<string, DateTime> Snapshot(string directory) =>
        Directory.EnumerateFiles(directory, "*.trx", SearchOption.AllDirectories)
            .ToDictionary(path => path, File.GetLastWriteTimeUtc, StringComparer.Ordinal);

    /// <summary>Result files that are new or were rewritten by this run; older runs' files stay out of the count.</summary>
    private static IEnumerable<string> WrittenSince(string directory, Dictionary<string, DateTime> before) =>
        Directory.EnumerateFiles(directory, "*.trx", SearchOption.AllDirectories)
            .Where(path => !before.TryGetValue(path, out DateTime old) || File.GetLastWriteTimeUtc(path) != old)
            .Order(StringComparer.Ordinal);
}
