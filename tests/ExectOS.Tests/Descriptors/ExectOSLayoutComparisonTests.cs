using System;
using ExectOS.Memory;
using ExectOS.Paging.X86;
using Xunit;

namespace ExectOS.Tests.Descriptors;

/// <summary>
/// Our layouts against ExectOS's sizing formulas, written here a second time, independently, from
/// descriptors/exectos-reference.md (section 2). Where ours differ on purpose, the descriptor says
/// why; those cases are the ones listed as differences below, never silently excluded.
/// </summary>
public class ExectOSLayoutComparisonTests
{
    private const ulong K = 1024, M = K * K, G = M * K;

    // ExectOS amd64 (xtoskrnl/mm/amd64/mmgr.cc), P = physical pages, P >= 4096.
    private static ulong Amd64InitialNonPaged(ulong p) => RoundUp(Math.Min(M + (p - 4096) / 256 * 32 * K, 128 * G), 4 * K);
    private static ulong Amd64MaximumNonPaged(ulong p) => Math.Min(M + (p - 4096) / 256 * 400 * K, 128 * G);
    private static ulong Amd64PagedPool(ulong p) => RoundUp(Math.Min(Math.Max(4 * Amd64MaximumNonPaged(p), 48 * M), 128 * G), 2 * M);

    // ExectOS i686 (xtoskrnl/mm/i686/mmgr.cc).
    private static ulong I686InitialNonPaged(ulong p) => p <= 65536 ? 2 * M : Math.Min(256 * K + (p - 1024) / 256 * 32 * K, 128 * M) / (4 * K) * (4 * K);
    private static ulong I686MaximumNonPaged(ulong p)
        => Math.Min(p >= 126976 ? Math.Max(M + (p - 1024) / 256 * 200 * K, 128 * M) : M + (p - 1024) / 256 * 400 * K, 256 * M);
    private static ulong I686PagedPool(ulong p, bool pae) => RoundUp(Math.Max(Math.Min((pae ? 4UL : 2UL) * I686MaximumNonPaged(p), 188 * M), 32 * M), pae ? 2 * M : 4 * M);

    // Both (ComputeSystemPteSize): the small-machine threshold differs by architecture.
    private static ulong SystemPtes(ulong p, ulong small) => (p < small ? 7000UL : 11000UL) * (p > 8192 ? 2UL : 1UL) * (p > 65536 ? 2UL : 1UL);

    [Theory]
    [InlineData(128)]
    [InlineData(512)]
    [InlineData(2048)]
    [InlineData(8192)]
    [InlineData(262144)]
    public void Amd64MatchesExectOS(ulong megabytes)
    {
        ulong pages = megabytes * 256;
        LayoutRegion[] regions = Compute<Amd64Kernel>(pages);
        Assert.Equal(Amd64InitialNonPaged(pages), regions[Amd64Kernel.NonPagedPool].Size);
        Assert.Equal(Amd64MaximumNonPaged(pages) - Amd64InitialNonPaged(pages), regions[Amd64Kernel.NonPagedExpansion].Size);
        Assert.Equal(SystemPtes(pages, 6144) * 4 * K, regions[Amd64Kernel.SystemPtes].Size);
        Assert.Equal(Amd64PagedPool(pages), regions[Amd64Kernel.PagedPool].Size);
        Assert.Equal(0xFFFFFA8000000000UL, regions[Amd64Kernel.PfnDatabase].Start.Value);
        // Difference by design: 32-byte PFN entries (ExectOS: sizeof(MMPFN) = 48).
        Assert.Equal(RoundUp(pages * 32 + 64 * 24 * 2, 4 * K), regions[Amd64Kernel.PfnDatabase].Size);
    }

    [Theory]
    [InlineData(128, false)]
    [InlineData(495, false)]
    [InlineData(496, false)]
    [InlineData(2048, false)]
    [InlineData(4095, false)]
    [InlineData(8192, true)]
    [InlineData(65535, true)]
    public void I686MatchesExectOS(ulong megabytes, bool pae)
    {
        ulong pages = megabytes * 256;
        LayoutRegion[] regions = pae ? Compute<I686PaeKernel>(pages) : Compute<I686Kernel>(pages);
        Assert.Equal(I686InitialNonPaged(pages), regions[I686Kernel.NonPagedPool].Size);
        Assert.Equal(SystemPtes(pages, 4864) * 4 * K, regions[I686Kernel.SystemPtes].Size);
        Assert.Equal(I686PagedPool(pages, pae), regions[I686Kernel.PagedPool].Size);
        // Difference by design: the expansion region is capped at 128 MiB, not at the shared page (0xFFBFF000).
        Assert.Equal(Math.Min(I686MaximumNonPaged(pages), 128 * M), regions[I686Kernel.NonPagedExpansion].Size);
    }

    [Fact]
    public void BelowSixteenMegabytesOurAmd64PoolsStaySmall()
    {
        // Difference by design: ExectOS's unsigned (P - 4096) wraps below 16 MiB and both pools become 128 GiB.
        LayoutRegion[] regions = Compute<Amd64Kernel>(3000);
        Assert.Equal(M, regions[Amd64Kernel.NonPagedPool].Size);
        Assert.Equal(0UL, regions[Amd64Kernel.NonPagedExpansion].Size);
    }

    private static LayoutRegion[] Compute<TLayout>(ulong pages) where TLayout : struct, ILayout
    {
        var regions = new LayoutRegion[TLayout.RegionCount];
        Assert.True(TLayout.Compute(pages, regions));
        return regions;
    }

    private static ulong RoundUp(ulong value, ulong alignment) => (value + alignment - 1) / alignment * alignment;
}
