using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using ExectOS.Memory;
using ExectOS.Tests.Descriptors;
using Xunit;

namespace ExectOS.Tests.Memory;

/// <summary>
/// The generic walker over every generated paging mode, on an emulated machine: map, translate and
/// unmap at every page size, conflicts, table reclamation, and frames at the top of the physical range.
/// </summary>
public class PageTableWalkerTests
{
    [Theory]
    [MemberData(nameof(GeneratedTypes.PagingModeData), MemberType = typeof(GeneratedTypes))]
    public void RandomMappingsRoundTripAndLeaveNoTablesBehind(string mode) => Run(nameof(RoundTrip), mode);

    [Theory]
    [MemberData(nameof(GeneratedTypes.PagingModeData), MemberType = typeof(GeneratedTypes))]
    public void ConflictsAndBadRequestsAreRefusedWithoutChanges(string mode) => Run(nameof(Conflicts), mode);

    [Theory]
    [MemberData(nameof(GeneratedTypes.PagingModeData), MemberType = typeof(GeneratedTypes))]
    public void FramesAtTheTopOfThePhysicalRangeArePreservedExactly(string mode) => Run(nameof(HighFrames), mode);

    [Theory]
    [MemberData(nameof(GeneratedTypes.PagingModeData), MemberType = typeof(GeneratedTypes))]
    public void ProtectionsCombineAcrossLevels(string mode) => Run(nameof(Protections), mode);

    [Theory]
    [MemberData(nameof(GeneratedTypes.PagingModeData), MemberType = typeof(GeneratedTypes))]
    public void RunningOutOfFramesFailsCleanly(string mode) => Run(nameof(OutOfFrames), mode);

    [Theory]
    [MemberData(nameof(GeneratedTypes.PagingModeData), MemberType = typeof(GeneratedTypes))]
    public void TheSelfMapShowsTheTablesThemselves(string mode) => Run(nameof(SelfMap), mode);

    [Theory]
    [MemberData(nameof(GeneratedTypes.PagingModeData), MemberType = typeof(GeneratedTypes))]
    public void RangesAcrossTableBoundariesMapLikeSinglePages(string mode) => Run(nameof(Ranges), mode);

    private static void Run(string test, string mode) => GeneratedTypes.RunForMode(typeof(PageTableWalkerTests), test, mode);

    private static (PageTable<TMode> Table, EmulatedMemory Memory, TrackingAllocator Allocator) NewTable<TMode>(ulong tablesAt = 0x100000, bool selfMap = false)
        where TMode : struct, IPagingMode
    {
        var memory = new EmulatedMemory(new SparseMemory());
        var allocator = TrackingAllocator.For<TMode>(tablesAt);
        Assert.Equal(MapStatus.Done, PageTable<TMode>.Create(ref memory, ref allocator, selfMap, out PageTable<TMode> table));
        return (table, memory, allocator);
    }

    private static IEnumerable<int> PageLevels<TMode>() where TMode : struct, IPagingMode
        => Enumerable.Range(0, TMode.LevelCount).Where(TMode.LevelMapsPages);

    /// <summary>A value made an address of the mode: sign-extended where addresses are canonical, else cut to its bits.</summary>
    internal static ulong Canonical<TMode>(ulong value) where TMode : struct, IPagingMode
    {
        if (TMode.VirtualBits == 64)
            return value;
        // A split mode's halves: the low one from 0, the high one ending at 2^64; bit 63 chooses.
        if (TMode.RootCount == 2)
            return (value >> 63) == 0 ? value & ((1UL << TMode.VirtualBits) - 1) : value | (ulong.MaxValue << TMode.VirtualBits);
        int unused = 64 - TMode.VirtualBits;
        return TMode.CanonicalAddresses ? (ulong)((long)(value << unused) >> unused) : value & ((1UL << TMode.VirtualBits) - 1);
    }

