using System;
using System.Globalization;

namespace ExectOS.Tool.Boot;

/// <summary>How the QEMU process ended, as seen from the host.</summary>
public enum SessionEnd
{
    /// <summary>QEMU exited by itself; the exit status is meaningful.</summary>
    Exited,

    /// <summary>The run was stopped because a serial line already decided it (a loader error).</summary>
    StoppedByVerdict,

    /// <summary>The time limit passed and QEMU was killed.</summary>
    TimedOut,

    /// <summary>The user or a signal interrupted exectos.</summary>
    Interrupted,
}

/// <summary>What the QEMU session produced, without the serial text itself.</summary>
public sealed record SessionResult(SessionEnd End, int ExitStatus, TimeSpan Elapsed);

/// <summary>The final line of a boot run and the exit status that goes with it.</summary>
public sealed record Verdict(int ExitCode, string Line)
{
    public bool Passed => ExitCode == ExitCodes.Pass;

    public static Verdict Fail(string what, int exitCode = ExitCodes.Fail) => new(exitCode, "exectos: FAIL " + what);
}

/// <summary>Decides a boot run from how QEMU ended and what the serial port said.</summary>
public static class BootVerdict
{
    public static Verdict Decide(SessionResult session, BootMonitor monitor, double timeoutSeconds)
    {
        // A loader error line decides the run even if QEMU ended some other way before the line was read.
        if (monitor.LoaderError is not null)
        {
            return Verdict.Fail("loader: " + monitor.LoaderError);
        }

        if (session.End == SessionEnd.Interrupted)
        {
            return Verdict.Fail("interrupted", ExitCodes.Interrupted);
        }

        // Never a pass once the kernel said why it ends the boot, whatever QEMU did next.
        if (monitor.KernelError is not null)
        {
            return Verdict.Fail("kernel: " + monitor.KernelError);
        }

        switch (session.End)
        {
            case SessionEnd.TimedOut:
                return Verdict.Fail(
                    $"timeout after {FormatSeconds(timeoutSeconds)} s; last serial line: {monitor.LastLine ?? "(none)"}");
        }

        int status = session.ExitStatus;
        if (status == BootProtocol.QemuExitStatus(BootProtocol.KernelSuccess))
        {
            string seconds = session.Elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture);
            return new Verdict(ExitCodes.Pass, $"exectos: PASS kernel reported success in {seconds} s");
        }

        if (status == BootProtocol.QemuExitStatus(BootProtocol.KernelBugCheck))
        {
            return monitor.BugCheck is { } stop
                ? Verdict.Fail(FormatBugCheck(stop))
                : Verdict.Fail("kernel reported failure without a bug check line");
        }

        if (status == 0)
        {
            // With -no-reboot a reset (a triple fault included) ends QEMU with 0, as does a firmware shutdown.
            return Verdict.Fail("machine reset or powered off before the kernel reported (triple fault?)");
        }

        return Verdict.Fail($"qemu exited with status {status.ToString(CultureInfo.InvariantCulture)}");
    }

    public static string FormatBugCheck(BugCheck stop)
    {
        string name = stop.Name.Length > 0 ? " " + stop.Name : string.Empty;
        return $"bug check {stop.Code}{name} ({stop.Parameter1}, {stop.Parameter2}, {stop.Parameter3}, {stop.Parameter4})";
    }

    public static string FormatSeconds(double seconds) => seconds.ToString("0.###", CultureInfo.InvariantCulture);
}
