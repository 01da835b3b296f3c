using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;

namespace ExectOS.Tool.Boot;

/// <summary>
/// What the solution's build reads, as one hash: every file under the repository but build output (bin/, obj/,
/// artifacts/) and .git, by relative path, size and modification time. After a build that succeeded the hash is
/// kept in artifacts/; a boot whose inputs hash the same, with its images in place, skips MSBuild (which takes
/// seconds to find that nothing changed). Any added, removed, renamed, resized or touched file builds again.
/// </summary>
public static class BuildFingerprint
{
    private static readonly HashSet<string> Skipped = new(StringComparer.Ordinal) { "bin", "obj", "artifacts", ".git", "TestResults" };

    public static string FilePath(RepositoryLayout repo) => Path.Combine(repo.ArtifactsDirectory, "build-inputs.sha256");

    public static string Compute(string root)
    {
        var lines = new List<string>();
        var pending = new Stack<string>();
        pending.Push(root);
        while (pending.Count > 0)
        {
            string directory = pending.Pop();
            foreach (string entry in Directory.EnumerateFileSystemEntries(directory))
            {
                var info = new FileInfo(entry);
                if ((info.Attributes & FileAttributes.Directory) != 0)
                {
                    // Links to directories are followed by nothing the build does either.
                    if (!Skipped.Contains(info.Name) && (info.Attributes & FileAttributes.ReparsePoint) == 0)
                        pending.Push(entry);
                    continue;
                }
                lines.Add($"{Path.GetRelativePath(root, entry)}\t{info.Length}\t{info.LastWriteTimeUtc.Ticks}");
            }
        }
        lines.Sort(StringComparer.Ordinal);
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', lines))));
    }

    /// <summary>True when the inputs hash as after the last successful build and every output named exists.</summary>
    public static bool IsCurrent(RepositoryLayout repo, IEnumerable<string> outputs)
    {
        string file = FilePath(repo);
        return File.Exists(file) && outputs.All(File.Exists) && File.ReadAllText(file).Trim() == Compute(repo.Root);
    }

    public static void Record(RepositoryLayout repo, string fingerprint)
    {
        Directory.CreateDirectory(repo.ArtifactsDirectory);
        File.WriteAllText(FilePath(repo), fingerprint + "\n");
    }
}
