using System;
using System.Text.RegularExpressions;
using Xunit;

namespace ExectOS.Tests.Boot;

/// <summary>The firmware's ACPI tables as the kernel reads them in QEMU: the MADT's processors, MAXCPUS, a missing MADT.</summary>
[Collection("QEMU")]
[Trait("Category", "Boot")]
public sealed class ProcessorBootTests
{
    private static readonly Regex Root = new(@"^XTOSKRNL: ACPI: root pointer at 0x[0-9A-F]{8,16}, revision 2, XSDT at 0x[0-9A-F]{8,16} with \d+ tables$");

    [Theory]
    [InlineData("amd64", 4, "", 3, 0)]
    [InlineData("amd64", 4, "MAXCPUS=2", 1, 2)]
    [InlineData("amd64", 2, "MAXCPUS=8", 1, 0)]
    [InlineData("i686", 2, "", 1, 0)]
    public void TheMadtListsEveryProcessorQemuWasGiven(string arch, int processors, string parameters, int chosen, int leftOut)
    {
        var result = parameters.Length == 0
            ? ExectosCommand.Boot("--arch", arch, "--smp", processors.ToString())
            : ExectosCommand.Boot("--arch", arch, "--smp", processors.ToString(), "--params", parameters);

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains(result.Lines, l => Root.IsMatch(l));
        string ids = string.Join(' ', System.Linq.Enumerable.Range(0, processors));
        Assert.Contains(result.Lines, l => Regex.IsMatch(l, $@"^XTOSKRNL: MADT at 0x[0-9A-F]{{8,16}}: {processors} processors enabled \(APIC ids {ids}\), 0 online-capable, local APIC at 0xFEE00000$"));
        string expected = "XTOSKRNL: processors: 1 started (APIC ids 0); " + chosen + " more chosen, not started: this kernel does not start application processors yet"
            + (leftOut == 0 ? "" : $"; {leftOut} left out by {parameters}");
        Assert.Contains(expected, result.Lines);
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
