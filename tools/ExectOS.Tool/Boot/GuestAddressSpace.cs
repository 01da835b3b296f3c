using System;
using System.Globalization;
using ExectOS.Tool.Cli;

namespace ExectOS.Tool.Boot;

/// <summary>
/// Where QEMU 7.2 puts an x86 guest's RAM and 64-bit PCI window, the physical address bits that takes, and the
/// <c>-cpu</c> model that gives the guest those bits. QEMU refuses to start when they are missing; this says why
/// before it runs, as a usage error.
/// </summary>
public static class GuestAddressSpace
{
    /// <summary>What TCG gives a 64-bit processor model whose phys-bits is not set.</summary>
    public const int DefaultPhysicalBits = 40;

    /// <summary>The most QEMU's x86-64 processors take (its TARGET_PHYS_ADDR_SPACE_BITS).</summary>
    public const int MaxPhysicalBits = 52;

    private const ulong GiB = 1UL << 30;

    /// <summary>QEMU moves RAM above 4 GiB to 1 TiB on AMD processors (qemu64 and max are) when it would cross this hole.</summary>
    private const ulong AmdHyperTransportStart = 0xFD_0000_0000;

    private const ulong AmdAboveOneTiBStart = 1UL << 40;

    /// <summary>The highest guest-physical address QEMU uses: RAM above 4 GiB, then the 64-bit PCI window.</summary>
    /// <remarks>
    /// QEMU's pc_memory_init: q35 keeps 2 GiB of RAM below 4 GiB once there are 2.75 GiB (else all of it) and
    /// opens a 32 GiB window; pc keeps 3 GiB once there are 3.5 GiB and opens 2 GiB. The window starts at the
    /// next GiB after RAM. The move to 1 TiB is assumed for every model: for an Intel one it overstates the need.
    /// </remarks>
    public static ulong HighestAddress(string machine, ulong ram)
    {
        bool q35 = machine == "q35";
        ulong lowLimit = q35 ? (ram >= 0xB000_0000 ? 2 * GiB : 0xB000_0000) : (ram >= 0xE000_0000 ? 3 * GiB : 0xE000_0000);
        ulong above = ram - Math.Min(ram, lowLimit);
        ulong window = q35 ? 32 * GiB : 2 * GiB;
        ulong highest = WindowEnd(4 * GiB + above, window);
        return highest < AmdHyperTransportStart ? highest : WindowEnd(AmdAboveOneTiBStart + above, window);
    }

    /// <summary>The address bits that reach <paramref name="address"/>.</summary>
    public static int BitsFor(ulong address) => 64 - System.Numerics.BitOperations.LeadingZeroCount(address);

    /// <summary>
    /// The <c>-cpu</c> value for this boot: the user's model, given the physical address bits and 1 GiB pages the RAM
    /// needs when it sets no phys-bits of its own; or an error when no x86 processor QEMU offers reaches that far.
    /// </summary>
    /// <remarks>Debian 12's OVMF hangs before its first line when RAM needs more than 40 bits and the processor has no
    /// 1 GiB pages (qemu64 has none); with them it boots 1 TiB.</remarks>
    public static (string CpuModel, string? Error) FitCpu(string machine, string memory, string cpuModel)
    {
        ulong highest = HighestAddress(machine, MemorySize.Bytes(memory));
        int needed = BitsFor(highest);
        string where = string.Create(CultureInfo.InvariantCulture, $"--memory {memory} on {machine} uses guest-physical addresses up to 0x{highest:X} ({needed} bits)");
        if (needed > MaxPhysicalBits)
        {
            return (cpuModel, $"{where}; QEMU's x86 processors have at most {MaxPhysicalBits}");
        }

        if (PhysicalBitsOf(cpuModel) is int given)
        {
            return given >= needed ? (cpuModel, null) : (cpuModel, $"{where}; --cpu {cpuModel} gives {given}");
        }

        return needed <= DefaultPhysicalBits
            ? (cpuModel, null)
            : (string.Create(CultureInfo.InvariantCulture, $"{cpuModel},phys-bits={needed},+pdpe1gb"), null);
    }

    /// <summary>The last address of a window of <paramref name="size"/> bytes at the first GiB boundary from <paramref name="ramEnd"/>.</summary>
    private static ulong WindowEnd(ulong ramEnd, ulong size) => ((ramEnd + GiB - 1) & ~(GiB - 1)) + size - 1;

    /// <summary>The phys-bits a <c>-cpu</c> value sets, or null.</summary>
    private static int? PhysicalBitsOf(string cpuModel)
    {
        foreach (string property in cpuModel.Split(','))
        {
            if (property.StartsWith("phys-bits=", StringComparison.Ordinal)
                && int.TryParse(property.AsSpan("phys-bits=".Length), NumberStyles.None, CultureInfo.InvariantCulture, out int bits))
            {
                return bits;
            }
        }

        return null;
    }
}
