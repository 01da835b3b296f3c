using System;
using System.IO;
using System.Text;
using Xunit;

namespace ExectOS.Tests.Snapshots;

/// <summary>Compares text output with a reviewed file under <c>&lt;repo&gt;/snapshots</c>.</summary>
/// <remarks>
/// <c>Match("stubs/x64", text)</c> compares with <c>snapshots/stubs/x64.approved.txt</c>. On a
/// mismatch, or when no approved file exists yet, the output goes to the matching
/// <c>.received.txt</c> (git-ignored) so it can be diffed and, once reviewed, renamed over the
/// approved file. To accept every current output at once, run the tests with the environment
/// variable <c>EXECTOS_ACCEPT_SNAPSHOTS=1</c>: approved files are then written instead of compared,
/// and the change is reviewed in the git diff before committing.
/// </remarks>
public static class Snapshot
{
    public const string AcceptVariable = "EXECTOS_ACCEPT_SNAPSHOTS";

    private static readonly Encoding Utf8NoBom = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);
    private static readonly Lazy<string> Root = new(FindRepositoryRoot);

    /// <summary>The folder holding <c>global.json</c>, found by walking up from the test binaries.</summary>
    public static string RepositoryRoot => Root.Value;

    public static void Match(string relativeName, string actual)
    {
        string received = PathOf(relativeName, "received");
        string approved = PathOf(relativeName, "approved");
        string text = Normalize(actual);

        if (Environment.GetEnvironmentVariable(AcceptVariable) == "1")
        {
            Write(approved, text);
            File.Delete(received);
            return;
        }

        if (!File.Exists(approved))
        {
            Write(received, text);
            Assert.Fail($"No approved snapshot {approved}. The output is in {received}; review it, then "
                + $"rename it to the approved file or rerun with {AcceptVariable}=1.");
        }

        string expected = Normalize(File.ReadAllText(approved));
        if (expected == text)
        {
            File.Delete(received);
            return;
        }

        Write(received, text);
        Assert.Fail($"Snapshot {relativeName} differs from {approved}; the output is in {received}.\n"
            + FirstDifference(expected, text));
    }

    private static string PathOf(string relativeName, string kind)
    {
        if (Path.IsPathRooted(relativeName) || relativeName.Split('/', '\\').AsSpan().Contains(".."))
        {
            throw new ArgumentException($"Snapshot name '{relativeName}' must be relative and stay under snapshots/.", nameof(relativeName));
        }

        string[] parts = relativeName.Split('/', '\\');
        parts[^1] += $".{kind}.txt";
        return Path.Combine([RepositoryRoot, "snapshots", .. parts]);
    }

    // Checkouts on Windows may turn \n into \r\n; the snapshot is about content, not line endings.
    private static string Normalize(string text) => text.Replace("\r\n", "\n").Replace('\r', '\n');

    private static void Write(string path, string text)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text, Utf8NoBom);
    }

    private static string FirstDifference(string expected, string actual)
    {
        string[] want = expected.Split('\n');
        string[] got = actual.Split('\n');
        for (int i = 0; i < Math.Max(want.Length, got.Length); i++)
        {
            string? a = i < want.Length ? want[i] : null;
            string? b = i < got.Length ? got[i] : null;
            if (a != b)
            {
                return $"First difference at line {i + 1}:\n  approved: {a ?? "<end of file>"}\n  received: {b ?? "<end of file>"}";
            }
        }

        return "The texts differ only in ways the line split does not show.";
    }

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "global.json")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No global.json above {AppContext.BaseDirectory}; cannot find the repository root.");
    }
}
