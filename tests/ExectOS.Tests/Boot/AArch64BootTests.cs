using System;
using System.IO;
using ExectOS.Tests.Snapshots;
using Xunit;

namespace ExectOS.Tests.Boot;

/// <summary>
/// The AArch64 loader, built by the same build as amd64 and i686, booted on QEMU's virt board (cortex-a72) with
/// Debian's AAVMF. There is no AArch64 kernel image yet, so a boot ends with the loader saying what it lacks.
/// </summary>
[Collection("QEMU")]
[Trait("Category", "Boot")]
public sealed class AArch64BootTests
{
    [Fact]
    public void LoaderPrintsItsBannerOnThePl011AndEndsWithAVerdictNamingWhatIsMissing()
    {
        var result = ExectosCommand.Boot(["--arch", "aarch64"]);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("exectos: note: no aarch64 kernel image is built yet; the boot volume holds the loader alone", result.Lines);
        // Written straight to the UART, so the line is clean (the firmware's console would add escape codes).
        Assert.Contains(result.Lines, l => l.StartsWith("XTLDR: ExectOS boot loader 0.1.0 (aarch64, ", StringComparison.Ordinal) && l.Contains("; firmware EDK II rev 0x", StringComparison.Ordinal));
        Assert.Equal(@"exectos: FAIL loader: kernel image \EXECTOS\XTOSKRNL.EXE was not found on the boot volume (EFI status 14)", result.LastLine);
    }

    /// <summary>
    /// With a stand-in kernel (the loader image itself: an AArch64 PE32+ with relocations, which is all the loader
    /// checks before the hand-off), the loader goes as far as it can: the UEFI map converted, the 4 KiB granule
    /// chosen through ID_AA64MMFR0_EL1, the image relocated into the TTBR1 half, the mappings planned by MappingPlan,
    /// both halves' tables built by the generated walker and checked against the plan; then it stops at the hand-off.
    /// </summary>
    [Fact]
    public void WithAStandInKernelTheLoaderPlansAndBuildsTheTablesAndStopsAtTheHandOff()
    {
        string standIn = Path.Combine(Snapshot.RepositoryRoot, "artifacts", "images", "aarch64", "BOOTAA64.EFI");
        var result = ExectosCommand.Boot(["--arch", "aarch64", "--kernel", standIn]);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains(result.Lines, l => l.StartsWith(@"XTLDR: loaded \EXECTOS\XTOSKRNL.EXE: ", StringComparison.Ordinal));
        Assert.DoesNotContain(result.Lines, l => l.StartsWith("XTLDR: paging AArch64Granule4K skipped", StringComparison.Ordinal));
        string paging = Assert.Single(result.Lines, l => l.StartsWith("XTLDR: paging AArch64Granule4K (4 levels): ", StringComparison.Ordinal));
        Assert.Matches(@"\d+ mappings, \d+ table pages at 0x[0-9A-F]{8}, hand-off page 0x[0-9A-F]{8}$", paging);
        // AAVMF on virt without virtualization=on leaves the loader at EL1 (with it, at EL2).
        Assert.Equal("exectos: FAIL loader: not there yet on aarch64: the hand-off (MAIR/TCR/TTBR0/TTBR1 and the jump to the kernel in the high half); the loader runs at EL1", result.LastLine);
    }
}
