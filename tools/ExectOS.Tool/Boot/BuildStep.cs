using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace ExectOS.Tool.Boot;

/// <summary>Brings the boot images up to date with a quiet <c>dotnet build</c> of the solution.</summary>
public static class BuildStep
{
    /// <summary>The build command; quiet so that a boot run shows the guest, not MSBuild.</summary>
    public static ProcessInvocation Command(string solution) =>
        new("dotnet", ["build", solution, "-nologo", "-v", "q", "-clp:NoSummary"]);

    /// <summary>
    /// Returns null on success, or the text to show on failure. Skips MSBuild when the inputs are as after the last
    /// successful build and <paramref name="outputs"/> exist (see <see cref="BuildFingerprint"/>).
    /// </summary>
    public static string? Run(RepositoryLayout repo, IEnumerable<string>? outputs = null)
    {
        string solution = repo.Solution;
        if (!File.Exists(solution))
        {
            return $"exectos: error: no solution to build at {solution}";
        }

        string[] expected = outputs?.ToArray() ?? [];
        if (expected.Length != 0 && BuildFingerprint.IsCurrent(repo, expected))
        {
            return null;
        }

        // Hashed before the build: a file changed while it runs builds again next time.
        string fingerprint = BuildFingerprint.Compute(repo.Root);
        (int exitCode, string output) = HostProcess.Capture(Command(solution), QuietDotnet);
        if (exitCode != 0)
        {
            return output.TrimEnd('\n');
        }

        BuildFingerprint.Record(repo, fingerprint);
        return null;
    }

    /// <summary>Keeps the SDK's first-run banners and telemetry notice out of captured output.</summary>
    public static IReadOnlyDictionary<string, string> QuietDotnet { get; } = new Dictionary<string, string>
    {
        ["DOTNET_NOLOGO"] = "1",
        ["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1",
    };
}
