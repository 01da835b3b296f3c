using System;
using System.Diagnostics;
using System.IO;

namespace ExectOS.Bench;

/// <summary>
/// The exectos command itself: a no-op <c>./exectos boot</c> (nothing to build) from the shell to QEMU's start, with a
/// stand-in QEMU that answers the tool's probe and ends at once with the kernel's success status, against starting
/// <c>true</c>, the empty process. The first (warm-up) round builds what is stale.
/// </summary>
internal static class ToolBenchmarks
{
    public static Benchmark[] Build()
    {
        // The exectos command is a Linux one (QEMU, OVMF, Debian packages).
        string? repo = FindRepository();
        if (repo is null || !OperatingSystem.IsLinux())
            return [];
        string fakes = Directory.CreateTempSubdirectory("exectos-bench-qemu-").FullName;
        string qemu = Path.Combine(fakes, "qemu-system-x86_64");
        // The tool asks QEMU whether its RAM backend takes reserve=, then boots; 33 is isa-debug-exit's success.
        File.WriteAllText(qemu, "#!/bin/sh\ncase \"$*\" in *help*) echo 'reserve=<bool>'; exit 0;; esac\nexit 33\n");
        File.SetUnixFileMode(qemu, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Directory.Delete(fakes, recursive: true);
        string path = fakes + Path.PathSeparator + Environment.GetEnvironmentVariable("PATH");
        return
        [
            new Benchmark("no-op boot decision: ./exectos boot to QEMU's start, nothing to build (QEMU a stand-in that exits at once)", "boots", 1,
                "./exectos boot", () => Run(Path.Combine(repo, "exectos"), ["boot", "--timeout", "30"], repo, path), "true (the empty process)", () => Run("true", [], repo, path), () => { }),
        ];
    }

    private static void Run(string program, string[] arguments, string directory, string path)
    {
        var start = new ProcessStartInfo(program, arguments) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["PATH"] = path;
        using Process process = Process.Start(start)!;
        System.Threading.Tasks.Task<string> errors = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd() + errors.Result;
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"benchmark run of {program} failed with status {process.ExitCode}: {output}");
    }

    /// <summary>The repository this bench was built from: the folder above it with global.json and exectos.</summary>
    private static string? FindRepository()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "global.json")) && File.Exists(Path.Combine(dir.FullName, "exectos")))
                return dir.FullName;
        }
        return null;
    }
}
