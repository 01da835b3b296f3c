using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using ExectOS.Tool.Boot;

namespace ExectOS.Tool.Testing;

/// <summary>
/// What <c>dotnet test</c> on the solution would run, found without MSBuild: the solution's projects that say
/// <c>&lt;IsTestProject&gt;true&lt;/IsTestProject&gt;</c>, each one's Debug output assembly, and the boot images the
/// boot tests read. Only plain project files are understood (one TargetFramework, the assembly named after the project
/// unless an AssemblyName says otherwise); anything else gives null, and the tests are run from the solution.
/// </summary>
public static partial class TestAssemblies
{
    public const string Configuration = "Debug";

    /// <summary>The test assemblies, or null when a project is of a shape this reading does not know.</summary>
    public static IReadOnlyList<string>? Find(RepositoryLayout repo)
    {
        string solution = repo.Solution;
        if (!File.Exists(solution))
        {
            return null;
        }

        var assemblies = new List<string>();
        foreach (string relative in Projects(File.ReadAllText(solution)))
        {
            string project = Path.GetFullPath(Path.Combine(repo.Root, relative.Replace('\\', Path.DirectorySeparatorChar)));
            if (!File.Exists(project))
            {
                return null;
            }

            string text = File.ReadAllText(project);
            if (!TestProject().IsMatch(text))
            {
                continue;
            }

            string[] frameworks = [.. TargetFramework().Matches(text).Select(m => m.Groups[1].Value.Trim())];
            if (frameworks.Length != 1 || frameworks[0].Contains(';') || frameworks[0].Contains('$') || TargetFrameworks().IsMatch(text))
            {
                return null;
            }

            string[] names = [.. AssemblyName().Matches(text).Select(m => m.Groups[1].Value.Trim())];
            if (names.Length > 1 || names.Any(n => n.Contains('$')))
            {
                return null;
            }

            string name = names.Length == 1 ? names[0] : Path.GetFileNameWithoutExtension(project);
            assemblies.Add(Path.Combine(Path.GetDirectoryName(project)!, "bin", Configuration, frameworks[0], name + ".dll"));
        }

        return assemblies.Count == 0 ? null : assemblies;
    }

    /// <summary>Every boot image the solution's build makes (the boot tests start them).</summary>
    public static IEnumerable<string> Images(RepositoryLayout repo) =>
        ArchitectureProfile.All.Where(p => p.IsBuilt).SelectMany(p => p.Images(repo.ImagesDirectory(p.Name)));

    /// <summary>The project paths of a .sln (<c>Project(...) = "name", "path", ...</c>) or .slnx (<c>Path="..."</c>) file.</summary>
    public static IEnumerable<string> Projects(string solution) =>
        SlnProject().Matches(solution).Select(m => m.Groups[1].Value)
            .Concat(SlnxProject().Matches(solution).Select(m => m.Groups[1].Value))
            .Where(p => p.EndsWith(".csproj", StringComparison.OrdinalIgnoreCase));

    [GeneratedRegex("""^Project\("[^"]*"\)\s*=\s*"[^"]*"\s*,\s*"([^"]+)"\s*,""", RegexOptions.Multiline)]
    private static partial Regex SlnProject();

    [GeneratedRegex("<Project\\s[^>]*Path=\"([^\"]+)\"")]
    private static partial Regex SlnxProject();

    [GeneratedRegex(@"<IsTestProject>\s*true\s*</IsTestProject>", RegexOptions.IgnoreCase)]
    private static partial Regex TestProject();

    [GeneratedRegex(@"<TargetFramework>([^<]*)</TargetFramework>")]
    private static partial Regex TargetFramework();

    [GeneratedRegex(@"<TargetFrameworks>")]
    private static partial Regex TargetFrameworks();

    [GeneratedRegex(@"<AssemblyName>([^<]*)</AssemblyName>")]
    private static partial Regex AssemblyName();
}
