using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Text;
using System.Threading.Tasks;
using ExectOS.Tool.Boot;

namespace ExectOS.Tool;

/// <summary>Helpers for running host programs: PATH look-up and runs with captured output.</summary>
public static class HostProcess
{
    /// <summary>Output pipes can outlive a build: MSBuild and compiler servers inherit them. Stop waiting after this.</summary>
    private static readonly TimeSpan DrainGrace = TimeSpan.FromSeconds(5);

    /// <summary>The full path of <paramref name="program"/> on PATH, or null.</summary>
    public static string? FindOnPath(string program)
    {
        if (program.Contains('/', StringComparison.Ordinal))
        {
            return File.Exists(program) ? Path.GetFullPath(program) : null;
        }

        string path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        foreach (string dir in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(dir, program);
            if (File.Exists(candidate) && IsExecutable(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>
    /// The same program, started through util-linux's <c>setpriv --pdeathsig KILL</c> where it is on PATH, so the
    /// kernel kills it when this process ends however it ends (SIGKILL included). The signal follows the thread that
    /// started the child, so start it from a thread that lives as long as the child is wanted.
    /// </summary>
    public static ProcessInvocation DiesWithParent(ProcessInvocation invocation) =>
        FindOnPath("setpriv") is { } setpriv
            ? new ProcessInvocation(setpriv, ["--pdeathsig", "KILL", "--", invocation.FileName, .. invocation.Arguments])
            : invocation;

    /// <summary>
    /// A start description with every stream redirected: stdin too, because QEMU reads the serial port's
    /// input from it and would put a terminal into raw mode (left that way if it is killed).
    /// </summary>
    public static ProcessStartInfo CreateStartInfo(ProcessInvocation invocation)
    {
        var startInfo = new ProcessStartInfo(invocation.FileName)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string argument in invocation.Arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        return startInfo;
    }

    /// <summary>Runs a program to completion on this process's own streams (its output goes straight to the user).</summary>
    public static int RunInherited(ProcessInvocation invocation, IReadOnlyDictionary<string, string> environment)
    {
        var startInfo = new ProcessStartInfo(invocation.FileName) { UseShellExecute = false };
        foreach (string argument in invocation.Arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        foreach ((string name, string value) in environment)
        {
            startInfo.Environment[name] = value;
        }

        using var process = Process.Start(startInfo)!;
        process.WaitForExit();
        return process.ExitCode;
    }

    /// <summary>Runs a program to completion with stdout and stderr merged into one captured text.</summary>
    public static (int ExitCode, string Output) Capture(ProcessInvocation invocation, IReadOnlyDictionary<string, string>? environment = null)
    {
        ProcessStartInfo startInfo = CreateStartInfo(invocation);
        foreach ((string name, string value) in environment ?? new Dictionary<string, string>())
        {
            startInfo.Environment[name] = value;
        }

        var output = new StringBuilder();
        using var process = Process.Start(startInfo)!;
        process.StandardInput.Close();
        Task outPump = Task.Run(() => Collect(process.StandardOutput, output));
        Task errPump = Task.Run(() => Collect(process.StandardError, output));
        process.WaitForExit();
        Task.WaitAll([outPump, errPump], DrainGrace);
        lock (output)
        {
            return (process.ExitCode, output.ToString());
        }
    }

    private static void Collect(StreamReader reader, StringBuilder output)
    {
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            lock (output)
            {
                output.Append(line).Append('\n');
            }
        }
    }

    private static bool IsExecutable(string path) =>
        OperatingSystem.IsWindows()
        || (File.GetUnixFileMode(path) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0;
}
