using System;
using System.Linq;
using System.Text.RegularExpressions;
using Xunit;

namespace ExectOS.Tests.Boot;

/// <summary>
/// The processors in QEMU: the MADT as the kernel reads it, MAXCPUS, a missing MADT, and the other processors
/// started (INIT-SIPI-SIPI), each reaching the kernel on its own stack and tables and reporting its own APIC id.
/// </summary>
[Collection("QEMU")]
[Trait("Category", "Boot")]
public sealed class ProcessorBootTests
{
    private static readonly Regex Root = new(@"^XTOSKRNL: ACPI: root pointer at 0x[0-9A-F]{8,16}, revision 2, XSDT at 0x[0-9A-F]{8,16} with \d+ tables$");

    [Theory]
    [InlineData("amd64", 4, "qemu64", "", 4, "")]
    [InlineData("amd64", 4, "qemu64", "MAXCPUS=2", 2, "; 2 left out by MAXCPUS=2")]
    [InlineData("amd64", 2, "qemu64", "MAXCPUS=8", 2, "")]
    [InlineData("amd64", 4, "max", "", 4, "")]
    [InlineData("i686", 2, "qemu64", "", 1, "; 1 more chosen, not started: this kernel does not start application processors on i686 yet")]
    public void TheChosenProcessorsStartAndReportTheirOwnApicIds(string arch, int processors, string cpu, string parameters, int started, string rest)
    {
        string[] common = ["--arch", arch, "--smp", processors.ToString(), "--cpu", cpu];
        var result = parameters.Length == 0 ? ExectosCommand.Boot(common) : ExectosCommand.Boot([.. common, "--params", parameters]);

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains(result.Lines, l => Root.IsMatch(l));
        string ids = string.Join(' ', Enumerable.Range(0, processors));
        Assert.Contains(result.Lines, l => Regex.IsMatch(l, $@"^XTOSKRNL: MADT at 0x[0-9A-F]{{8,16}}: {processors} processors enabled \(APIC ids {ids}\), 0 online-capable, local APIC at 0xFEE00000$"));
        Assert.Contains($"XTOSKRNL: processors: {started} started (APIC ids {string.Join(' ', Enumerable.Range(0, started))}){rest}", result.Lines);
        // Each started processor got a kernel stack and its own double-fault and NMI stacks from the allocator.
        var stacks = StackBootTests.StackReports(result.Lines)[^1];
        Assert.Equal((ulong)started, stacks.Single(l => l.Kind == "double fault").Live);
        Assert.Equal((ulong)started, stacks.Single(l => l.Kind == "NMI").Live);
        Assert.Equal((ulong)started - 1, stacks.SingleOrDefault(l => l.Kind == "kernel")?.Live ?? 0);
        Assert.StartsWith("exectos: PASS kernel reported success in ", result.LastLine);
    }

    [Fact]
    public void WithoutAMadtTheKernelSaysSoAndBootsOnOneProcessor()
    {
        // QEMU without ACPI: OVMF still installs a root pointer, with no MADT behind it.
        var result = ExectosCommand.Boot("--smp", "2", "--qemu-arg", "-machine", "--qemu-arg", "acpi=off");

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains(result.Lines, l => Regex.IsMatch(l, @"^XTOSKRNL: ACPI: there is no such table \(at 0x[0-9A-F]{8,16}, table APIC, detail 0x0\); starting on one processor$"));
        Assert.Contains("XTOSKRNL: processors: 1 started (APIC ids 0)", result.Lines);
        Assert.StartsWith("exectos: PASS kernel reported success in ", result.LastLine);
    }
}
