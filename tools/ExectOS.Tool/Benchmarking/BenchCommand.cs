using System.Collections.Generic;
using System.Globalization;
using System.IO;
using ExectOS.Tool.Boot;
using ExectOS.Tool.Cli;

namespace ExectOS.Tool.Benchmarking;

/// <summary><c>exectos bench</c>: builds tools/ExectOS.Bench in Release and runs it; its lines are the output.</summary>
public sealed class BenchCommand(RepositoryLayout repo, TextWriter output)
{
    public int Run(BenchOptions options)
    {
        string project = Path.Combine(repo.Root, "tools", "ExectOS.Bench", "ExectOS.Bench.csproj");
        string outputDirectory = Path.Combine(repo.ArtifactsDirectory, "bench");
        (int built, string log) = HostProcess.Capture(
            new ProcessInvocation("dotnet", ["build", project, "-c", "Release", "-o", outputDirectory, "-nologo", "-v", "q", "-clp:NoSummary"]),
            BuildStep.QuietDotnet);
        if (built != 0)
        {
            output.WriteLine(log.TrimEnd('\n'));
            output.WriteLine("exectos: FAIL benchmark build failed");
            return ExitCodes.BuildFailed;
        }

        var arguments = new List<string> { Path.Combine(outputDirectory, "exectos-bench.dll"), "--rounds", options.Rounds.ToString(CultureInfo.InvariantCulture) };
        if (options.Filter is not null)
        {
            arguments.Add("--filter");
            arguments.Add(options.Filter);
        }
        output.Flush();
        return HostProcess.RunInherited(new ProcessInvocation("dotnet", arguments), BuildStep.QuietDotnet);
    }
}