    private static void RoundTrip<TMode>() where TMode : struct, IPagingMode
    {
        var (table, memory, allocator) = NewTable<TMode>();
        var random = new Random(TMode.Name.GetHashCode(StringComparison.Ordinal) & 0x7FFFFFFF);
        var mapped = new Dictionary<ulong, (ulong Frame, int Level)>();
        ulong physicalLimit = TMode.PhysicalBits >= 64 ? ulong.MaxValue : 1UL << TMode.PhysicalBits;
        int[] levels = PageLevels<TMode>().ToArray();

        for (int i = 0; i < 400; i++)
        {
            int level = levels[random.Next(levels.Length)];
            int shift = TMode.LevelShift(level);
            var address = new VirtualAddress(Canonical<TMode>((ulong)random.NextInt64() << 1) & ~((1UL << shift) - 1));
            ulong frame = ((ulong)random.NextInt64() % physicalLimit) & ~((1UL << shift) - 1);
            MapStatus status = table.Map(ref memory, ref allocator, address, new PhysicalAddress(frame), level, PageProtection.Writable, out TlbFlush flush);
            flush.Ignore();
            if (status == MapStatus.Done)
                mapped[address.Value] = (frame, level);
            else
                Assert.Contains(status, new[] { MapStatus.AlreadyMapped, MapStatus.LargePageInTheWay, MapStatus.TablesInTheWay });
        }
        Assert.True(mapped.Count > 300, $"only {mapped.Count} of 400 random mappings took");

        foreach ((ulong virtualAddress, (ulong frame, int level)) in mapped)
        {
            ulong offset = (ulong)random.NextInt64() & ((1UL << TMode.LevelShift(level)) - 1);
            Assert.True(table.Translate(ref memory, new VirtualAddress(virtualAddress + offset), out Translation translation));
            Assert.Equal(frame + offset, translation.Address.Value);
            Assert.Equal(level, translation.Level);
        }

        foreach ((ulong virtualAddress, (ulong frame, int level)) in mapped)
        {
            Assert.Equal(MapStatus.Done, table.Unmap(ref memory, ref allocator, new VirtualAddress(virtualAddress), out PhysicalAddress unmapped, out int unmappedLevel, out TlbFlush flush));
            Assert.True(flush.Needed);
            Assert.Equal((frame, level), (unmapped.Value, unmappedLevel));
            Assert.False(table.Translate(ref memory, new VirtualAddress(virtualAddress), out _));
        }
        // Every intermediate table was freed, but those of a self-map across two levels (PAE's page directories stay).
        Assert.Contains(table.Root.Value, allocator.Live);
        if (TMode.RootCount == 2)
            Assert.Contains(table.HighRoot.Value, allocator.Live);
        Assert.InRange(allocator.Live.Count, TMode.RootCount, TMode.RootCount + (TMode.SelfMapLevels > 1 ? ExectOS.Memory.SelfMap<TMode>.SlotCount : 0));
    }

    private static void Conflicts<TMode>() where TMode : struct, IPagingMode
    {
        var (table, memory, allocator) = NewTable<TMode>();
        int leaf = TMode.LevelCount - 1;
        var address = new VirtualAddress(Canonical<TMode>(0x4000_0000UL << (TMode.VirtualBits > 40 ? 8 : 0)) & ~((1UL << TMode.LevelShift(0)) - 1));
        var frame = new PhysicalAddress(0x20_0000);

        Assert.Equal(MapStatus.Done, table.Map(ref memory, ref allocator, address, frame, leaf, PageProtection.Read, out _));
        long writes = memory.Writes;
        Assert.Equal(MapStatus.AlreadyMapped, table.Map(ref memory, ref allocator, address, frame, leaf, PageProtection.Read, out _));
        ulong page = 1UL << TMode.PageShift;
        Assert.Equal(MapStatus.Misaligned, table.Map(ref memory, ref allocator, address + page / 2, frame, leaf, PageProtection.Read, out _));
        Assert.Equal(MapStatus.Misaligned, table.Map(ref memory, ref allocator, address + page, frame + 0x10, leaf, PageProtection.Read, out _));
        int tableOnly = Enumerable.Range(0, TMode.LevelCount).Where(l => !TMode.LevelMapsPages(l)).DefaultIfEmpty(-1).First();
        if (tableOnly >= 0)
            Assert.Equal(MapStatus.LevelCannotMapPages, table.Map(ref memory, ref allocator, address, frame, tableOnly, PageProtection.Read, out _));
        Assert.Equal(MapStatus.LevelCannotMapPages, table.Map(ref memory, ref allocator, address, frame, TMode.LevelCount, PageProtection.Read, out _));
        if (TMode.PhysicalBits < 64)
            Assert.Equal(MapStatus.FrameOutOfRange, table.Map(ref memory, ref allocator, address + page, new PhysicalAddress(1UL << TMode.PhysicalBits), leaf, PageProtection.Read, out _));
        if (TMode.VirtualBits < 64)
            Assert.Equal(MapStatus.NotCanonical, table.Map(ref memory, ref allocator, new VirtualAddress(Canonical<TMode>(0) ^ (1UL << TMode.VirtualBits)), frame, leaf, PageProtection.Read, out _));
        Assert.Equal(writes, memory.Writes); // refused requests wrote nothing

        int large = PageLevels<TMode>().First();
        if (large != leaf)
        {
            // A large page where small ones hang, and small pages under a large one.
            Assert.Equal(MapStatus.TablesInTheWay, table.Map(ref memory, ref allocator, new VirtualAddress(address.Value & ~((1UL << TMode.LevelShift(large)) - 1)), new PhysicalAddress(0), large, PageProtection.Read, out _));
            var other = new VirtualAddress(Canonical<TMode>(address.Value ^ (1UL << TMode.LevelShift(0))));
            Assert.Equal(MapStatus.Done, table.Map(ref memory, ref allocator, other, new PhysicalAddress(0), large, PageProtection.Read, out _));
            Assert.Equal(MapStatus.LargePageInTheWay, table.Map(ref memory, ref allocator, other + (1UL << TMode.PageShift), frame, leaf, PageProtection.Read, out _));
        }
        Assert.Equal(MapStatus.NotMapped, table.Unmap(ref memory, ref allocator, address + (1UL << TMode.PageShift), out _, out _, out _));
    }

