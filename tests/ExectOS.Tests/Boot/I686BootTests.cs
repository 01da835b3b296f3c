using System;
using System.Linq;
using ExectOS.Memory;
using ExectOS.Paging.X86;
using Xunit;

namespace ExectOS.Tests.Boot;

/// <summary>
/// The i686 images, built by the same build as amd64, booted with Debian's IA32 OVMF (on qemu-system-x86_64: see ArchitectureProfile.I686):
/// the same loader and kernel source, the x86 Arch folders, the descriptors' I686 modes.
/// </summary>
[Collection("QEMU")]
[Trait("Category", "Boot")]
public sealed class I686BootTests
{
    private static ExectosCommand.Result Boot(params string[] extra) => ExectosCommand.Boot(["--arch", "i686", .. extra]);

    [Theory]
    [InlineData(128)]
    [InlineData(512)]
    [InlineData(2048)]
    public void TwoLevelPagingBootsToTheKernelsVerdict(int megabytes)
    {
        var result = Boot("--memory", $"{megabytes}M", "--params", "XTLDR-NO-PAE");

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains(result.Lines, l => l.StartsWith("XTLDR: ExectOS boot loader 0.1.0 (i686", StringComparison.Ordinal));
        Assert.Contains(result.Lines, l => l.StartsWith("XTOSKRNL: ExectOS kernel 0.1.0 (i686", StringComparison.Ordinal));
        // The preferred mode was offered (qemu64 has PAE and NX) and turned off by name; the next one ran.
        Assert.Contains("XTLDR: paging I686Pae skipped: Pae turned off by XTLDR-NO-PAE", result.Lines);
        Assert.Contains(result.Lines, l => l.StartsWith("XTLDR: paging I686 (2 levels): ", StringComparison.Ordinal));
        Assert.Contains(result.Lines, l => l.StartsWith("XTOSKRNL: layout I686Kernel for ", StringComparison.Ordinal));
        string paging = Assert.Single(result.Lines, l => l.StartsWith("XTOSKRNL: paging I686, 2 levels: ", StringComparison.Ordinal));
        Assert.Matches(@"\d+ mappings, \d+ pages as planned \(image \d+, stack 16, boot \d+, firmware \d+\), W\^X, identity only 0x[0-9A-F]{8}$", paging);
        // The PFN database sits where the layout puts it, right after the loader's window.
        string pfnRegion = $"0x{Region<I686Kernel>(megabytes, "PfnDatabase"):X16}";
        Assert.Contains(result.Lines, l => l.StartsWith($"XTOSKRNL: PFN database at {pfnRegion}: ", StringComparison.Ordinal));
        string selfTest = Assert.Single(result.Lines, l => l.StartsWith("XTOSKRNL: self-test passed: ", StringComparison.Ordinal));
        Assert.EndsWith("71 stack pages, pools: 240 non-paged and 240 paged blocks", selfTest);
        var ram = System.Text.RegularExpressions.Regex.Match(selfTest, @"RAM (\d+) MiB");
        // IA32 OVMF keeps some 30 MiB for itself on a small machine.
        Assert.InRange(int.Parse(ram.Groups[1].Value), megabytes * 7 / 10, megabytes);
        Assert.Contains("XTOSKRNL: pool tag 'PTst' paged: 360 allocations, 360 frees, 0 bytes in use", result.Lines);
        // The double-fault and NMI tasks' stacks came from the allocator, each with its guard page.
        var stacks = Assert.Single(StackBootTests.StackReports(result.Lines));
        Assert.Equal(new StackBootTests.StackLine("double fault", 1, 4, 4, 0, 0), stacks.Single(l => l.Kind == "double fault"));
        Assert.Equal(new StackBootTests.StackLine("NMI", 1, 4, 4, 0, 0), stacks.Single(l => l.Kind == "NMI"));
        Assert.StartsWith("exectos: PASS kernel reported success in ", result.LastLine);
    }

