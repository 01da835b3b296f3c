using System;
using System.Linq;
using System.Text.RegularExpressions;
using Xunit;

namespace ExectOS.Tests.Boot;

/// <summary>
/// AArch64 from the same loader and kernel sources as amd64 and i686, booted on QEMU's virt board (cortex-a72) with
/// Debian's AAVMF: the loader plans with MappingPlan, builds both halves' 4 KiB-granule tables with the generated
/// walker and hands off through MAIR/TCR/TTBR0/TTBR1 to the kernel in the TTBR1 half, which reports its verdict
/// through semihosting.
/// </summary>
[Collection("QEMU")]
[Trait("Category", "Boot")]
public sealed class AArch64BootTests
{
    [Theory]
    [InlineData("512M", 505UL)]
    [InlineData("2G", 2041UL)]
    public void TheKernelPassesTheSameSelfTestsInTheHighHalf(string memory, ulong ramMiB)
    {
        var result = ExectosCommand.Boot(["--arch", "aarch64", "--memory", memory]);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains(result.Lines, l => l.StartsWith("XTLDR: ExectOS boot loader 0.1.0 (aarch64, ", StringComparison.Ordinal));
        Assert.Contains(result.Lines, l => l.StartsWith("XTOSKRNL: ExectOS kernel 0.1.0 (aarch64, ", StringComparison.Ordinal));
        // The 4 KiB granule chosen through ID_AA64MMFR0_EL1, the tables as planned, W^X, one identity page (the hand-off's).
        Assert.Contains(result.Lines, l => Regex.IsMatch(l, @"^XTOSKRNL: paging AArch64Granule4K, 4 levels: \d+ mappings, \d+ pages as planned \(.*\), W\^X, identity only 0x[0-9A-F]+$"));
        // Every region of the layout in the TTBR1 half, the self-map where amd64 has it.
        Assert.Contains("XTOSKRNL:   0xFFFFF68000000000 0xFFFFF6FFFFFFFFFF PageTables 512 GiB", result.Lines);
        string selfTest = Assert.Single(result.Lines, l => l.StartsWith("XTOSKRNL: self-test passed: ", StringComparison.Ordinal));
        var ram = Regex.Match(selfTest, @"RAM (\d+) MiB");
        Assert.InRange(ulong.Parse(ram.Groups[1].Value), ramMiB - 8, ramMiB + 8);
        Assert.Contains(result.Lines, l => l.StartsWith("XTOSKRNL: concurrent self-test passed: 1 processor, 600 operations each", StringComparison.Ordinal));
        // The MADT's GICC entries give the processors by their MPIDR affinities.
        Assert.Contains(result.Lines, l => Regex.IsMatch(l, @"^XTOSKRNL: MADT at 0x[0-9A-F]+: 1 processors enabled \(MPIDR affinities 0\), 0 online-capable, GIC distributor at 0x08000000$"));
        // The virt board's flash and RTC, which runtime services keep, are device registers: mapped as device memory
        // (flags 0x20000000), and the kernel found its tables holding exactly that (the paging line above).
        Assert.Contains(result.Lines, l => l.StartsWith("XTOSKRNL-DATA v1 range type=LoaderFirmwarePermanent base=0x9010000 pages=1 flags=0xA0000000", StringComparison.Ordinal));
        Assert.Contains("XTOSKRNL: start-up checks passed", result.Lines);
        Assert.StartsWith("exectos: PASS kernel reported success in ", result.LastLine);
    }

    /// <summary>
    /// The 64 KiB granule, from the same descriptors, loader and kernel: with the 4 KiB granule turned off the loader
    /// takes AArch64Granule64K (cortex-a72 has no 16 KiB granule), allocates and aligns in 64 KiB pages, and the kernel,
    /// whose sections are 64 KiB aligned, counts 64 KiB frames and passes the same self-tests.
    /// </summary>
    [Fact]
    public void The64KibGranuleBootsTheSameKernelToTheSameVerdict()
    {
        var result = ExectosCommand.Boot(["--arch", "aarch64", "--params", "XTLDR-NO-TGRAN4"]);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("XTLDR: paging AArch64Granule4K skipped: TGran4 turned off by XTLDR-NO-TGRAN4", result.Lines);
        Assert.Contains("XTLDR: paging AArch64Granule16K skipped: TGran16 not offered by the processor", result.Lines);
        Assert.Contains(result.Lines, l => Regex.IsMatch(l, @"^XTOSKRNL: paging AArch64Granule64K, 3 levels: \d+ mappings, \d+ pages as planned \(.*\), W\^X, identity only 0x[0-9A-F]+$"));
        // 512 MiB from 1 GiB up: RAM ends at 1.5 GiB, 24576 frames of 64 KiB (the last one partly firmware's, so left out).
        Assert.Contains(result.Lines, l => Regex.IsMatch(l, @"^XTOSKRNL: layout AArch64Kernel64K for 2457[56] page frames:$"));
        Assert.Contains("XTOSKRNL:   0xFFFFF40000000000 0xFFFFF7FFFFFFFFFF PageTables 4096 GiB", result.Lines);
        Assert.Contains(result.Lines, l => l.StartsWith("XTOSKRNL: self-test passed: RAM 50", StringComparison.Ordinal));
        Assert.Contains(result.Lines, l => l.StartsWith("XTOSKRNL: concurrent self-test passed: 1 processor, 600 operations each", StringComparison.Ordinal));
        Assert.StartsWith("exectos: PASS kernel reported success in ", result.LastLine);
    }

