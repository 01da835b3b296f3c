using System;
using System.Runtime.CompilerServices;
using ExectOS.Memory;

namespace ExectOS.Tests.Memory;

/// <summary>
/// The kernel regions the memory-manager tests need, placed by the tests for a mode whose descriptor gives it no
/// layout (RISC-V today), so the PFN, stack and pool tests run on every mode: each region in a root-table slot of
/// its own in the upper half of the address space, sized for the machine. Not a layout of the system; the layout
/// and mapping-plan tests cover the descriptors' layouts only.
/// </summary>
internal readonly struct TestLayout<TMode> : ILayout where TMode : struct, IPagingMode
{
    public const int LoaderMappings = 0, Hyperspace = 1, PfnDatabase = 2, SystemPtes = 3, NonPagedPool = 4, NonPagedExpansion = 5, PagedPool = 6, PageTables = 7;

    private static readonly string[] Names = ["LoaderMappings", "Hyperspace", "PfnDatabase", "SystemPtes", "NonPagedPool", "NonPagedExpansion", "PagedPool", "PageTables"];

    private const ulong SystemPtePages = 16384, NonPagedPages = 4096, ExpansionPages = 16384, PagedPages = 16384;

    public static string Name => "TestLayout<" + TMode.Name + ">";

    public static ulong MinimumPages => 1;

    /// <summary>As many frames as the mode addresses, and as the database's slot holds.</summary>
    public static ulong MaximumPages
    {
        get
        {
            int frameBits = TMode.PhysicalBits - TMode.PageShift;
            ulong frames = frameBits >= 64 ? ulong.MaxValue : 1UL << frameBits;
            return Math.Min(frames, SlotBytes / (ulong)Unsafe.SizeOf<PfnEntry>() / 2);
        }
    }

    /// <summary>The page-table region (the self-map slot) only where the mode has one.</summary>
    public static int RegionCount => TMode.SelfMapIndex >= 0 ? Names.Length : Names.Length - 1;

    public static string RegionName(int region) => region >= 0 && region < RegionCount ? Names[region] : "";

    public static bool IsCanonical(VirtualAddress address) => TMode.IsCanonical(address);

    public static bool Compute(ulong pages, Span<LayoutRegion> regions)
    {
        // Six slots from the first of the upper half: the expansion shares the non-paged pool's.
        const int SlotsUsed = 6;
        int slots = 1 << TMode.LevelIndexBits(0), first = slots / 2;
        bool selfMapClear = TMode.SelfMapIndex < first || TMode.SelfMapIndex >= first + SlotsUsed;
        if (pages < MinimumPages || pages > MaximumPages || regions.Length < RegionCount || first + SlotsUsed > slots || !selfMapClear)
            return false;
        ulong page = 1UL << TMode.PageShift;
        ulong database = (pages * (ulong)Unsafe.SizeOf<PfnEntry>() + page - 1) & ~(page - 1);
        if (Math.Max(database, (NonPagedPages + ExpansionPages) * page) > SlotBytes || Math.Max(SystemPtePages, PagedPages) * page > SlotBytes)
            return false;
        regions[LoaderMappings] = InSlot(first + LoaderMappings, Math.Min(SlotBytes, 256UL << 20));
        regions[Hyperspace] = InSlot(first + Hyperspace, page);
        regions[PfnDatabase] = InSlot(first + PfnDatabase, database);
        regions[SystemPtes] = InSlot(first + SystemPtes, SystemPtePages * page);
        regions[NonPagedPool] = InSlot(first + NonPagedPool, NonPagedPages * page);
        regions[NonPagedExpansion] = new LayoutRegion(regions[NonPagedPool].End, ExpansionPages * page);
        regions[PagedPool] = InSlot(first + SlotsUsed - 1, PagedPages * page);
        if (TMode.SelfMapIndex >= 0)
            regions[PageTables] = new LayoutRegion(SelfMap<TMode>.Base, SlotBytes);
        return true;
    }

    private static ulong SlotBytes => 1UL << TMode.LevelShift(0);

    private static LayoutRegion InSlot(int slot, ulong size)
        => new(new VirtualAddress(SelfMap<TMode>.SignExtend((ulong)slot << TMode.LevelShift(0))), size);
}
