using System;
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
        Assert.StartsWith("exectos: FAIL kernel: boot parameter TEST=NONSENSE names no test this kernel has; known: BUGCHECK ", result.LastLine);
        Assert.Contains(" STACK-OVERFLOW", result.LastLine);
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
    public void WordsNoOneReadsAreListedAsIgnored()
    {
        var result = ExectosCommand.Boot("--params", "DEBUG XTLDR-NO-LA57 SPECIAL-POOL=Spcl VERBOSE=2");

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains("XTOSKRNL: parameters: DEBUG XTLDR-NO-LA57 SPECIAL-POOL=Spcl VERBOSE=2 (ignored: DEBUG VERBOSE=2)", result.Lines);
        Assert.StartsWith("exectos: PASS kernel reported success in ", result.LastLine);
    }
}
