using ExectOS.Tool.Boot;
using Xunit;

namespace ExectOS.Tool.Tests;

public sealed class GuestAddressSpaceTests
{
    /// <summary>
    /// Each figure is QEMU 7.2's own: "Address space limit ... &lt; 0x... phys-bits too low (33)", printed by
    /// <c>qemu-system-x86_64 -machine M,memory-backend=ram -object memory-backend-ram,...,reserve=off -cpu qemu64,phys-bits=33</c>.
    /// </summary>
    [Theory]
    [InlineData("q35", "512M", 0x8_FFFF_FFFFUL)]
    [InlineData("q35", "2815M", 0x8_FFFF_FFFFUL)]
    [InlineData("q35", "2816M", 0x9_3FFF_FFFFUL)]
    [InlineData("q35", "3583M", 0x9_7FFF_FFFFUL)]
    [InlineData("q35", "8G", 0xA_7FFF_FFFFUL)]
    [InlineData("q35", "990G", 0x1FE_FFFF_FFFFUL)]
    [InlineData("q35", "1000G", 0x201_7FFF_FFFFUL)]
    [InlineData("q35", "1T", 0x207_7FFF_FFFFUL)]
    [InlineData("q35", "4T", 0x507_7FFF_FFFFUL)]
    [InlineData("pc", "8G", 0x2_BFFF_FFFFUL)]
    [InlineData("pc", "990G", 0xF8_3FFF_FFFFUL)]
    [InlineData("pc", "1000G", 0xFA_BFFF_FFFFUL)]
    [InlineData("pc", "1T", 0x1FF_BFFF_FFFFUL)]
    [InlineData("pc", "4T", 0x4FF_BFFF_FFFFUL)]
    public void HighestAddressIsQemusOwn(string machine, string memory, ulong highest)
    {
        Assert.Equal(highest, GuestAddressSpace.HighestAddress(machine, Cli.MemorySize.Bytes(memory)));
    }

    [Theory]
    [InlineData("512M", "qemu64", "qemu64")]
    [InlineData("48G", "qemu64", "qemu64")]
    [InlineData("900G", "max", "max")]
    [InlineData("1000G", "qemu64", "qemu64,phys-bits=42,+pdpe1gb")]
    [InlineData("4T", "max", "max,phys-bits=43,+pdpe1gb")]
    [InlineData("1T", "max,phys-bits=52", "max,phys-bits=52")]
    public void CpuModelGetsAddressBitsOnlyWhenTheDefaultFallsShort(string memory, string cpu, string expected)
    {
        (string model, string? error) = GuestAddressSpace.FitCpu("q35", memory, cpu);

        Assert.Null(error);
        Assert.Equal(expected, model);
    }

    [Theory]
    [InlineData(0xFF_FFFF_FFFFUL, 40)]
    [InlineData(0x100_0000_0000UL, 41)]
    [InlineData(0x8_FFFF_FFFFUL, 36)]
    public void BitsForReachTheAddress(ulong address, int bits)
    {
        Assert.Equal(bits, GuestAddressSpace.BitsFor(address));
    }
}
