using System;
using System.Collections.Generic;

namespace ExectOS.Tool.Boot;

/// <summary>What differs between architectures when booting: emulator, firmware, removable-media file name.</summary>
/// <param name="IsBuilt">The build makes this architecture's loader image.</param>
/// <param name="Board">The QEMU machine it always runs on, or null for the x86 <c>--machine</c> option (q35 or pc).</param>
/// <param name="Processor">The QEMU processor it always runs on, or null for the x86 <c>--cpu</c> option.</param>
/// <param name="DebugExitDevice">The board has QEMU's isa-debug-exit, through which the kernel ends the run with its verdict.</param>
/// <param name="Semihosting">The kernel ends the run through semihosting's SYS_EXIT instead (QEMU <c>-semihosting-config enable=on,target=native</c>), with the same statuses.</param>
public sealed record ArchitectureProfile(
    string Name,
    string QemuBinary,
    string FirmwareCode,
    string FirmwareVars,
    string BootFileName,
    bool SecureBootFirmware,
    bool IsBuilt,
    string? Board = null,
    string? Processor = null,
    bool DebugExitDevice = true,
    bool Semihosting = false)
{
    /// <summary>x86-64 with Debian's plain OVMF.</summary>
    public static readonly ArchitectureProfile Amd64 = new(
        "amd64",
        "qemu-system-x86_64",
        "/usr/share/OVMF/OVMF_CODE.fd",
        "/usr/share/OVMF/OVMF_VARS.fd",
        "BOOTX64.EFI",
        SecureBootFirmware: false,
        IsBuilt: true);

    /// <summary>
    /// IA-32: Debian's ovmf-ia32 ships only a secure-boot build, which needs SMM and a secure flash. The emulator is
    /// qemu-system-x86_64, which runs the 32-bit firmware and kernel as a 64-bit PC does: QEMU 7.2's qemu-system-i386
    /// does not follow PAE page-directory entries to page tables above 4 GiB (the same images, the same 5 GiB machine:
    /// a page fault on a present mapping there, a pass on qemu-system-x86_64), and PAE exists to use that memory.
    /// </summary>
    public static readonly ArchitectureProfile I686 = new(
        "i686",
        "qemu-system-x86_64",
        "/usr/share/OVMF/OVMF32_CODE_4M.secboot.fd",
        "/usr/share/OVMF/OVMF32_VARS_4M.fd",
        "BOOTIA32.EFI",
        SecureBootFirmware: true,
        IsBuilt: true);

    /// <summary>
    /// AArch64 on QEMU's virt board (cortex-a72) with Debian's AAVMF (qemu-efi-aarch64). The board has no
    /// isa-debug-exit: the kernel gives its verdict through semihosting's SYS_EXIT, with x86's statuses (2v+1).
    /// </summary>
    public static readonly ArchitectureProfile Aarch64 = new(
        "aarch64",
        "qemu-system-aarch64",
        "/usr/share/AAVMF/AAVMF_CODE.fd",
        "/usr/share/AAVMF/AAVMF_VARS.fd",
        "BOOTAA64.EFI",
        SecureBootFirmware: false,
        IsBuilt: true,
        Board: "virt",
        Processor: "cortex-a72",
        DebugExitDevice: false,
        Semihosting: true);

    /// <summary>The images the build makes for this architecture in <paramref name="imagesDirectory"/>: the loader and the kernel.</summary>
    public string[] Images(string imagesDirectory) =>
        [System.IO.Path.Combine(imagesDirectory, BootFileName), System.IO.Path.Combine(imagesDirectory, BootProtocol.KernelImageName)];

    /// <summary>Every architecture the command line accepts.</summary>
    public static IReadOnlyList<ArchitectureProfile> All { get; } = [Amd64, I686, Aarch64];

    /// <summary>The profile called <paramref name="name"/>, or null.</summary>
    public static ArchitectureProfile? Find(string name)
    {
        foreach (ArchitectureProfile profile in All)
        {
            if (string.Equals(profile.Name, name, StringComparison.Ordinal))
            {
                return profile;
            }
        }

        return null;
    }
}