    [Theory]
    [InlineData(3584)]
    [InlineData(8192)]
    public void TwoLevelPagingLeavesMemoryAbove4GiBOutAndSaysSo(int megabytes)
    {
        var result = Boot("--memory", $"{megabytes}M", "--params", "XTLDR-NO-PAE");

        Assert.True(result.ExitCode == 0, result.Output);
        // q35 keeps 2 GiB below 4 GiB on these machines and puts the rest above: 32-bit entries cannot hold those
        // frames, so they are left out (all of it free memory).
        ulong pages = (ulong)(megabytes - 2048) << 8;
        string size = megabytes % 1024 == 0 ? $"{(megabytes - 2048) / 1024} GiB" : $"{megabytes - 2048} MiB";
        string leftOut = $"memory left out: {pages} pages ({size}, {pages} free) beyond what I686 reaches: its physical address bits";
        Assert.Contains("XTLDR: " + leftOut, result.Lines);
        Assert.Contains("XTOSKRNL: " + leftOut, result.Lines);
        string map = Assert.Single(result.Lines, l => l.StartsWith("XTOSKRNL: memory map: ", StringComparison.Ordinal));
        Assert.EndsWith("highest page 0xBFFFF", map);
        Assert.Contains(result.Lines, l => l.StartsWith("XTOSKRNL: paging I686, 2 levels: ", StringComparison.Ordinal));
        Assert.StartsWith("exectos: PASS kernel reported success in ", result.LastLine);
    }

    [Theory]
    [InlineData(128)]
    [InlineData(512)]
    [InlineData(3584)]
    [InlineData(8192)]
    public void PaeKeepsMemoryAbove4GiB(int megabytes)
    {
        var result = Boot("--memory", $"{megabytes}M");

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains(result.Lines, l => l.StartsWith("XTLDR: paging I686Pae (3 levels): ", StringComparison.Ordinal));
        Assert.Contains(result.Lines, l => l.StartsWith("XTOSKRNL: paging I686Pae, 3 levels: ", StringComparison.Ordinal));
        Assert.Contains(result.Lines, l => l.StartsWith("XTOSKRNL: layout I686PaeKernel for ", StringComparison.Ordinal));
        // ExectOS bug #23: every free page above 4 GiB reaches the PFN database's free list.
        string selfTest = Assert.Single(result.Lines, l => l.StartsWith("XTOSKRNL: self-test passed: ", StringComparison.Ordinal));
        var figures = System.Text.RegularExpressions.Regex.Match(selfTest, @"RAM (\d+) MiB, (\d+) free pages");
        Assert.True(figures.Success, selfTest);
        ulong freeBytes = ulong.Parse(figures.Groups[2].Value) << 12;
        // IA32 OVMF keeps some 30 MiB for itself on a small machine.
        Assert.InRange(freeBytes, (ulong)megabytes * (megabytes < 512 ? 7UL : 9UL) / 10 << 20, (ulong)megabytes << 20);
        if (megabytes > 4096)
            Assert.True(freeBytes > 4UL << 30, $"more than 4 GiB free under PAE: {selfTest}");
        Assert.DoesNotContain(result.Lines, l => l.Contains("memory left out", StringComparison.Ordinal));
        Assert.StartsWith("exectos: PASS kernel reported success in ", result.LastLine);
    }

