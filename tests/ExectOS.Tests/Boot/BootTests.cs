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
    [InlineData("q35", 512, "qemu64", "", 4)]
    [InlineData("pc", 128, "qemu64", "", 4)]
    [InlineData("q35", 2048, "qemu64", "", 4)]
    [InlineData("pc", 4096, "qemu64", "", 4)]
    [InlineData("q35", 8192, "qemu64", "", 4)]
    [InlineData("q35", 512, "max", "", 5)]
    [InlineData("q35", 8192, "max", "", 5)]
    [InlineData("q35", 512, "max", "XTLDR-NO-LA57", 4)]
    public void BootsToTheKernelsVerdict(string machine, int megabytes, string cpu, string parameters, int levels)
    {
        var result = parameters.Length == 0
            ? ExectosCommand.Boot("--machine", machine, "--memory", $"{megabytes}M", "--cpu", cpu)
            : ExectosCommand.Boot("--machine", machine, "--memory", $"{megabytes}M", "--cpu", cpu, "--params", parameters);

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains(result.Lines, l => l.StartsWith("XTLDR: ExectOS boot loader 0.1.0 (amd64", StringComparison.Ordinal));
        Assert.Contains(result.Lines, l => l.StartsWith("XTOSKRNL: ExectOS kernel 0.1.0 (amd64", StringComparison.Ordinal));
        Assert.Contains(result.Lines, l => l.StartsWith("XTOSKRNL: loader block v1.6, 424 bytes;", StringComparison.Ordinal));
        // The memory map reached the kernel: nearly all RAM free, the loader's allocations typed as such.
        string map = Assert.Single(result.Lines, l => l.StartsWith("XTOSKRNL: memory map: ", StringComparison.Ordinal));
        int freeMegabytes = int.Parse(map.Split(" free (")[1].Split(' ')[0]);
        Assert.InRange(freeMegabytes, megabytes * 9 / 10, megabytes);
        foreach (string type in new[] { "LoaderSystemCode", "LoaderStartupKernelStack 16 pages", "LoaderSystemBlock 1 pages", "LoaderMemoryData" })
            Assert.Contains(result.Lines, l => l.StartsWith("XTOSKRNL:   " + type, StringComparison.Ordinal));
        // Every page of the map is accounted for: the pages by type add up to the pages described.
        ulong described = ulong.Parse(map.Split(" descriptors, ")[1].Split(' ')[0]);
        ulong byType = result.Lines.Where(l => l.StartsWith("XTOSKRNL:   Loader", StringComparison.Ordinal) && l.EndsWith(" pages", StringComparison.Ordinal))
            .Aggregate(0UL, (sum, l) => sum + ulong.Parse(l.Split(' ')[^2]));
        Assert.Equal(described, byType);
        if (megabytes > 4096)
            Assert.True(Convert.ToUInt64(map.Split("highest page 0x")[1], 16) > 0xFFFFF, "RAM above 4 GiB is described");
        // The generated layout, computed from the detected memory: every region printed, the PFN database in place.
        string mode = levels == 5 ? "Amd64La57" : "Amd64";
        Assert.Contains(result.Lines, l => l.StartsWith($"XTOSKRNL: layout {mode}Kernel for ", StringComparison.Ordinal));
        Assert.Equal(12, result.Lines.Count(l => l.StartsWith("XTOSKRNL:   0xFF", StringComparison.Ordinal)));
        Assert.Contains(result.Lines, l => l.StartsWith("XTOSKRNL:   0xFFFFFA8000000000 ", StringComparison.Ordinal) && l.Contains(" PfnDatabase ", StringComparison.Ordinal));
        // The loader's tables, built from the plan with the generated walker, walked by the kernel page by page.
        Assert.Contains(result.Lines, l => l.StartsWith($"XTLDR: paging {mode} ({levels} levels): ", StringComparison.Ordinal));
        string paging = Assert.Single(result.Lines, l => l.StartsWith($"XTOSKRNL: paging {mode}, {levels} levels: ", StringComparison.Ordinal));
        Assert.Matches(@"\d+ mappings, \d+ pages as planned \(image \d+, stack 16, boot \d+, firmware \d+\), W\^X, identity only 0x[0-9A-F]{8}$", paging);
        // The PFN database: one 32-byte entry per frame up to the top of RAM, backed only where the map has
        // frames, and every described page in exactly one state.
        string pfn = Assert.Single(result.Lines, l => l.StartsWith("XTOSKRNL: PFN database at 0xFFFFFA8000000000: ", StringComparison.Ordinal));
        var pfnFigures = System.Text.RegularExpressions.Regex.Match(pfn, @": (\d+) frames, 32 bytes each, (\d+) pages backed \(\d+ [KMG]iB\) \+ (\d+) tables$");
        Assert.True(pfnFigures.Success, pfn);
        ulong frames = ulong.Parse(pfnFigures.Groups[1].Value), backed = ulong.Parse(pfnFigures.Groups[2].Value);
        Assert.InRange(backed, 1UL, (frames * 32 + 4095) / 4096);
        if (megabytes > 4096)
            Assert.True(backed < frames * 32 / 4096, "the hole below 4 GiB is not backed");
        string states = Assert.Single(result.Lines, l => l.StartsWith("XTOSKRNL: pages: ", StringComparison.Ordinal));
        var counts = System.Text.RegularExpressions.Regex.Match(states, @"^XTOSKRNL: pages: (\d+) free, (\d+) zeroed, (\d+) bad, (\d+) active \((\d+) page tables, (\d+) loader\), (\d+) reserved$");
        Assert.True(counts.Success, states);
        ulong Count(int group) => ulong.Parse(counts.Groups[group].Value);
        ulong describedBelowTop = Count(1) + Count(2) + Count(3) + Count(4) + Count(7);
        Assert.InRange(describedBelowTop, (ulong)megabytes * 256 * 95 / 100, frames);
        Assert.InRange(Count(5), 4UL, 200UL);
        Assert.InRange(Count(1), (ulong)megabytes * 256 * 85 / 100, (ulong)megabytes * 256);
        // The self-test allocated, touched and freed pages and runs, and every count came back.
        string selfTest = Assert.Single(result.Lines, l => l.StartsWith("XTOSKRNL: self-test passed: ", StringComparison.Ordinal));
        // Between the two lines, the double-fault and NMI stacks took 8 pages and the tables they needed (at most
        // one per level below the root).
        var selfFigures = System.Text.RegularExpressions.Regex.Match(selfTest, @"^XTOSKRNL: self-test passed: RAM \d+ MiB, (\d+) free pages, PFN database (\d+) bytes \(32 per entry\), layout checksum 0x[0-9A-F]{16}, 71 stack pages, pools: 240 non-paged and 240 paged blocks$");
        Assert.True(selfFigures.Success, selfTest);
        Assert.InRange(ulong.Parse(selfFigures.Groups[1].Value), Count(1) + Count(2) - 8 - (ulong)(levels - 1), Count(1) + Count(2) - 8);
        Assert.Equal(backed * 4096, ulong.Parse(selfFigures.Groups[2].Value));
        // Both pools in their layout regions, and the self-test's tag with every allocation freed again.
        // The cookie comes from RDRAND where the processor has it (QEMU's "max" model), else from the TSC.
        string cookie = cpu == "max" ? "RDRAND" : "TSC";
        Assert.Single(result.Lines, l => System.Text.RegularExpressions.Regex.IsMatch(l,
            $@"^XTOSKRNL: pools: non-paged at 0x[0-9A-F]{{16}} \(\d+ [KMG]iB \+ \d+ [KMG]iB expansion\), paged at 0x[0-9A-F]{{16}} \(\d+ [KMG]iB\), cookie from {cookie}, special pool off$"));
        Assert.Contains("XTOSKRNL: pool tag 'PTst' non-paged: 360 allocations, 360 frees, 0 bytes in use", result.Lines);
        Assert.Contains("XTOSKRNL: pool tag 'PTst' paged: 360 allocations, 360 frees, 0 bytes in use", result.Lines);
        // The stacks: only the double-fault and NMI stacks are left, from the allocator; the self-test's 50-page
        // stack, written end to end, is the deepest use; its stacks went back (the cache dropped).
        var stacks = Assert.Single(StackBootTests.StackReports(result.Lines));
        Assert.Equal(new StackBootTests.StackLine("", 2, 8, 8, 0, 50 * 4096), stacks[0]);
        Assert.Equal(new StackBootTests.StackLine("double fault", 1, 4, 4, 0, 0), stacks.Single(l => l.Kind == "double fault"));
        Assert.Equal(new StackBootTests.StackLine("NMI", 1, 4, 4, 0, 0), stacks.Single(l => l.Kind == "NMI"));
        Assert.Contains("XTOSKRNL: start-up checks passed", result.Lines);
        Assert.StartsWith("exectos: PASS kernel reported success in ", result.LastLine);
    }

    [Fact]
    public void GuestRamIsNotReservedUpFront()
    {
        // Twice the RAM of the machine this was written on: the host gives memory only to the pages the guest touches.
        var result = ExectosCommand.Boot("--memory", "48G");

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains(" -object memory-backend-ram,id=ram,size=48G,reserve=off -machine memory-backend=ram ", result.Lines[0]);
        string selfTest = Assert.Single(result.Lines, l => l.StartsWith("XTOSKRNL: self-test passed: RAM ", StringComparison.Ordinal));
        Assert.InRange(int.Parse(selfTest.Split("RAM ")[1].Split(' ')[0]), 48 * 1024 * 99 / 100, 48 * 1024);
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
    public void WritableCodeSectionIsRefusedByThePlanner()
    {
        // Mark the kernel's .text writable: W^X is the plan's rule, so the loader refuses before leaving the firmware.
        string kernel = Corrupt(bytes =>
        {
            int pe = BitConverter.ToInt32(bytes, 0x3C);
            int sections = BitConverter.ToUInt16(bytes, pe + 6);
            int table = pe + 24 + BitConverter.ToUInt16(bytes, pe + 20);
            int text = Enumerable.Range(0, sections).Single(i => System.Text.Encoding.ASCII.GetString(bytes, table + i * 40, 8).TrimEnd('\0') == ".text");
            int characteristics = table + text * 40 + 36;
            BitConverter.GetBytes(BitConverter.ToUInt32(bytes, characteristics) | 0x80000000u).CopyTo(bytes, characteristics);
            return bytes;
        });

        var result = ExectosCommand.Boot("--kernel", kernel);

        Assert.Equal(1, result.ExitCode);
        Assert.Matches(@"^exectos: FAIL loader: cannot plan the kernel's mappings: the request asks for a page both writable and executable \(kernel image, at 0xFFFFF80000[0-9A-F]{6}\)$", result.LastLine);
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
    public void KernelStackOverflowEndsInTheGuardPageBugCheck()
    {
        var result = ExectosCommand.Boot("--params", "TEST=STACK-OVERFLOW");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("XTOSKRNL: overflowing a 16 KiB kernel stack (TEST=STACK-OVERFLOW)", result.Lines);
        // The push into the guard page cannot deliver its page fault on that stack: a double fault, on its own IST stack.
        Assert.Contains(result.Lines, l => l.StartsWith("XTOSKRNL: trap #DF double fault (vector 8) at RIP 0xFFFFF80000", StringComparison.Ordinal));
        (ulong address, ulong stackBase) = AssertGuardPageOverflow(result);
        Assert.InRange(stackBase, 0xFFFFF88000000000UL, 0xFFFFF89FFFFFFFFFUL);
        Assert.Matches($"^exectos: FAIL bug check 0x0000007F UNEXPECTED_KERNEL_MODE_TRAP \\(0x0000000000000008, 0x{address:X16}, 0x{stackBase:X16}, 0xFFFFF80000[0-9A-F]{{6}}\\)$", result.LastLine);
    }

    [Fact]
    public void DoubleFreeOfAPageIsAPfnListCorruptBugCheck()
    {
        var result = ExectosCommand.Boot("--params", "TEST=DOUBLE-FREE");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains(result.Lines, l => l.StartsWith("XTOSKRNL: PFN database: a page was freed twice, page 0x", StringComparison.Ordinal));
        // Parameter 1 names the check (0x7: double free), 2 the page, 3 its state (1: free).
        Assert.Matches(@"^exectos: FAIL bug check 0x0000004E PFN_LIST_CORRUPT \(0x0000000000000007, 0x[0-9A-F]{16}, 0x0000000000000001, 0x0000000000000000\)$", result.LastLine);
    }

    [Fact]
    public void DoubleFreeOfAPoolBlockIsABadPoolCallerBugCheck()
    {
        var result = ExectosCommand.Boot("--params", "TEST=POOL-DOUBLE-FREE");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("XTOSKRNL: pool: pool block freed twice", result.Lines);
        // Parameter 1: 7 (already freed), 3: the header's first 8 bytes, 4: the block, the first in the non-paged pool's first page.
        Assert.Matches(@"^exectos: FAIL bug check 0x000000C2 BAD_POOL_CALLER \(0x0000000000000007, 0x0000000000000000, 0x[0-9A-F]{16}, 0xFFFFFA80[0-9A-F]{5}010\)$", result.LastLine);
    }

    [Fact]
    public void AnOverrunIntoTheNextPoolHeaderIsABadPoolHeaderBugCheck()
    {
        var result = ExectosCommand.Boot("--params", "TEST=POOL-OVERRUN");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("XTOSKRNL: pool: pool header corrupt (overrun into the next block?)", result.Lines);
        // Parameter 1: 0x20, 2: the block's header (the paged pool's first), 3: the header overwritten 112 bytes on, 4: the block's size in 16-byte units.
        Assert.Equal("exectos: FAIL bug check 0x00000019 BAD_POOL_HEADER (0x0000000000000020, 0xFFFFF8A000000000, 0xFFFFF8A000000070, 0x0000000000000007)", result.LastLine);
    }

    [Fact]
    public void SpecialPoolCatchesAnOverrunAtTheFaultingInstruction()
    {
        var result = ExectosCommand.Boot("--params", "SPECIAL-POOL=Spcl TEST=SPECIAL-POOL-OVERRUN");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains(result.Lines, l => l.StartsWith("XTOSKRNL: pools: ", StringComparison.Ordinal) && l.EndsWith(", special pool for 'Spcl'", StringComparison.Ordinal));
        // The write that crosses into the guard page faults; CR2 is the guard page's first byte.
        var fault = System.Text.RegularExpressions.Regex.Match(result.LastLine, @"^exectos: FAIL bug check 0x000000CD PAGE_FAULT_BEYOND_END_OF_ALLOCATION \((0x[0-9A-F]{16}), 0x0000000000000001, 0xFFFFF80000[0-9A-F]{6}, 0x0000000000000000\)$");
        Assert.True(fault.Success, result.LastLine);
        Assert.EndsWith("000", fault.Groups[1].Value);
        Assert.Contains($"XTOSKRNL: special pool: an access ran past the end of an allocation into its guard page at {fault.Groups[1].Value}", result.Lines);
    }

    [Fact]
    public void TheSelfTestPassesWithEveryAllocationInTheSpecialPool()
    {
        var result = ExectosCommand.Boot("--params", "SPECIAL-POOL=*");

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains(result.Lines, l => l.StartsWith("XTOSKRNL: pools: ", StringComparison.Ordinal) && l.EndsWith(", special pool for '*'", StringComparison.Ordinal));
        Assert.Contains(result.Lines, l => l.StartsWith("XTOSKRNL: self-test passed: ", StringComparison.Ordinal) && l.EndsWith(", pools: 240 non-paged and 240 paged blocks", StringComparison.Ordinal));
    }

    [Fact]
    public void SpecialPoolCatchesAUseAfterFree()
    {
        var result = ExectosCommand.Boot("--params", "SPECIAL-POOL=* TEST=SPECIAL-POOL-USE-AFTER-FREE");

        Assert.Equal(1, result.ExitCode);
        // A read (parameter 2 is 0) of the freed allocation in the paged pool's special range.
        var fault = System.Text.RegularExpressions.Regex.Match(result.LastLine, @"^exectos: FAIL bug check 0x000000CC PAGE_FAULT_IN_FREED_SPECIAL_POOL \((0xFFFFF8A0[0-9A-F]{8}), 0x0000000000000000, 0xFFFFF80000[0-9A-F]{6}, 0x0000000000000000\)$");
        Assert.True(fault.Success, result.LastLine);
        Assert.Contains($"XTOSKRNL: special pool: an access to freed special pool at {fault.Groups[1].Value}", result.Lines);
    }

    private static ulong SystemCacheStart()
    {
        var storage = default(ExectOS.Memory.LayoutRegions.Storage);
        var regions = ExectOS.Memory.LayoutRegions.Compute<ExectOS.Paging.X86.Amd64Kernel>(ref storage, 512UL << 8);
        return regions[ExectOS.Memory.LayoutRegions.Find<ExectOS.Paging.X86.Amd64Kernel>("SystemCache")].Start.Value;
    }

    [Fact]
    public void PageFaultIsReportedByTheTrapHandler()
    {
        var result = ExectosCommand.Boot("--params", "TEST=PAGE-FAULT");

        // The kernel reads the start of its layout's SystemCache region, which nothing maps yet.
        string address = $"0x{SystemCacheStart():X16}";
        AssertPageFaultAt(result, address);
        Assert.StartsWith($"exectos: FAIL bug check 0x00000050 PAGE_FAULT_IN_NONPAGED_AREA ({address}, 0x0000000000000000, 0xFFFFF80000", result.LastLine);
    }

    /// <summary>
    /// The one "kernel stack overflow" line of a boot, naming an address in the guard page just below a stack's base:
    /// that address and that base.
    /// </summary>
    internal static (ulong Address, ulong StackBase) AssertGuardPageOverflow(ExectosCommand.Result result)
    {
        string overflow = Assert.Single(result.Lines, l => l.StartsWith("XTOSKRNL: kernel stack overflow: ", StringComparison.Ordinal));
        var match = System.Text.RegularExpressions.Regex.Match(overflow, "^XTOSKRNL: kernel stack overflow: 0x([0-9A-F]{16}) is the guard page below the stack at 0x([0-9A-F]{16})$");
        Assert.True(match.Success, overflow);
        ulong address = Convert.ToUInt64(match.Groups[1].Value, 16), stackBase = Convert.ToUInt64(match.Groups[2].Value, 16);
        Assert.InRange(address, stackBase - 4096, stackBase - 1);
        return (address, stackBase);
    }

    /// <summary>A boot that ended in the trap handler's line for a page fault at <paramref name="address"/> (CR2) and PAGE_FAULT_IN_NONPAGED_AREA naming it.</summary>
    internal static void AssertPageFaultAt(ExectosCommand.Result result, string address)
    {
        Assert.Equal(1, result.ExitCode);
        Assert.Contains(result.Lines, l => l.StartsWith("XTOSKRNL: trap #PF page fault (vector 14) at RIP ", StringComparison.Ordinal) && l.EndsWith($", CR2 {address}", StringComparison.Ordinal));
        Assert.StartsWith($"exectos: FAIL bug check 0x00000050 PAGE_FAULT_IN_NONPAGED_AREA ({address}, 0x0000000000000000, ", result.LastLine);
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
