using System;
using System.Collections.Generic;
using ExectOS.Tool.Boot;
using Xunit;

namespace ExectOS.Tool.Tests;

public sealed class BootVerdictTests
{
    private static readonly int SuccessStatus = BootProtocol.QemuExitStatus(BootProtocol.KernelSuccess);
    private static readonly int BugCheckStatus = BootProtocol.QemuExitStatus(BootProtocol.KernelBugCheck);

    [Fact]
    public void ProtocolValuesMatchQemuExitStatuses()
    {
        Assert.Equal(33, SuccessStatus);
        Assert.Equal(35, BugCheckStatus);
    }

    [Fact]
    public void KernelSuccessPasses()
    {
        (Verdict verdict, _) = Judge(
            SessionEnd.Exited,
            SuccessStatus,
            SerialSamples.FirmwareStart,
            SerialSamples.LoaderStart,
            SerialSamples.KernelStart,
            "XTOSKRNL: all checks passed\r\n");

        Assert.Equal(new Verdict(0, "exectos: PASS kernel reported success in 4.4 s"), verdict);
        Assert.True(verdict.Passed);
    }

    [Fact]
    public void BugCheckReportsTheStopLine()
    {
        (Verdict verdict, _) = Judge(
            SessionEnd.Exited,
            BugCheckStatus,
            SerialSamples.FirmwareStart,
            SerialSamples.LoaderStart,
            SerialSamples.KernelStart,
            SerialSamples.StopLine);

        Assert.Equal(
            new Verdict(
                1,
                "exectos: FAIL bug check 0x0000001E KMODE_EXCEPTION_NOT_HANDLED "
                + "(0xFFFFFFFFC0000005, 0xFFFFF80000123456, 0x0000000000000000, 0x0000000000000010)"),
            verdict);
    }

    [Fact]
    public void KernelErrorNamesTheReasonInsteadOfTheBugCheck()
    {
        (Verdict verdict, _) = Judge(
            SessionEnd.Exited,
            BugCheckStatus,
            SerialSamples.KernelStart,
            "XTOSKRNL: error: boot parameter TEST=NONSENSE names no test this kernel has; known: BUGCHECK\r\n",
            "*** STOP: 0xE0000003 (0x0000000000000001, 0x0000000000000000, 0x000000000000000D, 0x0000000000000000) BAD_BOOT_PARAMETER\r\n");

        Assert.Equal(new Verdict(1, "exectos: FAIL kernel: boot parameter TEST=NONSENSE names no test this kernel has; known: BUGCHECK"), verdict);
    }

    [Fact]
    public void KernelErrorIsNeverAPass()
    {
        (Verdict verdict, _) = Judge(SessionEnd.Exited, SuccessStatus, "XTOSKRNL: error: boot parameter SPECIAL-POOL= is not a pool tag\r\n");

        Assert.Equal(new Verdict(1, "exectos: FAIL kernel: boot parameter SPECIAL-POOL= is not a pool tag"), verdict);
    }

    [Fact]
    public void BugCheckUsesTheLastStopLineEvenWithEscapesAround()
    {
        (Verdict verdict, _) = Judge(
            SessionEnd.Exited,
            BugCheckStatus,
            SerialSamples.KernelStart,
            SerialSamples.StopLine,
            SerialSamples.Esc + "[31m*** STOP: 0x0000007f (0x0000000000000008, 0x0000000000000000, 0x0000000000000000, 0x0000000000000000) UNEXPECTED_KERNEL_MODE_TRAP"
            + SerialSamples.Esc + "[0m\r\n");

        Assert.Equal(
            "exectos: FAIL bug check 0x0000007f UNEXPECTED_KERNEL_MODE_TRAP "
            + "(0x0000000000000008, 0x0000000000000000, 0x0000000000000000, 0x0000000000000000)",
            verdict.Line);
    }

    [Fact]
    public void BugCheckWithoutStopLineSaysSo()
    {
        (Verdict verdict, _) = Judge(
            SessionEnd.Exited,
            BugCheckStatus,
            SerialSamples.FirmwareStart,
            SerialSamples.KernelStart,
            "*** STOP: garbled\r\n");

        Assert.Equal(new Verdict(1, "exectos: FAIL kernel reported failure without a bug check line"), verdict);
    }

    [Fact]
    public void LoaderErrorStopsTheRunAtThatLine()
    {
        var monitor = new BootMonitor();
        foreach (string line in Lines(SerialSamples.FirmwareStart, SerialSamples.LoaderStart))
        {
            Assert.False(monitor.Observe(line));
        }

        string errorLine = SerialSamples.Esc + "[31m" + SerialSamples.Esc + "[40mXTLDR: error: cannot open \\EXECTOS\\XTOSKRNL.EXE (Not Found)"
            + SerialSamples.Esc + "[0m";
        Assert.True(monitor.Observe(SerialLineReader.Clean(errorLine)));

        // Whatever the firmware does next (here: its shell, or QEMU already gone) does not change the verdict.
        Assert.False(monitor.Observe("Shell> "));
        foreach (SessionEnd end in new[] { SessionEnd.StoppedByVerdict, SessionEnd.Exited, SessionEnd.TimedOut })
        {
            Verdict verdict = BootVerdict.Decide(new SessionResult(end, 0, TimeSpan.FromSeconds(5)), monitor, 60);
            Assert.Equal(new Verdict(1, "exectos: FAIL loader: cannot open \\EXECTOS\\XTOSKRNL.EXE (Not Found)"), verdict);
        }
    }

