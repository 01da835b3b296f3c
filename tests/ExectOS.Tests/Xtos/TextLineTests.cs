using ExectOS.Text;
using Xunit;

namespace ExectOS.Tests.Xtos;

/// <summary>The allocation-free line formatter used for every serial message.</summary>
public class TextLineTests
{
    [Theory]
    [InlineData(0x1AUL, 8, "0000001A")]
    [InlineData(0xFFFFF80000800000UL, 16, "FFFFF80000800000")]
    [InlineData(0x12345UL, 2, "12345")]
    [InlineData(0UL, 1, "0")]
    [InlineData(0UL, 20, "00000000000000000000")]
    public void HexIsPaddedButNeverCut(ulong value, int digits, string expected)
    {
        TextLine line = default;
        line.AppendHex(value, digits);
        Assert.Equal(expected, line.AsSpan().ToString());
    }

    [Theory]
    [InlineData(0L, "0")]
    [InlineData(-1L, "-1")]
    [InlineData(long.MinValue, "-9223372036854775808")]
    [InlineData(long.MaxValue, "9223372036854775807")]
    public void SignedDecimal(long value, string expected)
    {
        TextLine line = default;
        line.AppendDecimal(value);
        Assert.Equal(expected, line.AsSpan().ToString());
    }

    [Fact]
    public void UnsignedDecimalMaximum()
    {
        TextLine line = default;
        line.AppendDecimal(ulong.MaxValue);
        Assert.Equal("18446744073709551615", line.AsSpan().ToString());
    }

    [Theory]
    [InlineData(4096UL, "4 KiB")]
    [InlineData(94208UL, "92 KiB")]
    [InlineData(512UL << 20, "512 MiB")]
    [InlineData(8UL << 30, "8 GiB")]
    [InlineData(1536UL << 20, "1536 MiB")]
    [InlineData(1000UL, "1000 B")]
    [InlineData(0UL, "0 B")]
    public void SizesUseTheLargestExactUnit(ulong bytes, string expected)
    {
        TextLine line = default;
        line.AppendSize(bytes);
        Assert.Equal(expected, line.AsSpan().ToString());
    }

    [Fact]
    public void OverflowIsCutAndMarked()
    {
        TextLine line = default;
        for (int i = 0; i < TextLine.Capacity + 10; i++)
            line.Append('x');
        Assert.Equal(TextLine.Capacity, line.Length);
        Assert.Equal('~', line.AsSpan()[TextLine.Capacity - 1]);
        Assert.Equal('x', line.AsSpan()[TextLine.Capacity - 2]);
    }
}