    private static void HighFrames<TMode>() where TMode : struct, IPagingMode
    {
        // Tables themselves above 4 GiB where the mode's tables can reach (ExectOS #23 truncated exactly these).
        ulong tables = TMode.CanHoldTable(0, new PhysicalAddress(0x1_0000_0000)) ? 0x1_0000_0000UL : 0x100000UL;
        var (table, memory, allocator) = NewTable<TMode>(tables);
        ulong top = TMode.PhysicalBits >= 64 ? ulong.MaxValue : (1UL << TMode.PhysicalBits) - 1;
        foreach (int level in PageLevels<TMode>())
        {
            ulong size = 1UL << TMode.LevelShift(level);
            var frame = new PhysicalAddress((top + 1 - size) & top);
            var address = new VirtualAddress(Canonical<TMode>((ulong)(level + 1) << TMode.LevelShift(0)) & ~(size - 1));
            Assert.Equal(MapStatus.Done, table.Map(ref memory, ref allocator, address, frame, level, PageProtection.Writable, out _));
            Assert.True(table.Translate(ref memory, address + (size - 1), out Translation translation));
            Assert.Equal(frame.Value + size - 1, translation.Address.Value);
        }
    }

    private static void Protections<TMode>() where TMode : struct, IPagingMode
    {
        var (table, memory, allocator) = NewTable<TMode>();
        int leaf = TMode.LevelCount - 1;
        var kinds = new[] { PageProtection.Read, PageProtection.Writable, PageProtection.Executable, PageProtection.Writable | PageProtection.User, PageProtection.Executable | PageProtection.Global };
        // What the mode can express: a format without a no-execute or execute bit cannot refuse execution.
        bool canRefuseExecute = (TMode.Protection(leaf, TMode.MakePage(leaf, default, PageProtection.Read)) & PageProtection.Executable) == 0;
        for (int i = 0; i < kinds.Length; i++)
        {
            var address = new VirtualAddress(Canonical<TMode>((ulong)(i + 1) << TMode.LevelShift(leaf)));
            Assert.Equal(MapStatus.Done, table.Map(ref memory, ref allocator, address, new PhysicalAddress((ulong)i << TMode.LevelShift(leaf)), leaf, kinds[i], out _));
            Assert.True(table.Translate(ref memory, address, out Translation translation));
            PageProtection expected = canRefuseExecute ? kinds[i] : kinds[i] | PageProtection.Executable;
            Assert.Equal(expected, translation.Protection);
        }
        Assert.Equal(TMode.Name is "I686", !canRefuseExecute);
    }

    private static void OutOfFrames<TMode>() where TMode : struct, IPagingMode
    {
        var (table, memory, allocator) = NewTable<TMode>();
        allocator.Remaining = 1; // one table short of what a leaf mapping in an empty tree needs (unless there are two levels)
        var address = new VirtualAddress(Canonical<TMode>(0x7_0000_0000UL) & ~((1UL << TMode.PageShift) - 1) & (TMode.VirtualBits < 35 ? 0x3000_0000UL : ulong.MaxValue));
        MapStatus status = table.Map(ref memory, ref allocator, address, new PhysicalAddress(5UL << TMode.PageShift), TMode.LevelCount - 1, PageProtection.Read, out _);
        Assert.Equal(TMode.LevelCount <= 2 ? MapStatus.Done : MapStatus.OutOfMemory, status);
        Assert.Equal(status == MapStatus.Done, table.Translate(ref memory, address, out _));
    }

