using System;
using System.IO;

namespace ExectOS.Tool;

/// <summary>Where things live in the repository: solution, images, test results.</summary>
public sealed record RepositoryLayout(string Root)
{
    public string ArtifactsDirectory => Path.Combine(Root, "artifacts");

    public string TestResultsDirectory => Path.Combine(ArtifactsDirectory, "test-results");

    public string ImagesDirectory(string architecture) => Path.Combine(ArtifactsDirectory, "images", architecture);

    /// <summary>The solution to build and test; ExectOS.sln, or the .slnx that newer SDKs create.</summary>
    public string Solution
    {
        get
        {
            string sln = Path.Combine(Root, "ExectOS.sln");
            string slnx = Path.Combine(Root, "ExectOS.slnx");
            return !File.Exists(sln) && File.Exists(slnx) ? slnx : sln;
        }
    }

    /// <summary>Finds the repository from this assembly's location, falling back to the working folder.</summary>
    public static RepositoryLayout? TryLocate()
    {
        string? root = TryFindRoot(AppContext.BaseDirectory) ?? TryFindRoot(Environment.CurrentDirectory);
        return root is null ? null : new RepositoryLayout(root);
    }

    private static string? TryFindRoot(string start)
    {
        for (DirectoryInfo? dir = new(start); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "global.json")) && File.Exists(Path.Combine(dir.FullName, "exectos")))
            {
                return dir.FullName;
            }
        }

        return null;
    }
}
