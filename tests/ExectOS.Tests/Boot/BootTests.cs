using System;
using System.IO;
using System.Linq;
using Xunit;

namespace ExectOS.Tests.Boot;

/// <summary>Serialises QEMU boots within this assembly: each one keeps a core busy under TCG.</summary>
[CollectionDefinition("QEMU", DisableParallelization = true)]
public sealed class QemuCollection { }

/// <summary>The real loader and kernel booted in QEMU through ./exectos, judged by its output and exit code.</summary>
[Collection("QEMU")]
[Trait("Category", "Boot")]
public sealed class BootTests : IDisposable
{
    private readonly string _scratch = Directory.CreateTempSubdirectory("exectos-test-").FullName;

    public void Dispose() => Directory.Delete(_scratch, recursive: true);

    [Theory]
    [InlineData("q35", 512)]
    [InlineData("pc", 128)]
    [InlineData("q35", 8192)]
    public void BootsToTheKernelsVerdict(string machine, int megabytes)
    {
        var result = ExectosCommand.Boot("--machine", machine, "--memory", $"{megabytes}M");

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains(result.Lines, l => l.StartsWith("XTLDR: ExectOS boot loader 0.1.0 (amd64", StringComparison.Ordinal));
        Assert.Contains(result.Lines, l => l.StartsWith("XTOSKRNL: ExectOS kernel 0.1.0 (amd64", StringComparison.Ordinal));
        Assert.Contains(result.Lines, l => l.StartsWith("XTOSKRNL: loader block v1.1, 352 bytes;", StringComparison.Ordinal));
        // The memory map reached the kernel: nearly all RAM free, the loader's allocations typed as such.
        string map = Assert.Single(result.Lines, l => l.StartsWith("XTOSKRNL: memory map: ", StringComparison.Ordinal));
        int freeMegabytes = int.Parse(map.Split(" free (")[1].Split(' ')[0]);
        Assert.InRange(freeMegabytes, megabytes * 9 / 10, megabytes);
        foreach (string type in new[] { "LoaderSystemCode", "LoaderStartupKernelStack 16 pages", "LoaderSystemBlock 1 pages", "LoaderMemoryData" })
            Assert.Contains(result.Lines, l => l.StartsWith("XTOSKRNL:   " + type, StringComparison.Ordinal));
        if (megabytes > 4096)
            Assert.True(Convert.ToUInt64(map.Split("highest page 0x")[1], 16) > 0xFFFFF, "RAM above 4 GiB is described");
        // The generated layout, computed from the detected memory: every region printed, the PFN database in place.
        Assert.Contains(result.Lines, l => l.StartsWith("XTOSKRNL: layout Amd64Kernel for ", StringComparison.Ordinal));
        Assert.Equal(12, result.Lines.Count(l => l.StartsWith("XTOSKRNL:   0xFFFF", StringComparison.Ordinal)));
        Assert.Contains(result.Lines, l => l.StartsWith("XTOSKRNL:   0xFFFFFA8000000000 ", StringComparison.Ordinal) && l.Contains(" PfnDatabase ", StringComparison.Ordinal));
        // The generated paging code and the generic walker, running on bare metal over the live tables.
        Assert.Contains(result.Lines, l => l.StartsWith("XTOSKRNL: paging Amd64 (4 levels), root 0x", StringComparison.Ordinal) && l.EndsWith(", all identity-mapped", StringComparison.Ordinal));
        Assert.Contains("XTOSKRNL: start-up checks passed", result.Lines);
        Assert.StartsWith("exectos: PASS kernel reported success in ", result.LastLine);
    }

    [Fact]
    public void TruncatedKernelFailsFastWithTheLoadersReason()
    {
        string kernel = Corrupt(bytes => bytes[..(bytes.Length / 3)]);

        var result = ExectosCommand.Boot("--kernel", kernel);

        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith(@"exectos: FAIL loader: kernel image \EXECTOS\XTOSKRNL.EXE is truncated: ", result.LastLine);
        Assert.DoesNotContain(result.Lines, l => l.StartsWith("XTOSKRNL:", StringComparison.Ordinal));
    }

    [Fact]
    public void MissingKernelIsNamedByTheLoader()
    {
        var result = ExectosCommand.Boot("--kernel", "none");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal(@"exectos: FAIL loader: kernel image \EXECTOS\XTOSKRNL.EXE was not found on the boot volume (EFI status 14)", result.LastLine);
    }

    [Fact]
    public void EmptyKernelFileIsNamedTruncated()
    {
        var result = ExectosCommand.Boot("--kernel", Corrupt(_ => []));

        Assert.Equal(1, result.ExitCode);
        Assert.Equal(@"exectos: FAIL loader: kernel image \EXECTOS\XTOSKRNL.EXE is truncated: too small for a DOS header (expected 0x40, found 0x0)", result.LastLine);
    }

    [Fact]
    public void KernelForAnotherMachineIsRefused()
    {
        string kernel = Corrupt(bytes =>
        {
            int peHeader = BitConverter.ToInt32(bytes, 0x3C);
            BitConverter.GetBytes((ushort)0x014C).CopyTo(bytes, peHeader + 4); // i386
            return bytes;
        });

        var result = ExectosCommand.Boot("--kernel", kernel);

        Assert.Equal(1, result.ExitCode);
        Assert.Equal(@"exectos: FAIL loader: kernel image \EXECTOS\XTOSKRNL.EXE is for another machine (expected 0x8664, found 0x14C)", result.LastLine);
    }

    [Fact]
    public void BugCheckIsReportedWithCodeAndParameters()
    {
        var result = ExectosCommand.Boot("--params", "TEST=BUGCHECK");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("XTOSKRNL: parameters: TEST=BUGCHECK", result.Lines);
        Assert.Contains(result.Lines, l => l.StartsWith("*** STOP: 0x000000E2 (0x5445535400000001, ", StringComparison.Ordinal));
        Assert.Equal("exectos: FAIL bug check 0x000000E2 MANUALLY_INITIATED_CRASH (0x5445535400000001, 0x0000000000000000, 0x0000000000000000, 0x0000000000000000)", result.LastLine);
    }

    [Fact]
    public void MalformedParametersAreRefusedByTheLoader()
    {
        var result = ExectosCommand.Boot("--params", "TEST\tBUGCHECK");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal(@"exectos: FAIL loader: kernel parameters \EXECTOS\PARAMS.TXT contain a byte that is not printable ASCII at offset 4", result.LastLine);
    }

    private string Corrupt(Func<byte[], byte[]> change)
    {
        string path = Path.Combine(_scratch, $"kernel-{Guid.NewGuid():N}.exe");
        File.WriteAllBytes(path, change(File.ReadAllBytes(ExectosCommand.KernelImage)));
        return path;
    }
}
