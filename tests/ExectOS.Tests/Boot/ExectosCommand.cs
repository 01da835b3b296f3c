using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using ExectOS.Tests.Snapshots;

namespace ExectOS.Tests.Boot;

/// <summary>Runs the user-facing <c>./exectos</c> command and captures what a user would see.</summary>
internal static class ExectosCommand
{
    public sealed record Result(int ExitCode, IReadOnlyList<string> Lines)
    {
        public string LastLine => Lines.Count == 0 ? "" : Lines[^1];

        public string Output => string.Join('\n', Lines);
    }

    public static Result Run(params string[] arguments)
        => Capture("bash", [Path.Combine(Snapshot.RepositoryRoot, "exectos"), .. arguments], TimeSpan.FromMinutes(5));

    /// <summary>Runs a program and collects its stdout and stderr lines; past <paramref name="timeout"/> it is killed and this throws.</summary>
    public static Result Capture(string program, IEnumerable<string> arguments, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in arguments)
            start.ArgumentList.Add(argument);
        var lines = new List<string>();
        using var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (lines) lines.Add(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (lines) lines.Add(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{string.Join(' ', start.ArgumentList.Prepend(program))} did not finish within {timeout.TotalMinutes} minutes");
        }
        process.WaitForExit();
        return new Result(process.ExitCode, lines);
    }

    /// <summary>Boots the images the test build produced, with a timeout generous enough for a loaded CI machine.</summary>
    public static Result Boot(params string[] extra)
    {
        var arguments = new List<string> { "boot", "--no-build", "--timeout", "150" };
        arguments.AddRange(extra);
        return Run(arguments.ToArray());
    }

    public static string KernelImage => Path.Combine(Snapshot.RepositoryRoot, "artifacts/images/amd64/xtoskrnl.exe");
}