    [Fact]
    public void OnlyALineThatStartsWithThePrefixIsALoaderError()
    {
        var monitor = new BootMonitor();
        Assert.False(monitor.Observe("XTOSKRNL: saw 'XTLDR: error: ' in a log"));
        Assert.False(monitor.Observe("XTLDR: errors: none"));
        Assert.Null(monitor.LoaderError);
    }

    [Fact]
    public void ExitWithoutVerdictIsAResetOrPowerOff()
    {
        (Verdict verdict, _) = Judge(SessionEnd.Exited, 0, SerialSamples.FirmwareStart, SerialSamples.LoaderStart, SerialSamples.KernelStart);

        Assert.Equal(new Verdict(1, "exectos: FAIL machine reset or powered off before the kernel reported (triple fault?)"), verdict);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(137)]
    public void AnyOtherExitStatusIsReported(int status)
    {
        (Verdict verdict, _) = Judge(SessionEnd.Exited, status, SerialSamples.FirmwareStart);

        Assert.Equal(new Verdict(1, $"exectos: FAIL qemu exited with status {status}"), verdict);
    }

    [Fact]
    public void TimeoutNamesTheLastSerialLine()
    {
        (Verdict verdict, BootMonitor monitor) = Judge(
            SessionEnd.TimedOut,
            -1,
            SerialSamples.FirmwareStart,
            SerialSamples.FirmwareShell);

        Assert.Equal("Shell> ", monitor.LastLine);
        Assert.Equal(new Verdict(1, "exectos: FAIL timeout after 15 s; last serial line: Shell> "), verdict);
    }

    [Fact]
    public void TimeoutSkipsBlankLinesAndCopesWithSilence()
    {
        (Verdict verdict, _) = Judge(SessionEnd.TimedOut, -1, SerialSamples.KernelStart, "\r\n   \r\n" + SerialSamples.Esc + "[2J\r\n");
        Assert.Equal("exectos: FAIL timeout after 15 s; last serial line: XTOSKRNL: physical memory 511 MiB", verdict.Line);

        (Verdict silent, _) = Judge(SessionEnd.TimedOut, -1);
        Assert.Equal("exectos: FAIL timeout after 15 s; last serial line: (none)", silent.Line);
    }

    [Fact]
    public void InterruptWinsOverTheExitStatus()
    {
        (Verdict verdict, _) = Judge(SessionEnd.Interrupted, 0, SerialSamples.FirmwareStart);

        Assert.Equal(new Verdict(130, "exectos: FAIL interrupted"), verdict);
    }

    [Theory]
    [InlineData(
        "*** STOP: 0x000000D1 (0x0000000000000000, 0x0000000000000002, 0x0000000000000000, 0xFFFFF80000001000)",
        "bug check 0x000000D1 (0x0000000000000000, 0x0000000000000002, 0x0000000000000000, 0xFFFFF80000001000)")]
    [InlineData(
        "early: *** STOP: 0x00000050 (0x0000000000000001, 0x0000000000000002, 0x0000000000000003, 0x0000000000000004) PAGE_FAULT_IN_NONPAGED_AREA  ",
        "bug check 0x00000050 PAGE_FAULT_IN_NONPAGED_AREA (0x0000000000000001, 0x0000000000000002, 0x0000000000000003, 0x0000000000000004)")]
    public void ParsesStopLineVariants(string line, string expected)
    {
        BugCheck? stop = BootMonitor.ParseBugCheck(line);
        Assert.NotNull(stop);
        Assert.Equal(expected, BootVerdict.FormatBugCheck(stop));
    }

    [Theory]
    [InlineData("*** STOP: 0x1E (0x0, 0x0, 0x0, 0x0) SHORT_NUMBERS")]
    [InlineData("*** STOP: 0x0000001E (0x0000000000000000, 0x0000000000000000, 0x0000000000000000) THREE_PARAMETERS")]
    [InlineData("STOP: 0x0000001E (0x0000000000000000, 0x0000000000000000, 0x0000000000000000, 0x0000000000000000) NO_STARS")]
    public void RejectsMalformedStopLines(string line)
    {
        Assert.Null(BootMonitor.ParseBugCheck(line));
    }

    /// <summary>Runs raw serial text through the same reader, monitor and decision as a real boot.</summary>
    private static (Verdict Verdict, BootMonitor Monitor) Judge(SessionEnd end, int status, params string[] serial)
    {
        var monitor = new BootMonitor();
        foreach (string line in Lines(serial))
        {
            monitor.Observe(line);
        }

        var session = new SessionResult(end, status, TimeSpan.FromSeconds(4.43));
        return (BootVerdict.Decide(session, monitor, 15), monitor);
    }

    private static List<string> Lines(params string[] serial)
    {
        var reader = new SerialLineReader();
        var lines = new List<string>(reader.Feed(SerialSamples.Bytes(serial)));
        if (reader.Finish() is { } last)
        {
            lines.Add(last);
        }

        return lines;
    }
}
