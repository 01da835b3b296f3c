using System.Text;

namespace ExectOS.Tool.Tests;

/// <summary>Serial output as OVMF 2022.11 really writes it under QEMU: escape sequences, CRLF, bare CRs.</summary>
internal static class SerialSamples
{
    public const string Esc = "\u001b";

    /// <summary>Firmware start-up up to the moment the loader runs.</summary>
    public const string FirmwareStart =
        Esc + "[2J" + Esc + "[01;01H" + Esc + "[=3h" + Esc + "[2J" + Esc + "[01;01H" + Esc + "[2J" + Esc + "[01;01H"
        + Esc + "[=3h" + Esc + "[2J" + Esc + "[01;01H" + Esc + "[2J" + Esc + "[01;01H" + Esc + "[=3h" + Esc + "[2J" + Esc + "[01;01H"
        + "BdsDxe: failed to load Boot0001 \"UEFI QEMU DVD-ROM QM00005 \" from PciRoot(0x0)/Pci(0x1F,0x2)/Sata(0x2,0xFFFF,0x0): Not Found\r\n"
        + "BdsDxe: loading Boot0002 \"UEFI Misc Device\" from PciRoot(0x0)/Pci(0x2,0x0)\r\n"
        + "BdsDxe: starting Boot0002 \"UEFI Misc Device\" from PciRoot(0x0)/Pci(0x2,0x0)\r\n";

    /// <summary>What the firmware prints when no boot option worked and its shell waits for input.</summary>
    public const string FirmwareShell =
        Esc + "[2J" + Esc + "[01;01H" + Esc + "[01;01HUEFI Interactive Shell v2.2\r\n"
        + "EDK II\r\n"
        + "UEFI v2.70 (EDK II, 0x00010000)\r\n"
        + Esc + "[1m" + Esc + "[33m" + Esc + "[40mMapping table" + Esc + "[0m" + Esc + "[37m" + Esc + "[40m\r\n"
        + Esc + "[11;01HPress " + Esc + "[1m" + Esc + "[37m" + Esc + "[40mESC" + Esc + "[0m" + Esc + "[37m" + Esc
        + "[40m in 1 seconds to skip " + Esc + "[1m" + Esc + "[33m" + Esc + "[40mstartup.nsh" + Esc + "[0m" + Esc + "[37m"
        + Esc + "[40m or any other key to continue.\r\n"
        + Esc + "[12;01H" + Esc + "[1m" + Esc + "[33m" + Esc + "[40mShell> " + Esc + "[0m" + Esc + "[37m" + Esc + "[40m";

    /// <summary>Loader output through the firmware console, with its colour codes.</summary>
    public const string LoaderStart =
        Esc + "[0m" + Esc + "[37m" + Esc + "[40mXTLDR: ExectOS boot loader\r\n"
        + "XTLDR: memory map: 112 descriptors\r\n";

    /// <summary>Kernel output straight to COM1: clean, LF or CRLF.</summary>
    public const string KernelStart =
        "XTOSKRNL: ExectOS kernel starting\r\n"
        + "XTOSKRNL: physical memory 511 MiB\n";

    public const string StopLine =
        "*** STOP: 0x0000001E (0xFFFFFFFFC0000005, 0xFFFFF80000123456, 0x0000000000000000, 0x0000000000000010) KMODE_EXCEPTION_NOT_HANDLED\r\n";

    public static byte[] Bytes(params string[] parts) => Encoding.UTF8.GetBytes(string.Concat(parts));
}
