using System;
using System.ComponentModel;
using System.IO;
using System.Runtime.InteropServices;
using System.Threading;
using ExectOS.Tool.Cli;

namespace ExectOS.Tool.Boot;

/// <summary><c>exectos boot</c>: build, assemble the boot volume, run QEMU, print the verdict as the last line.</summary>
public sealed class BootCommand(RepositoryLayout repo, TextWriter output)
{
    private readonly object _outputLock = new();

    public int Run(BootOptions options)
    {
        Verdict verdict;
        try
        {
            verdict = Execute(options);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or Win32Exception)
        {
            // Whatever went wrong on the host, the last line must still be the verdict.
            verdict = Verdict.Fail("host error: " + e.Message);
        }

        WriteLine(verdict.Line);
        return verdict.ExitCode;
    }

    private Verdict Execute(BootOptions options)
    {
        ArchitectureProfile profile = ArchitectureProfile.Find(options.Architecture)
            ?? throw new ArgumentException($"unknown architecture {options.Architecture}", nameof(options));
        if (!profile.IsBuilt)
        {
            return Verdict.Fail($"architecture {profile.Name} is not built yet", ExitCodes.Usage);
        }

        if (options.Debug && !Debugger.Knows(profile.Name))
        {
            return Verdict.Fail($"exectos debug does not know {profile.Name} yet (it knows {string.Join(", ", Debugger.Architectures)})", ExitCodes.Usage);
        }

        (string? debugger, string install) = options.Debug ? Debugger.Find(options.Debugger) : (null, "");
        if (options.Debug && debugger is null)
        {
            return Verdict.Fail($"{options.Debugger.ToString().ToLowerInvariant()} not found; run: sudo apt-get install -y {install}", ExitCodes.MissingHostTool);
        }

        string imagesDirectory = repo.ImagesDirectory(profile.Name);
        if (!options.NoBuild && BuildStep.Run(repo, profile.Images(imagesDirectory)) is { } buildOutput)
        {
            WriteLine(buildOutput);
            return Verdict.Fail("build failed", ExitCodes.BuildFailed);
        }

        string loader = Path.GetFullPath(options.Loader ?? Path.Combine(imagesDirectory, profile.BootFileName));
        // "--kernel none" boots a volume without a kernel, to see the loader say so.
        bool noKernel = options.Kernel == BootOptions.NoKernel;

        string? kernel = noKernel ? null : Path.GetFullPath(options.Kernel ?? Path.Combine(imagesDirectory, BootProtocol.KernelImageName));
        string? symbols = options.Debug ? Debugger.SymbolImage(repo, profile, options.Debugger) : null;
        foreach (string? image in (ReadOnlySpan<string?>)[loader, kernel, symbols])
        {
            if (image is not null && !File.Exists(image))
            {
                return Verdict.Fail("missing image " + image, ExitCodes.BuildFailed);
            }
        }

        string? qemu = HostProcess.FindOnPath(profile.QemuBinary);
        if (qemu is null)
        {
            return Verdict.Fail(profile.QemuBinary + " not found", ExitCodes.MissingHostTool);
        }

        foreach (string firmware in (ReadOnlySpan<string>)[profile.FirmwareCode, profile.FirmwareVars])
        {
            if (!File.Exists(firmware))
            {
                return Verdict.Fail("missing firmware " + firmware, ExitCodes.MissingHostTool);
            }
        }

        bool keep = Environment.GetEnvironmentVariable("EXECTOS_KEEP_TEMP") == "1";
        using BootVolume volume = BootVolume.Create(profile, loader, kernel, keep, options.KernelParameters);
        Verdict verdict = Boot(profile, options, volume, HasUnreservedRam(qemu), debugger is null ? null : (debugger, symbols!));
        if (volume.Keep)
        {
            WriteLine("exectos: kept temporary folder " + volume.Root);
        }

        return verdict;
    }

