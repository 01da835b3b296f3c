using System;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using ExectOS.Boot;
using ExectOS.Diagnostics;
using ExectOS.Tests.Snapshots;
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

    private const string Known = "BUGCHECK\nPAGE-FAULT\nSPECIAL-POOL-OVERRUN\n";

    private static (BootParameterError Error, string Word) Problem(string parameters)
    {
        byte[] block = new byte[KernelParameters.Capacity];
        Encoding.ASCII.GetBytes(parameters).CopyTo(block, 0);
        BootParameterError error = KernelParameters.FindProblem(block, Known, out int offset, out int length);
        return (error, Encoding.ASCII.GetString(block, offset, length));
    }

    [Theory]
    [InlineData("")]
    [InlineData("TEST=BUGCHECK")]
    [InlineData("SPECIAL-POOL=Spcl TEST=SPECIAL-POOL-OVERRUN")]
    [InlineData("SPECIAL-POOL=* TEST=PAGE-FAULT XTLDR-NO-LA57 FOO=1 TEST")]
    [InlineData("SPECIAL-POOL=A")]
    [InlineData("MAXCPUS=1 MAXCPUS=256")]
    public void KnownValuesAndUnreadWordsAreNoProblem(string parameters)
    {
        Assert.Equal((BootParameterError.None, ""), Problem(parameters));
    }

    [Theory]
    [InlineData("TEST=NONSENSE", BootParameterError.UnknownTest, "TEST=NONSENSE")]
    [InlineData("TEST=BUGCHECK TEST=bugcheck", BootParameterError.UnknownTest, "TEST=bugcheck")]
    [InlineData("TEST=BUGCHECKS", BootParameterError.UnknownTest, "TEST=BUGCHECKS")]
    [InlineData("TEST=BUG", BootParameterError.UnknownTest, "TEST=BUG")]
    [InlineData("A TEST=", BootParameterError.UnknownTest, "TEST=")]
    [InlineData("SPECIAL-POOL=toolongtag", BootParameterError.NotAPoolTag, "SPECIAL-POOL=toolongtag")]
    [InlineData("SPECIAL-POOL=Spcl SPECIAL-POOL=", BootParameterError.NotAPoolTag, "SPECIAL-POOL=")]
    [InlineData("MAXCPUS=0", BootParameterError.NotAProcessorCount, "MAXCPUS=0")]
    [InlineData("MAXCPUS=257", BootParameterError.NotAProcessorCount, "MAXCPUS=257")]
    [InlineData("MAXCPUS=2 MAXCPUS=x", BootParameterError.NotAProcessorCount, "MAXCPUS=x")]
    [InlineData("MAXCPUS=", BootParameterError.NotAProcessorCount, "MAXCPUS=")]
    [InlineData("MAXCPUS=0004", BootParameterError.NotAProcessorCount, "MAXCPUS=0004")]
    public void TheFirstWrongValueIsNamedWithItsPlace(string parameters, BootParameterError error, string word)
    {
        Assert.Equal((error, word), Problem(parameters));
    }

    [Theory]
    [InlineData("TEST=BUGCHECK", true)]
    [InlineData("SPECIAL-POOL=Spcl", true)]
    [InlineData("XTLDR-NO-PAE", true)]
    [InlineData("XTLDR-DUMP-MAP", true)]
    [InlineData("TEST", false)]
    [InlineData("DEBUG", false)]
    [InlineData("SPECIAL-POOL", false)]
    public void WordsTheKernelOrLoaderRead(string word, bool read)
    {
        Assert.Equal(read, KernelParameters.IsRead(Encoding.ASCII.GetBytes(word)));
    }

    /// <summary>The kernel's list of TEST= names is the list of tests it runs: a name without a test, or a test without its name, fails here.</summary>
    [Fact]
    public void TheKernelsTestNamesAreTheTestsItRuns()
    {
        string source = File.ReadAllText(Path.Combine(Snapshot.RepositoryRoot, "kernel/Xtoskrnl/RequestedTests.cs"));
        Match table = Regex.Match(source, "internal const string Names = \"\"\"\\s*\\n(?<names>.*?)\"\"\";", RegexOptions.Singleline);
        Assert.True(table.Success, "RequestedTests.Names not found");
        string[] names = table.Groups["names"].Value.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        string[] run = Regex.Matches(source, "\"TEST=(?<name>[A-Z0-9-]+)\"").Select(m => m.Groups["name"].Value).Distinct().ToArray();
        Assert.Equal(run.Order(), names.Order());
        Assert.Equal(names.Length, names.Distinct().Count());
    }
}
