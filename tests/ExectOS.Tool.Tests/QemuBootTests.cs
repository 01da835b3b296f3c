using System;
using System.Diagnostics;
using System.IO;
using ExectOS.Tool.Boot;
using ExectOS.Tool.Cli;
using Xunit;

namespace ExectOS.Tool.Tests;

/// <summary>Every verdict path through real QEMU and OVMF, with stub EFI applications as the loader.</summary>
/// <remarks>One class, so xunit runs these one after another: several TCG guests at once on two cores
/// would only make each slower. Each boot spends about 4 s in OVMF before the stub runs.</remarks>
[Trait("Category", "Boot")]
public sealed class QemuBootTests : IDisposable
{
    private const string Hello = "stub: hello from COM1\r\n";

    private readonly string _root = Directory.CreateTempSubdirectory("exectos-boot-tests-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void KernelSuccessPasses()
    {
        BootRun run = Boot(StubEfiImage.ExitWith(Hello, BootProtocol.KernelSuccess));

        Assert.Equal(0, run.ExitCode);
        Assert.StartsWith("exectos: qemu qemu-system-x86_64 -machine q35 ", run.Lines[0]);
        Assert.Contains(run.Lines, line => line.StartsWith("BdsDxe: starting Boot", StringComparison.Ordinal));
        Assert.Contains("stub: hello from COM1", run.Lines);
        Assert.Matches(@"^exectos: PASS kernel reported success in \d+\.\d s$", run.LastLine);
    }

    [Fact]
    public void BugCheckReportsTheStopLine()
    {
        const string stop = "\u001b[31m*** STOP: 0x0000001E (0xFFFFFFFFC0000005, 0x0000000000000001, 0x0000000000000002, "
            + "0x0000000000000003) KMODE_EXCEPTION_NOT_HANDLED\u001b[0m\r\n";
        BootRun run = Boot(StubEfiImage.ExitWith(Hello + stop, BootProtocol.KernelBugCheck));

        Assert.Equal(1, run.ExitCode);
        Assert.Equal(
            "exectos: FAIL bug check 0x0000001E KMODE_EXCEPTION_NOT_HANDLED "
            + "(0xFFFFFFFFC0000005, 0x0000000000000001, 0x0000000000000002, 0x0000000000000003)",
            run.LastLine);
    }

    [Fact]
    public void BugCheckWithoutStopLine()
    {
        BootRun run = Boot(StubEfiImage.ExitWith(Hello, BootProtocol.KernelBugCheck));

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("exectos: FAIL kernel reported failure without a bug check line", run.LastLine);
    }

    [Fact]
    public void LoaderErrorFailsFast()
    {
        const ulong EfiNotFound = 0x800000000000000E;
        BootRun run = Boot(
            StubEfiImage.ReturnStatus("XTLDR: error: cannot open \\EXECTOS\\XTOSKRNL.EXE (Not Found)\r\n", EfiNotFound),
            timeoutSeconds: 60);

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("exectos: FAIL loader: cannot open \\EXECTOS\\XTOSKRNL.EXE (Not Found)", run.LastLine);
        Assert.DoesNotContain(run.Lines, line => line.Contains("Shell>", StringComparison.Ordinal));
        Assert.True(run.Elapsed < TimeSpan.FromSeconds(30), $"took {run.Elapsed}");
    }

    [Fact]
    public void TripleFaultIsAReset()
    {
        BootRun run = Boot(StubEfiImage.TripleFault(Hello));

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("exectos: FAIL machine reset or powered off before the kernel reported (triple fault?)", run.LastLine);
    }

    [Fact]
    public void UnknownDebugExitValueIsReportedAsQemuStatus()
    {
        BootRun run = Boot(StubEfiImage.ExitWith(Hello, 0x20));

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("exectos: FAIL qemu exited with status 65", run.LastLine);
    }

    [Fact]
    public void QemuErrorsAppearAboveTheVerdict()
    {
        BootRun run = Boot(StubEfiImage.Hang(Hello), extraQemuArguments: ["-no-such-option"]);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains(run.Lines, line => line.Contains("-no-such-option", StringComparison.Ordinal) && !line.StartsWith("exectos:", StringComparison.Ordinal));
        Assert.Equal("exectos: FAIL qemu exited with status 1", run.LastLine);
    }

    [Fact]
    public void HungGuestTimesOut()
    {
        BootRun run = Boot(StubEfiImage.Hang(Hello), timeoutSeconds: 10);

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("exectos: FAIL timeout after 10 s; last serial line: stub: hello from COM1", run.LastLine);
    }

    private BootRun Boot(byte[] loader, double timeoutSeconds = 60, string[]? extraQemuArguments = null)
    {
        string loaderPath = StubEfiImage.WriteTo(_root, "BOOTX64.EFI", loader);
        string kernelPath = StubEfiImage.WriteTo(_root, "xtoskrnl.exe", [0x4D, 0x5A]);
        var options = new BootOptions
        {
            NoBuild = true,
            Loader = loaderPath,
            Kernel = kernelPath,
            TimeoutSeconds = timeoutSeconds,
            ExtraQemuArguments = extraQemuArguments ?? [],
        };

        var output = new StringWriter();
        var stopwatch = Stopwatch.StartNew();
        int exitCode = new BootCommand(new RepositoryLayout(_root), output).Run(options);
        string[] lines = output.ToString().TrimEnd('\n').Split('\n');
        return new BootRun(exitCode, lines, stopwatch.Elapsed);
    }

    private sealed record BootRun(int ExitCode, string[] Lines, TimeSpan Elapsed)
    {
        public string LastLine => Lines[^1];
    }
}