    private static void Ranges<TMode>() where TMode : struct, IPagingMode
    {
        var (table, memory, allocator) = NewTable<TMode>();
        int leaf = TMode.LevelCount - 1;
        ulong page = 1UL << TMode.PageShift;
        int perTable = 1 << TMode.LevelIndexBits(leaf);
        // Start just below a table boundary and run through two more tables.
        var start = new VirtualAddress(Canonical<TMode>((3UL << TMode.LevelShift(0)) + (ulong)(perTable - 5) * page));
        var frames = new PhysicalAddress(0x300_0000);
        ulong count = (ulong)(2 * perTable + 9);

        Assert.Equal(MapStatus.Done, table.MapRange(ref memory, ref allocator, start, frames, count, leaf, PageProtection.Writable, out ulong mapped));
        Assert.Equal(count, mapped);
        for (ulong i = 0; i < count; i++)
        {
            Assert.True(table.Translate(ref memory, start + i * page, out Translation translation));
            Assert.Equal(frames.Value + i * page, translation.Address.Value);
        }
        Assert.False(table.Translate(ref memory, start + count * page, out _));

        // A range that starts on a mapped page maps nothing; one that runs into mapped pages keeps the free ones it did.
        Assert.Equal(MapStatus.AlreadyMapped, table.MapRange(ref memory, ref allocator, start + (count - 3) * page, frames, 10, leaf, PageProtection.Read, out mapped));
        Assert.Equal(0UL, mapped);
        var below = new VirtualAddress(start.Value - 4 * page);
        Assert.Equal(MapStatus.AlreadyMapped, table.MapRange(ref memory, ref allocator, below, frames, 10, leaf, PageProtection.Read, out mapped));
        Assert.Equal(4UL, mapped);
        Assert.Equal(MapStatus.Done, table.MapRange(ref memory, ref allocator, start + count * page, frames, 10, leaf, PageProtection.Read, out mapped));
        Assert.Equal(10UL, mapped);

        // A range running off the top of the address space stops there.
        var top = new VirtualAddress(TMode.CanonicalAddresses ? ulong.MaxValue - page + 1 : (1UL << TMode.VirtualBits) - page);
        Assert.Equal(MapStatus.NotCanonical, table.MapRange(ref memory, ref allocator, top, frames, 2, leaf, PageProtection.Read, out mapped));
        Assert.Equal(1UL, mapped);
    }

    private static void SelfMap<TMode>() where TMode : struct, IPagingMode
    {
        var (table, memory, allocator) = NewTable<TMode>(selfMap: true);
        if (TMode.SelfMapIndex < 0)
            return;
        Assert.True(table.HasSelfMap(ref memory));
        // Through the slots, each level's table holding an address's entry shows at that entry's self-map address:
        // one root slot shows every level; across two levels (PAE) every level but the root.
        // A split mode's self-map shows the high half's tables (the kernel's), never the low half's.
        ulong half = TMode.RootCount > 1 ? ulong.MaxValue << TMode.VirtualBits : 0;
        var address = new VirtualAddress(Canonical<TMode>(0x12345UL << TMode.PageShift) | half);
        Assert.Equal(TMode.RootCount > 1 ? table.HighRoot : table.Root, table.SelfMapRoot);
        Assert.Equal(TMode.RootCount == 1, ExectOS.Memory.SelfMap<TMode>.Shows(new VirtualAddress(0x12345UL << TMode.PageShift)));
        Assert.True(ExectOS.Memory.SelfMap<TMode>.Shows(address));
        Assert.Equal(MapStatus.Done, table.Map(ref memory, ref allocator, address, new PhysicalAddress(0x200000), TMode.LevelCount - 1, PageProtection.Writable, out _));
        var path = new ulong[TMode.LevelCount];
        Assert.Equal(TMode.LevelCount, table.ReadPath(ref memory, address, path));
        for (int level = ExectOS.Memory.SelfMap<TMode>.SlotLevel; level < TMode.LevelCount; level++)
        {
            PhysicalAddress holder = level == 0 ? table.RootOf(address) : TMode.TableAddress(level - 1, path[level - 1]);
            VirtualAddress entry = ExectOS.Memory.SelfMap<TMode>.EntryAddress(address, level);
            Assert.True(ExectOS.Memory.SelfMap<TMode>.Reaches(level));
            Assert.True(table.Translate(ref memory, entry, out Translation translation), $"level {level}: {entry.Value:X} is not mapped");
            Assert.Equal(holder.Value + (ulong)(TMode.Index(level, address) * TMode.EntryBytes), translation.Address.Value);
        }
        Assert.Equal(ExectOS.Memory.SelfMap<TMode>.SlotLevel == 0, ExectOS.Memory.SelfMap<TMode>.Reaches(-1));
    }
}