    /// <summary>
    /// With virtualization=on the firmware runs at EL2 and so does the loader (as on much real hardware): the hand-off
    /// sets EL1 up and enters the kernel there, which passes as at EL1.
    /// </summary>
    [Fact]
    public void FromEl2TheHandOffDropsToEl1AndTheKernelPasses()
    {
        var result = ExectosCommand.Boot(["--arch", "aarch64", "--qemu-arg", "-machine", "--qemu-arg", "virtualization=on"]);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("XTLDR: the firmware left the loader at EL2: the hand-off sets EL1 up and enters the kernel there", result.Lines);
        Assert.Contains(result.Lines, l => l.StartsWith("XTOSKRNL: concurrent self-test passed: 1 processor, ", StringComparison.Ordinal));
        Assert.StartsWith("exectos: PASS kernel reported success in ", result.LastLine);
    }

    [Fact]
    public void AStackOverflowIntoTheGuardPageIsNamedAndBugChecksAsOnAmd64()
    {
        var result = ExectosCommand.Boot(["--arch", "aarch64", "--params", "TEST=STACK-OVERFLOW"]);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("XTOSKRNL: overflowing a 16 KiB kernel stack (TEST=STACK-OVERFLOW)", result.Lines);
        // The kernel runs on SP_EL0, exceptions on SP_EL1: the write into the guard page is a data abort taken on a good stack.
        Assert.Contains(result.Lines, l => l.StartsWith("XTOSKRNL: trap data abort (class 0x25, entry 0) at ELR 0xFFFF0080000", StringComparison.Ordinal));
        (ulong address, ulong stackBase) = BootTests.AssertGuardPageOverflow(result);
        // The system PTE region of the AArch64 layout.
        Assert.InRange(stackBase, 0xFFFF018000000000UL, 0xFFFF01FFFFFFFFFFUL);
        Assert.Matches($"^exectos: FAIL bug check 0x0000007F UNEXPECTED_KERNEL_MODE_TRAP \\(0x0000000000000025, 0x{address:X16}, 0x{stackBase:X16}, 0xFFFF0080000[0-9A-F]{{5}}\\)$", result.LastLine);
    }

    [Fact]
    public void AnUnmappedKernelAddressIsAPageFaultBugCheckNamingIt()
    {
        var result = ExectosCommand.Boot(["--arch", "aarch64", "--params", "TEST=PAGE-FAULT"]);

        // The test reads the start of the SystemCache region, which nothing maps.
        const string Address = "0xFFFF040000000000";
        Assert.Equal(1, result.ExitCode);
        // A translation fault at level 0, read (ESR 0x96000004: data abort, DFSC 0b000100).
        Assert.Contains(result.Lines, l => l.StartsWith("XTOSKRNL: trap data abort (class 0x25, entry 0) at ELR ", StringComparison.Ordinal) && l.Contains(", ESR 0x96000004, ", StringComparison.Ordinal) && l.EndsWith($", FAR {Address}", StringComparison.Ordinal));
        Assert.Contains($"XTOSKRNL: tables for {Address}: level 0 0x0000000000000000", result.Lines);
        Assert.StartsWith($"exectos: FAIL bug check 0x00000050 PAGE_FAULT_IN_NONPAGED_AREA ({Address}, 0x0000000096000004, 0xFFFF0080000", result.LastLine);
    }

    [Fact]
    public void MoreProcessorsAreFoundButOnlyTheBootProcessorRunsAndTheLineSaysWhy()
    {
        var result = ExectosCommand.Boot(["--arch", "aarch64", "--smp", "2"]);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains(result.Lines, l => Regex.IsMatch(l, @"^XTOSKRNL: MADT at 0x[0-9A-F]+: 2 processors enabled \(MPIDR affinities 0 1\), "));
        Assert.Contains("XTOSKRNL: processors: 1 started (MPIDR affinities 0); 1 more chosen, not started: starting AArch64 processors (PSCI CPU_ON) is not written yet", result.Lines);
    }

    [Fact]
    public void WithoutAKernelTheLoaderEndsWithAVerdictNamingWhatIsMissing()
    {
        var result = ExectosCommand.Boot(["--arch", "aarch64", "--kernel", "none"]);

        Assert.Equal(1, result.ExitCode);
        // Written straight to the UART, so the line is clean (the firmware's console would add escape codes).
        Assert.Contains(result.Lines, l => l.StartsWith("XTLDR: ExectOS boot loader 0.1.0 (aarch64, ", StringComparison.Ordinal) && l.Contains("; firmware EDK II rev 0x", StringComparison.Ordinal));
        Assert.Equal(@"exectos: FAIL loader: kernel image \EXECTOS\XTOSKRNL.EXE was not found on the boot volume (EFI status 14)", result.LastLine);
        Assert.DoesNotContain(result.Lines, l => l.StartsWith("XTOSKRNL:", StringComparison.Ordinal));
    }
}
