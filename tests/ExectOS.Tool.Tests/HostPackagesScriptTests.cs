using System;
using System.Diagnostics;
using System.IO;
using Xunit;

namespace ExectOS.Tool.Tests;

/// <summary>
/// The ./exectos script's first run, sourced into bash with a fake apt-get and id: one line per step, apt's
/// output only in the log (and on the terminal when a step fails), exit status 3 with the command when not root.
/// </summary>
public sealed class HostPackagesScriptTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("exectos-host-packages-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Log => Path.Combine(_root, "artifacts", "host-packages.log");

    [Fact]
    public void AsRootEachStepIsOneLineAndAptsOutputGoesToTheLog()
    {
        (int status, string[] lines) = Run(uid: 0);

        Assert.Equal(0, status);
        Assert.Equal(
            [
                $"exectos: installing host packages: lld qemu-system-x86 (log: {Log})",
                "exectos: [1/3] apt-get update",
                "exectos: [2/3] downloading lld qemu-system-x86",
                "exectos: [3/3] installing lld qemu-system-x86",
                "exectos: host packages installed",
                "ensure_host_packages returned",
            ],
            lines);
        string log = File.ReadAllText(Log);
        Assert.Contains("+ apt-get update\n", log);
        Assert.Contains("+ apt-get install -y --download-only lld qemu-system-x86\n", log);
        Assert.Contains("Setting up lld (1:14.0-55.7) ...\n", log);
        Assert.Equal(
            "-q -o Dpkg::Use-Pty=0 update\n-q -o Dpkg::Use-Pty=0 install -y --download-only lld qemu-system-x86\n-q -o Dpkg::Use-Pty=0 install -y lld qemu-system-x86\n",
            File.ReadAllText(Path.Combine(_root, "calls")));
    }

    [Fact]
    public void AFailedStepShowsTheLogAndExitsThree()
    {
        (int status, string[] lines) = Run(uid: 0, failOn: "install -y lld");

        Assert.Equal(3, status);
        Assert.Equal("exectos: [3/3] installing lld qemu-system-x86", lines[3]);
        Assert.Contains("E: Unable to locate package lld", lines);
        Assert.Equal($"exectos: FAIL apt-get install -y lld qemu-system-x86 exited with status 100; the log above is in {Log}", lines[^1]);
    }

    [Fact]
    public void PackagesStillMissingAfterTheInstallAreAFail()
    {
        (int status, string[] lines) = Run(uid: 0, installWorks: false);

        Assert.Equal(3, status);
        Assert.Equal($"exectos: FAIL still missing after the install: lld qemu-system-x86; apt's log is in {Log}", lines[^1]);
    }

    [Fact]
    public void NotRootExitsThreeWithTheCommandToRun()
    {
        (int status, string[] lines) = Run(uid: 1000);

        Assert.Equal(3, status);
        Assert.Equal(["exectos: missing host packages; run: sudo apt-get install -y lld qemu-system-x86"], lines);
        Assert.False(File.Exists(Path.Combine(_root, "calls")), "apt-get ran without root");
    }

    [Fact]
    public void NothingMissingIsSilent()
    {
        File.WriteAllText(Path.Combine(_root, "installed"), "");

        (int status, string[] lines) = Run(uid: 1000);

        Assert.Equal(0, status);
        Assert.Equal(["ensure_host_packages returned"], lines);
    }

    /// <summary>Sources ./exectos (which then only defines its functions) and runs ensure_host_packages with fakes.</summary>
    private (int Status, string[] Lines) Run(int uid, string? failOn = null, bool installWorks = true)
    {
        string script = $$"""
            source '{{Path.Combine(RepositoryLayout.TryLocate()!.Root, "exectos")}}'
            repo='{{_root}}'
            missing_host_packages() { [[ -f '{{_root}}/installed' ]] || printf '%s\n' lld qemu-system-x86; }
            id() { echo {{uid}}; }
            apt-get() {
                echo "$*" >>'{{_root}}/calls'
                echo "Reading package lists..."
                if [[ -n '{{failOn}}' && "$*" == *'{{failOn}}'* ]]; then echo "E: Unable to locate package lld" >&2; return 100; fi
                if [[ "$*" == *"install -y lld"* ]]; then
                    echo "Setting up lld (1:14.0-55.7) ..."
                    {{(installWorks ? $"touch '{_root}/installed'" : ":")}}
                fi
            }
            ensure_host_packages
            echo "ensure_host_packages returned" >&2
            """;
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        using var process = Process.Start(start)!;
        var stderrRead = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        string stderr = stderrRead.GetAwaiter().GetResult();
        process.WaitForExit();
        Assert.Equal("", stdout);
        return (process.ExitCode, stderr.TrimEnd('\n').Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }
}
