using System;
using System.Text;
using ExectOS.Boot;
using Xunit;

namespace ExectOS.Tests.Xtos;

/// <summary>Kernel boot parameters: what the loader accepts and how the kernel finds a token.</summary>
public class KernelParametersTests
{
    private static (ParameterError Error, string Text, int Bad) Copy(string file)
    {
        byte[] destination = new byte[KernelParameters.Capacity];
        destination.AsSpan().Fill(0xAA);
        ParameterError error = KernelParameters.Copy(Encoding.Latin1.GetBytes(file), destination, out int length, out int bad);
        if (error == ParameterError.None)
            Assert.Equal(0, destination[length]);
        return (error, Encoding.ASCII.GetString(destination, 0, error == ParameterError.None ? length : 0), bad);
    }

    [Fact]
    public void FirstLineIsTakenWithoutLineEnd() => Assert.Equal((ParameterError.None, "TEST=BUGCHECK DEBUG", -1), Copy("TEST=BUGCHECK DEBUG\r\nignored"));

    [Fact]
    public void EmptyFileGivesNoParameters() => Assert.Equal((ParameterError.None, "", -1), Copy(""));

    [Fact]
    public void LongestLineFitsOneLongerDoesNot()
    {
        Assert.Equal(ParameterError.None, Copy(new string('A', KernelParameters.Capacity - 1)).Error);
        Assert.Equal(ParameterError.TooLong, Copy(new string('A', KernelParameters.Capacity)).Error);
    }

    [Fact]
    public void ControlAndNonAsciiBytesAreRefusedWithTheirOffset()
    {
        Assert.Equal((ParameterError.NotPrintable, "", 3), Copy("ABC\tD"));
        Assert.Equal((ParameterError.NotPrintable, "", 1), Copy("A\u00E9"));
    }

    [Theory]
    [InlineData("TEST=BUGCHECK", "TEST=BUGCHECK", true)]
    [InlineData("  A  TEST=BUGCHECK  B", "TEST=BUGCHECK", true)]
    [InlineData("TEST=BUGCHECKS", "TEST=BUGCHECK", false)]
    [InlineData("XTEST=BUGCHECK", "TEST=BUGCHECK", false)]
    [InlineData("", "TEST=BUGCHECK", false)]
    public void TokensMatchWhole(string parameters, string token, bool expected)
    {
        byte[] block = new byte[KernelParameters.Capacity];
        Encoding.ASCII.GetBytes(parameters).CopyTo(block, 0);
        Assert.Equal(expected, KernelParameters.Contains(block, token));
    }

    [Theory]
    [InlineData("SPECIAL-POOL=Spcl", "Spcl")]
    [InlineData("TEST=X  SPECIAL-POOL=* DEBUG", "*")]
    [InlineData("SPECIAL-POOL=", "")]
    [InlineData("SPECIAL-POOL=Ab SPECIAL-POOL=Cd", "Ab")]
    [InlineData("XSPECIAL-POOL=Spcl", null)]
    [InlineData("SPECIAL-POOL", null)]
    [InlineData("", null)]
    public void ValuesAreTheRestOfTheFirstTokenWithThePrefix(string parameters, string? expected)
    {
        byte[] block = new byte[KernelParameters.Capacity];
        Encoding.ASCII.GetBytes(parameters).CopyTo(block, 0);
        bool found = KernelParameters.TryGetValue(block, "SPECIAL-POOL=", out ReadOnlySpan<byte> value);
        Assert.Equal(expected, found ? Encoding.ASCII.GetString(value) : null);
    }
}
