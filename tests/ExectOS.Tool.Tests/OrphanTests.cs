using System;
using System.Diagnostics;
using System.IO;
using System.Threading;
using ExectOS.Tool.Boot;
using Xunit;

namespace ExectOS.Tool.Tests;

/// <summary>QEMU ends with the exectos process that started it, however that ends.</summary>
[Trait("Category", "Boot")]
public sealed class OrphanTests : IDisposable
{
    private const string Hello = "stub: hello from COM1";

    private readonly string _root = Directory.CreateTempSubdirectory("exectos-orphan-tests-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void QemuIsStartedThroughSetprivWithAParentDeathSignal()
    {
        ProcessInvocation wrapped = HostProcess.DiesWithParent(new ProcessInvocation("qemu-system-x86_64", ["-m", "1G"]));

        Assert.Equal("/usr/bin/setpriv", wrapped.FileName);
        Assert.Equal(["--pdeathsig", "KILL", "--", "qemu-system-x86_64", "-m", "1G"], wrapped.Arguments);
    }

    [Fact]
    public void KillingExectosMidBootEndsQemu()
    {
        string loader = StubEfiImage.WriteTo(_root, "BOOTX64.EFI", StubEfiImage.Hang(Hello + "\r\n"));
        string kernel = StubEfiImage.WriteTo(_root, "xtoskrnl.exe", [0x4D, 0x5A]);
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (string argument in new[] { typeof(BootCommand).Assembly.Location, "boot", "--no-build", "--loader", loader, "--kernel", kernel, "--timeout", "600" })
        {
            start.ArgumentList.Add(argument);
        }

        using var booted = new ManualResetEventSlim();
        using var exectos = Process.Start(start)!;
        exectos.OutputDataReceived += (_, e) =>
        {
            if (e.Data == Hello)
            {
                booted.Set();
            }
        };
        exectos.BeginOutputReadLine();
        exectos.BeginErrorReadLine();
        Assert.True(booted.Wait(TimeSpan.FromMinutes(3)), "the stub loader never printed its line");

        int qemu = Assert.Single(ChildrenOf(exectos.Id));
        Assert.StartsWith("qemu-system-x86", File.ReadAllText($"/proc/{qemu}/comm"));
        exectos.Kill(entireProcessTree: false);
        exectos.WaitForExit();

        // The kernel delivers SIGKILL to QEMU as its parent goes; allow a loaded machine a few seconds to reap it.
        var deadline = Stopwatch.StartNew();
        while (IsRunning(qemu) && deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            Thread.Sleep(100);
        }

        bool orphaned = IsRunning(qemu);
        if (orphaned)
        {
            Process.GetProcessById(qemu).Kill();
        }

        Assert.False(orphaned, $"QEMU (pid {qemu}) outlived the exectos that started it");
    }

    private static int[] ChildrenOf(int pid)
    {
        var children = new System.Collections.Generic.List<int>();
        foreach (string task in Directory.GetDirectories($"/proc/{pid}/task"))
        {
            foreach (string child in File.ReadAllText(Path.Combine(task, "children")).Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                children.Add(int.Parse(child, System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return children.ToArray();
    }

    /// <summary>Alive and not a zombie waiting for whoever inherited it to reap it.</summary>
    private static bool IsRunning(int pid)
    {
        try
        {
            foreach (string line in File.ReadAllLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("State:", StringComparison.Ordinal))
                {
                    return !line.Contains("zombie", StringComparison.Ordinal);
                }
            }

            return false;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or IOException)
        {
            return false;
        }
    }
}
