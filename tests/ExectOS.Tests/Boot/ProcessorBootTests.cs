using System;
using System.Collections.Generic;
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
    [InlineData("i686", 2, "qemu64", "", 2, "")]
    [InlineData("i686", 2, "qemu64", "XTLDR-NO-PAE", 2, "")]
    public void TheChosenProcessorsStartAndReportTheirOwnApicIds(string arch, int processors, string cpu, string parameters, int started, string rest)
    {
        string[] common = ["--arch", arch, "--smp", processors.ToString(), "--cpu", cpu];
        var result = parameters.Length == 0 ? ExectosCommand.Boot(common) : ExectosCommand.Boot([.. common, "--params", parameters]);

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains(result.Lines, l => Root.IsMatch(l));
        string ids = string.Join(' ', Enumerable.Range(0, processors));
        Assert.Contains(result.Lines, l => Regex.IsMatch(l, $@"^XTOSKRNL: MADT at 0x[0-9A-F]{{8,16}}: {processors} processors enabled \(APIC ids {ids}\), 0 online-capable, local APIC at 0xFEE00000$"));
        // QEMU's TCG offers x2APIC from version 8 (Debian 12 has 7.2): with --cpu max the kernel then switches to it and says so.
        string x2Apic = cpu == "max" && arch == "amd64" ? "(; local APICs in x2APIC mode)?" : "";
        Assert.Contains(result.Lines, l => Regex.IsMatch(l, $@"^XTOSKRNL: processors: {started} started \(APIC ids {string.Join(' ', Enumerable.Range(0, started))}\){x2Apic}{Regex.Escape(rest)}$"));
        // Each started processor got a kernel stack and its own double-fault and NMI stacks from the allocator.
        var stacks = StackBootTests.StackReports(result.Lines)[^1];
        Assert.Equal((ulong)started, stacks.Single(l => l.Kind == "double fault").Live);
        Assert.Equal((ulong)started, stacks.Single(l => l.Kind == "NMI").Live);
        Assert.Equal((ulong)started - 1, stacks.SingleOrDefault(l => l.Kind == "kernel")?.Live ?? 0);
        // Then every started processor allocated and freed frames, stacks and pool blocks at once, and all came back.
        AssertConcurrentSelfTest(result.Lines, started);
        Assert.StartsWith("exectos: PASS kernel reported success in ", result.LastLine);
    }

    private static readonly Regex Concurrent = new(@"^XTOSKRNL: concurrent self-test passed: (?<n>\d+) processors?, (?<ops>\d+) operations each \((?<each>.*)\), (?<shootdowns>\d+) TLB shootdowns$");
    private static readonly Regex Share = new(@"^processor (?<p>\d+): (?<pages>\d+) pages, (?<stacks>\d+) stacks, (?<blocks>\d+) pool blocks$");

    /// <summary>The concurrent self-test's line: one share per started processor, each having done some of every kind; shootdowns when several ran.</summary>
    internal static void AssertConcurrentSelfTest(IReadOnlyList<string> lines, int started)
    {
        Match line = lines.Select(l => Concurrent.Match(l)).Single(m => m.Success);
        Assert.Equal(started, int.Parse(line.Groups["n"].Value));
        string[] shares = line.Groups["each"].Value.Split("; ");
        Assert.Equal(started, shares.Length);
        for (int p = 0; p < started; p++)
        {
            Match share = Share.Match(shares[p]);
            Assert.True(share.Success, shares[p]);
            Assert.Equal(p, int.Parse(share.Groups["p"].Value));
            Assert.True(int.Parse(share.Groups["pages"].Value) > 0 && int.Parse(share.Groups["stacks"].Value) > 0 && int.Parse(share.Groups["blocks"].Value) > 0, shares[p]);
        }
        Assert.Equal(started > 1, int.Parse(line.Groups["shootdowns"].Value) > 0);
    }

    [Fact]
    public void AFreedPageFaultsOnTheProcessorThatReadItBeforeTheFree()
    {
        // Processor 1 reads a pool page (its TLB now holds the translation), processor 0 frees it, processor 1 reads
        // it again: the free's shootdown took the translation away, so the read faults and names the address.
        var result = ExectosCommand.Boot("--smp", "2", "--params", "TEST=TLB-SHOOTDOWN");

        Assert.Equal(1, result.ExitCode);
        Match reading = result.Lines.Select(l => Regex.Match(l, @"^XTOSKRNL: reading a freed pool page on processor 1, which read it before the free \(TEST=TLB-SHOOTDOWN\) at (?<a>0x[0-9A-F]{16})$")).Single(m => m.Success);
        BootTests.AssertPageFaultAt(result, reading.Groups["a"].Value);
    }

    [Fact]
    public void TheShootdownTestNeedsASecondProcessor()
    {
        var result = ExectosCommand.Boot("--params", "TEST=TLB-SHOOTDOWN");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("exectos: FAIL bug check 0x0000001A MEMORY_MANAGEMENT (0x0000000000000405, 0x0000000000000002, 0x0000000000000001, 0x0000000000000000)", result.LastLine);
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