    [Fact]
    public void StackOverflowIsCaughtOnTheDoubleFaultTask()
    {
        var result = Boot("--params", "XTLDR-NO-PAE TEST=STACK-OVERFLOW");

        Assert.Equal(1, result.ExitCode);
        // 32-bit x86 has no IST: the double fault's task gate switches to a TSS with a stack of its own.
        Assert.Contains(result.Lines, l => l.StartsWith("XTOSKRNL: trap #DF double fault (vector 8) at EIP 0x8", StringComparison.Ordinal));
        string overflow = Assert.Single(result.Lines, l => l.StartsWith("XTOSKRNL: kernel stack overflow: ", StringComparison.Ordinal));
        var match = System.Text.RegularExpressions.Regex.Match(overflow, "^XTOSKRNL: kernel stack overflow: 0x([0-9A-F]{16}) is the guard page below the stack at 0x([0-9A-F]{16})$");
        Assert.True(match.Success, overflow);
        ulong address = Convert.ToUInt64(match.Groups[1].Value, 16), stackBase = Convert.ToUInt64(match.Groups[2].Value, 16);
        Assert.InRange(address, stackBase - 4096, stackBase - 1);
        ulong ptes = Region<I686Kernel>(512, "SystemPtes");
        Assert.InRange(stackBase, ptes, ptes + 0x10000000);
        Assert.StartsWith($"exectos: FAIL bug check 0x0000007F UNEXPECTED_KERNEL_MODE_TRAP (0x0000000000000008, 0x{address:X16}, 0x{stackBase:X16}, ", result.LastLine);
    }

    [Fact]
    public void PageFaultIsReportedByTheTrapHandler()
    {
        var result = Boot("--params", "XTLDR-NO-PAE TEST=PAGE-FAULT");

        string cache = $"0x{Region<I686Kernel>(512, "SystemCache"):X8}";
        Assert.Equal(1, result.ExitCode);
        Assert.Contains(result.Lines, l => l.StartsWith("XTOSKRNL: trap #PF page fault (vector 14) at EIP ", StringComparison.Ordinal) && l.EndsWith($", CR2 {cache}", StringComparison.Ordinal));
        Assert.StartsWith($"exectos: FAIL bug check 0x00000050 PAGE_FAULT_IN_NONPAGED_AREA (0x00000000{cache[2..]}, 0x0000000000000000, ", result.LastLine);
    }

    [Theory]
    [InlineData("XTLDR-NO-PAE TEST=DOUBLE-FREE", "0x0000004E PFN_LIST_CORRUPT (0x0000000000000007, ")]
    [InlineData("XTLDR-NO-PAE TEST=POOL-DOUBLE-FREE", "0x000000C2 BAD_POOL_CALLER (0x0000000000000007, ")]
    [InlineData("XTLDR-NO-PAE TEST=POOL-OVERRUN", "0x00000019 BAD_POOL_HEADER (0x0000000000000020, ")]
    [InlineData("TEST=BUGCHECK", "0x000000E2 MANUALLY_INITIATED_CRASH (0x5445535400000001, ")]
    [InlineData("SPECIAL-POOL=Spcl TEST=SPECIAL-POOL-OVERRUN", "0x000000CD PAGE_FAULT_BEYOND_END_OF_ALLOCATION (0x00000000")]
    [InlineData("SPECIAL-POOL=* TEST=SPECIAL-POOL-USE-AFTER-FREE", "0x000000CC PAGE_FAULT_IN_FREED_SPECIAL_POOL (0x00000000")]
    public void BugCheckBootsEndAsOnAmd64(string parameters, string verdict)
    {
        var result = Boot("--params", parameters);

        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("exectos: FAIL bug check " + verdict, result.LastLine);
    }

    [Fact]
    public void TheSelfTestPassesWithEveryAllocationInSpecialPool()
    {
        var result = Boot("--params", "SPECIAL-POOL=*");

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains(result.Lines, l => l.StartsWith("XTOSKRNL: pools: ", StringComparison.Ordinal) && l.EndsWith("special pool for '*'", StringComparison.Ordinal));
        Assert.StartsWith("exectos: PASS kernel reported success in ", result.LastLine);
    }

    /// <summary>Where a layout region starts on a machine of <paramref name="megabytes"/> (the RAM on q35 below 3 GiB is all below the hole).</summary>
    private static ulong Region<TLayout>(int megabytes, string name) where TLayout : struct, ILayout
    {
        var storage = default(LayoutRegions.Storage);
        var regions = LayoutRegions.Compute<TLayout>(ref storage, (ulong)megabytes << 8);
        return regions[LayoutRegions.Find<TLayout>(name)].Start.Value;
    }
}
