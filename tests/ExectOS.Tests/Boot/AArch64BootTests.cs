using System;
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
}