    /// <param name="debugger">For exectos debug: the debugger program and the kernel's symbols image.</param>
    private Verdict Boot(ArchitectureProfile profile, BootOptions options, BootVolume volume, bool unreservedRam, (string Program, string Symbols)? debugger)
    {
        ProcessInvocation qemu = QemuCommandLine.Build(profile, options, volume.FirmwareVars, volume.VolumeDirectory, unreservedRam);
        WriteLine("exectos: qemu " + qemu.Display());
        if (!unreservedRam)
        {
            WriteLine($"exectos: note: {profile.QemuBinary} has no memory-backend-ram reserve=off (QEMU 6.1 or later): guest RAM is reserved up front and cannot exceed what the host can commit");
        }

        if (options.Gdb)
        {
            WriteLine("exectos: waiting for gdb on " + QemuCommandLine.GdbEndpoint);
        }

        // A debugger session can sit at a breakpoint for as long as it likes.
        TimeSpan? timeout = options.Gdb ? null : TimeSpan.FromSeconds(options.TimeoutSeconds);
        var monitor = new BootMonitor();
        var serial = new System.Collections.Generic.List<string>();
        using var interrupt = new CancellationTokenSource();
        using PosixSignalRegistration sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, options.Debug ? LeaveToTheDebugger : Interrupt);
        using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Interrupt);
        using PosixSignalRegistration sighup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, Interrupt);

        ProcessInvocation? attach = debugger is not { } d ? null
            : Debugger.Build(options.Debugger, d.Program, profile, d.Symbols, Debugger.LinkBase(d.Symbols), options.DebuggerCommands);
        int debuggerStatus = -1;
        var debuggerThread = new Thread(() =>
        {
            debuggerStatus = Debugger.WaitForStub(TimeSpan.FromSeconds(30))
                ? HostProcess.RunInherited(attach!, new System.Collections.Generic.Dictionary<string, string>())
                : ExitCodes.Fail;
            interrupt.Cancel();
        });
        if (attach is not null)
        {
            WriteLine("exectos: debugger " + attach.Display());
            // Its own session: a Ctrl-C at the terminal is the debugger's (it stops the guest), not a signal that ends QEMU.
            qemu = new ProcessInvocation("setsid", [qemu.FileName, .. qemu.Arguments]);
        }

        SessionResult session = QemuSession.Run(
            qemu,
            timeout,
            line =>
            {
                WriteLine(line);
                if (options.Report is not null)
                {
                    serial.Add(line);
                }

                return monitor.Observe(line);
            },
            WriteLine,
            interrupt.Token,
            attach is null ? null : debuggerThread.Start);
        if (attach is not null)
        {
            debuggerThread.Join();
            return debuggerStatus == 0
                ? new Verdict(ExitCodes.Pass, "exectos: debugger exited with status 0")
                : Verdict.Fail($"debugger exited with status {debuggerStatus}");
        }

        Verdict verdict = BootVerdict.Decide(session, monitor, options.TimeoutSeconds);
        return options.Report is null ? verdict : WriteReport(options.Report, serial, verdict);

        void Interrupt(PosixSignalContext context)
        {
            // Stay alive long enough to stop QEMU and delete the temporary folder.
            context.Cancel = true;
            interrupt.Cancel();
        }

        static void LeaveToTheDebugger(PosixSignalContext context) => context.Cancel = true;
    }

    /// <summary>
    /// The report page from the serial log's data records. A boot that passed without them fails (the report was
    /// asked for); a failed boot keeps its verdict, with a line saying why there is no report.
    /// </summary>
    private Verdict WriteReport(string path, System.Collections.Generic.List<string> serial, Verdict verdict)
    {
        (Report.BootData? data, string? error) = Report.BootData.Parse(serial);
        if (data is null)
        {
            if (verdict.Passed)
            {
                return Verdict.Fail("report: " + error);
            }

            WriteLine("exectos: no report: " + error);
            return verdict;
        }

        Report.BootReportPage.WriteAtomically(path, Report.BootReportPage.Render(data, serial, verdict.Line));
        WriteLine($"exectos: report {Path.GetFullPath(path)} ({data.Ranges.Count} memory ranges, {data.Regions.Count} layout regions)");
        return verdict;
    }

    /// <summary>Whether this QEMU's memory-backend-ram takes <c>reserve=off</c> (QEMU 6.1 and later).</summary>
    private static bool HasUnreservedRam(string qemu)
    {
        (int exitCode, string help) = HostProcess.Capture(new ProcessInvocation(qemu, ["-object", "memory-backend-ram,help"]));
        return exitCode == 0 && help.Contains("reserve=", StringComparison.Ordinal);
    }

    /// <summary>Serial and QEMU's stderr arrive on two threads; one lock keeps lines whole.</summary>
    private void WriteLine(string line)
    {
        lock (_outputLock)
        {
            output.WriteLine(line);
            output.Flush();
        }
    }
}
