using System.Collections.Generic;
using System.IO;

namespace ExectOS.Tool.Boot;

/// <summary>Brings the boot images up to date with a quiet <c>dotnet build</c> of the solution.</summary>
public static class BuildStep
{
    /// <summary>The build command; quiet so that a boot run shows the guest, not MSBuild.</summary>
    public static ProcessInvocation Command(string solution) =>
        new("dotnet", ["build", solution, "-nologo", "-v", "q", "-clp:NoSummary"]);

    /// <summary>Returns null on success, or the text to show on failure.</summary>
    public static string? Run(RepositoryLayout repo)
    {
        string solution = repo.Solution;
        if (!File.Exists(solution))
        {
            return $"exectos: error: no solution to build at {solution}";
        }

        (int exitCode, string output) = HostProcess.Capture(Command(solution), QuietDotnet);
        return exitCode == 0 ? null : output.TrimEnd('\n');
    }

    /// <summary>Keeps the SDK's first-run banners and telemetry notice out of captured output.</summary>
    public static IReadOnlyDictionary<string, string> QuietDotnet { get; } = new Dictionary<string, string>
    {
        ["DOTNET_NOLOGO"] = "1",
        ["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1",
    };
}
