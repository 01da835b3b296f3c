using System;
using System.Linq;
using Xunit;

namespace ExectOS.Tests.Boot;

/// <summary>Boot parameters the kernel reads with a value it does not know end the boot, named; words it does not read are listed.</summary>
[Collection("QEMU")]
[Trait("Category", "Boot")]
public sealed class BootParameterTests
{
    [Fact]
    public void AMisspelledTestIsAFailNamingIt()
    {
        var result = ExectosCommand.Boot("--params", "TEST=NONSENSE");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("XTOSKRNL: parameters: TEST=NONSENSE", result.Lines);
        // Parameter 1: an unknown test; 2 and 3: where the parameter stands in the line.
        Assert.Contains(result.Lines, l => l.StartsWith("*** STOP: 0xE0000003 (0x0000000000000001, 0x0000000000000000, 0x000000000000000D, 0x0000000000000000) BAD_BOOT_PARAMETER", StringComparison.Ordinal));
        Assert.Equal("exectos: FAIL kernel: boot parameter TEST=NONSENSE names no test this kernel has (its tests are listed above)", result.LastLine);
        // The names, on lines that fit the console's line: every one of the kernel's tests, none cut.
        string listed = string.Join(' ', result.Lines.Where(l => l.StartsWith("XTOSKRNL: tests this kernel has: ", StringComparison.Ordinal)).Select(l => l["XTOSKRNL: tests this kernel has: ".Length..]));
        Assert.DoesNotContain("~", listed);
        Assert.Contains("STACK-OVERFLOW", listed.Split(' '));
        Assert.Contains("PAGED-POOL-AT-DISPATCH", listed.Split(' '));
        Assert.StartsWith("BUGCHECK ", listed);
        Assert.DoesNotContain(result.Lines, l => l.StartsWith("XTOSKRNL: self-test passed", StringComparison.Ordinal));
    }

    [Fact]
    public void AMalformedSpecialPoolTagIsAFailNamingIt()
    {
        var result = ExectosCommand.Boot("--params", "TEST=BUGCHECK SPECIAL-POOL=toolongtag");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains(result.Lines, l => l.StartsWith("*** STOP: 0xE0000003 (0x0000000000000002, 0x000000000000000E, 0x0000000000000017, 0x0000000000000000) BAD_BOOT_PARAMETER", StringComparison.Ordinal));
        // Found before any test runs: no manual crash.
        Assert.Equal("exectos: FAIL kernel: boot parameter SPECIAL-POOL=toolongtag is not a pool tag (1 to 4 characters, or * for every tag)", result.LastLine);
    }

    [Fact]
    public void AMalformedProcessorCountIsAFailNamingIt()
    {
        var result = ExectosCommand.Boot("--params", "MAXCPUS=0");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains(result.Lines, l => l.StartsWith("*** STOP: 0xE0000003 (0x0000000000000003, 0x0000000000000000, 0x0000000000000009, 0x0000000000000000) BAD_BOOT_PARAMETER", StringComparison.Ordinal));
        Assert.Equal("exectos: FAIL kernel: boot parameter MAXCPUS=0 is not a processor count (a decimal number from 1 to 256)", result.LastLine);
    }

    [Fact]
    public void WordsNoOneReadsAreListedAsIgnored()
    {
        var result = ExectosCommand.Boot("--params", "DEBUG XTLDR-NO-LA57 SPECIAL-POOL=Spcl VERBOSE=2");

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains("XTOSKRNL: parameters: DEBUG XTLDR-NO-LA57 SPECIAL-POOL=Spcl VERBOSE=2 (ignored: DEBUG VERBOSE=2)", result.Lines);
        Assert.StartsWith("exectos: PASS kernel reported success in ", result.LastLine);
    }
}
