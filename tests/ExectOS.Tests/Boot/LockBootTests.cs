using Xunit;

namespace ExectOS.Tests.Boot;

/// <summary>Misused spin locks and IRQL end in NT's bug checks, booted.</summary>
[Collection("QEMU")]
[Trait("Category", "Boot")]
public sealed class LockBootTests
{
    [Theory]
    [InlineData("amd64", "SPINLOCK-RECURSIVE", "acquiring a spin lock twice", @"0x0000000F SPIN_LOCK_ALREADY_OWNED \(0x[0-9A-F]{16}, 0x0000000000000000, ")]
    [InlineData("i686", "SPINLOCK-RECURSIVE", "acquiring a spin lock twice", @"0x0000000F SPIN_LOCK_ALREADY_OWNED \(0x00000000[0-9A-F]{8}, 0x0000000000000000, ")]
    [InlineData("amd64", "SPINLOCK-NOT-OWNER", "releasing a queued spin lock nobody holds", @"0x00000010 SPIN_LOCK_NOT_OWNED \(0x[0-9A-F]{16}, 0x0000000000000000, ")]
    [InlineData("amd64", "IRQL-LOWER", "lowering the IRQL to DISPATCH_LEVEL from PASSIVE_LEVEL", @"0x0000000A IRQL_NOT_LESS_OR_EQUAL \(0x0000000000000002, 0x0000000000000000, ")]
    // Parameter 1: the 64 bytes asked for, 2: DISPATCH_LEVEL, 4: the tag 'Irql'.
    [InlineData("amd64", "PAGED-POOL-AT-DISPATCH", "allocating paged pool under a spin lock", @"0x0000000A IRQL_NOT_LESS_OR_EQUAL \(0x0000000000000040, 0x0000000000000002, 0x0000000000000000, 0x000000006C717249\)$")]
    public void MisuseIsTheNamedBugCheck(string arch, string test, string line, string verdict)
    {
        var result = ExectosCommand.Boot("--arch", arch, "--params", "TEST=" + test);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"XTOSKRNL: {line} (TEST={test})", result.Lines);
        Assert.Matches("^exectos: FAIL bug check " + verdict, result.LastLine);
    }
}
