using System;
using System.Collections.Generic;
using System.Linq;
using ExectOS.Memory;
using ExectOS.Tests.Descriptors;
using Xunit;

namespace ExectOS.Tests.Memory;

/// <summary>
/// The map walk cache, for every generated paging mode: mapping through a cache leaves exactly the tables and entries
/// mapping without one does, whatever runs of pages, jumps, levels, protections, frames at the physical limit and unmaps
/// (which free tables) come in between; and a cache whose tables were freed and handed out again is never used.
/// </summary>
public class WalkCacheTests
{
    [Theory]
    [MemberData(nameof(GeneratedTypes.PagingModeData), MemberType = typeof(GeneratedTypes))]
    public void MappingThroughACacheEqualsMappingWithout(string mode) => Run(nameof(Equivalence), mode);

    [Theory]
    [MemberData(nameof(GeneratedTypes.PagingModeData), MemberType = typeof(GeneratedTypes))]
    public void ACacheWhoseTableWasFreedAndReusedIsNotUsed(string mode) => Run(nameof(FreedTable), mode);

    [Theory]
    [MemberData(nameof(GeneratedTypes.PagingModeData), MemberType = typeof(GeneratedTypes))]
    public void ACacheOfAnotherHierarchyIsNotUsed(string mode) => Run(nameof(OtherRoot), mode);

    private static void Run(string test, string mode) => GeneratedTypes.RunForMode(typeof(WalkCacheTests), test, mode);

    private static (PageTable<TMode> Table, EmulatedMemory Memory, ReusingAllocator Allocator) NewTable<TMode>(ulong tablesAt = 0x100000)
        where TMode : struct, IPagingMode
    {
        var memory = new EmulatedMemory(new SparseMemory());
        var allocator = new ReusingAllocator(tablesAt, TMode.PageShift);
        Assert.Equal(MapStatus.Done, PageTable<TMode>.Create(ref memory, ref allocator, false, out PageTable<TMode> table));
        return (table, memory, allocator);
    }

    private static ulong Canonical<TMode>(ulong value) where TMode : struct, IPagingMode => PageTableWalkerTests.Canonical<TMode>(value);

    /// <summary>The first address the <paramref name="table"/>-th leaf table maps.</summary>
    private static VirtualAddress LeafBase<TMode>(ulong table) where TMode : struct, IPagingMode
        => new(Canonical<TMode>(table << TMode.LevelShift(TMode.LevelCount - 2)));

    private static void Equivalence<TMode>() where TMode : struct, IPagingMode
    {
        var (plain, plainMemory, plainAllocator) = NewTable<TMode>();
        var (cached, cachedMemory, cachedAllocator) = NewTable<TMode>();
        WalkCache cache = default;
        var random = new Random(TMode.Name.GetHashCode(StringComparison.Ordinal) & 0x7FFFFFFF);
        int[] levels = Enumerable.Range(0, TMode.LevelCount).Where(TMode.LevelMapsPages).ToArray();
        ulong physicalLimit = TMode.PhysicalBits >= 64 ? ulong.MaxValue : 1UL << TMode.PhysicalBits;
        PageProtection[] protections = [PageProtection.Writable, PageProtection.Read, PageProtection.Writable | PageProtection.User, PageProtection.Executable, PageProtection.Read | PageProtection.User];
        var mapped = new List<ulong>();
        ulong address = LeafBase<TMode>(5).Value, frame = 0x40_0000;
        int level = levels[^1];
        PageProtection protection = PageProtection.Writable;
        var statuses = new Dictionary<MapStatus, int>();

        for (int i = 0; i < 6000; i++)
        {
            int shift = TMode.LevelShift(level);
            ulong size = 1UL << shift;
            int choice = random.Next(100);
            if (choice < 3 && mapped.Count > 0)
            {
                // Unmapping frees tables left empty: every cache must walk again afterwards.
                ulong victim = mapped[random.Next(mapped.Count)];
                mapped.Remove(victim);
                MapStatus a = plain.Unmap(ref plainMemory, ref plainAllocator, new VirtualAddress(victim), out PhysicalAddress fa, out int la, out _);
                MapStatus b = cached.Unmap(ref cachedMemory, ref cachedAllocator, new VirtualAddress(victim), out PhysicalAddress fb, out int lb, out _);
                Assert.Equal((a, fa, la), (b, fb, lb));
                continue;
            }
            if (choice < 8)
                level = random.Next(3) == 0 ? levels[random.Next(levels.Length)] : levels[^1];
            else if (choice < 12)
                protection = protections[random.Next(protections.Length)];
            if (choice < 20)
            {
                // A jump: near (the same or the next table), far, or back to where pages were mapped.
                shift = TMode.LevelShift(level);
                size = 1UL << shift;
                ulong far = Canonical<TMode>((ulong)random.NextInt64() << 1);
                address = random.Next(3) switch
                {
                    0 => address + size * (ulong)random.Next(1, 700),
                    1 => far,
                    _ => mapped.Count > 0 ? mapped[random.Next(mapped.Count)] : far,
                } & ~(size - 1);
                address = Canonical<TMode>(address);
                frame = random.Next(6) switch
                {
                    0 => physicalLimit - size * (ulong)random.Next(1, 4), // at the limit, and past it once mapped on
                    1 => frame + size / 2, // misaligned
                    _ => ((ulong)random.NextInt64() % physicalLimit) & ~(size - 1),
                };
            }
            MapStatus plainStatus = plain.Map(ref plainMemory, ref plainAllocator, new VirtualAddress(address), new PhysicalAddress(frame), level, protection, out _);
            MapStatus cachedStatus = cached.Map(ref cachedMemory, ref cachedAllocator, ref cache, new VirtualAddress(address), new PhysicalAddress(frame), level, protection, out _);
            Assert.True(plainStatus == cachedStatus, $"operation {i}: {plainStatus} without the cache, {cachedStatus} with it, at {address:X} -> {frame:X} level {level}");
            statuses[plainStatus] = statuses.GetValueOrDefault(plainStatus) + 1;
            if (plainStatus == MapStatus.Done)
                mapped.Add(address);
            address = Canonical<TMode>(address + size);
            frame += size;
        }
        // Most maps go through: runs of pages in one table are what the cache is for.
        Assert.True(statuses.GetValueOrDefault(MapStatus.Done) > 2000, string.Join(", ", statuses));
        Assert.Equal(Pages(plain, ref plainMemory), Pages(cached, ref cachedMemory));
        Assert.Equal(Tables(plain, ref plainMemory), Tables(cached, ref cachedMemory));
        Assert.Equal(plainAllocator.Live.Order(), cachedAllocator.Live.Order());
    }

    private static void FreedTable<TMode>() where TMode : struct, IPagingMode
    {
        if (TMode.LevelCount < 2)
            return;
        var (table, memory, allocator) = NewTable<TMode>();
        int leaf = TMode.LevelCount - 1;
        ulong page = 1UL << TMode.PageShift;
        VirtualAddress first = LeafBase<TMode>(7), other = LeafBase<TMode>(9);
        WalkCache cache = default;
        for (ulong i = 0; i < 4; i++)
            Assert.Equal(MapStatus.Done, table.Map(ref memory, ref allocator, ref cache, first + i * page, new PhysicalAddress(0x80_0000 + i * page), leaf, PageProtection.Writable, out _));
        PhysicalAddress leafTable = cache.LeafTable;
        Assert.Equal(leafTable, TMode.TableAddress(leaf - 1, Entries.Read<TMode>(memory, Entries.SlotOf(memory, table, first, leaf - 1))));

        // Unmapping every page frees the leaf table (and the empty tables above it): the epoch moves.
        nuint epoch = TableEpoch.Current;
        for (ulong i = 0; i < 4; i++)
            Assert.Equal(MapStatus.Done, table.Unmap(ref memory, ref allocator, first + i * page, out _, out _, out _));
        Assert.NotEqual(epoch, TableEpoch.Current);
        Assert.DoesNotContain(leafTable.Value, allocator.Live);

        // Mapping elsewhere takes the freed frames again, the leaf table's among them: it is now another address's table.
        Assert.Equal(MapStatus.Done, table.Map(ref memory, ref allocator, other, new PhysicalAddress(0x90_0000), leaf, PageProtection.Writable, out _));
        Assert.Contains(leafTable.Value, allocator.Live);
        Assert.Equal(leafTable.Value, cache.LeafTable.Value); // the trap: the cache still names that frame

        // The old cache maps the next page of the first run: it must walk and make a new table, not write into the reused one.
        VirtualAddress next = first + 4 * page;
        Assert.Equal(MapStatus.Done, table.Map(ref memory, ref allocator, ref cache, next, new PhysicalAddress(0xA0_0000), leaf, PageProtection.Writable, out _));
        Assert.True(table.Translate(ref memory, next, out Translation translation));
        Assert.Equal(0xA0_0000UL, translation.Address.Value);
        Assert.NotEqual(leafTable, cache.LeafTable);
        var pages = Pages(table, ref memory);
        Assert.Equal(new[] { (other.Value, 0x90_0000UL), (next.Value, 0xA0_0000UL) }.Order(), pages.Select(p => (p.Address, p.Frame)).Order());
        // Nothing but the other mapping's entry is in the reused table.
        int written = 0;
        for (int i = 0; i < 1 << TMode.LevelIndexBits(leaf); i++)
            written += TMode.Classify(leaf, Entries.Read<TMode>(memory, Entries.Slot<TMode>(leafTable, i))) == EntryKind.NotPresent ? 0 : 1;
        Assert.Equal(1, written);
    }

    private static void OtherRoot<TMode>() where TMode : struct, IPagingMode
    {
        var (a, memory, allocator) = NewTable<TMode>();
        Assert.Equal(MapStatus.Done, PageTable<TMode>.Create(ref memory, ref allocator, false, out PageTable<TMode> b));
        int leaf = TMode.LevelCount - 1;
        ulong page = 1UL << TMode.PageShift;
        VirtualAddress start = LeafBase<TMode>(3);
        WalkCache cache = default;
        Assert.Equal(MapStatus.Done, a.Map(ref memory, ref allocator, ref cache, start, new PhysicalAddress(0x50_0000), leaf, PageProtection.Writable, out _));
        Assert.Equal(MapStatus.Done, b.Map(ref memory, ref allocator, ref cache, start + page, new PhysicalAddress(0x60_0000), leaf, PageProtection.Writable, out _));
        Assert.False(a.Translate(ref memory, start + page, out _));
        Assert.True(b.Translate(ref memory, start + page, out Translation translation));
        Assert.Equal(0x60_0000UL, translation.Address.Value);
        Assert.False(b.Translate(ref memory, start, out _));
        // Cleared, a cache starts from the root.
        cache.Clear();
        Assert.Equal(MapStatus.Done, a.Map(ref memory, ref allocator, ref cache, start + 2 * page, new PhysicalAddress(0x70_0000), leaf, PageProtection.Writable, out _));
        Assert.True(a.Translate(ref memory, start + 2 * page, out _));
    }

    private static List<(ulong Address, ulong Frame, int Level, PageProtection Protection)> Pages<TMode>(PageTable<TMode> table, ref EmulatedMemory memory)
        where TMode : struct, IPagingMode
    {
        var collector = new PageCollector { Pages = [] };
        table.VisitPages(ref memory, ref collector);
        return collector.Pages;
    }

    private static List<(ulong Table, int Level)> Tables<TMode>(PageTable<TMode> table, ref EmulatedMemory memory)
        where TMode : struct, IPagingMode
    {
        var collector = new TableCollector { Tables = [] };
        table.VisitTables(ref memory, ref collector);
        return collector.Tables;
    }

    private struct PageCollector : IPageVisitor
    {
        public List<(ulong, ulong, int, PageProtection)> Pages;

        public bool Visit(VirtualAddress address, PhysicalAddress frame, int level, PageProtection protection)
        {
            Pages.Add((address.Value, frame.Value, level, protection));
            return true;
        }
    }

    private struct TableCollector : ITableVisitor
    {
        public List<(ulong, int)> Tables;

        public bool VisitTable(PhysicalAddress table, int level, VirtualAddress firstAddress)
        {
            Tables.Add((table.Value, level));
            return true;
        }
    }

    /// <summary>Hands out the most recently freed frame first, then new ones: a freed table's frame comes straight back.</summary>
    private struct ReusingAllocator : IFrameAllocator
    {
        public HashSet<ulong> Live;
        private readonly Stack<ulong> _freed;
        private ulong _next;
        private readonly ulong _pageBytes;

        public ReusingAllocator(ulong first, int pageShift)
        {
            Live = [];
            _freed = new Stack<ulong>();
            _next = first;
            _pageBytes = 1UL << pageShift;
        }

        public bool TryAllocate(out PhysicalAddress frame)
        {
            ulong value = _freed.Count > 0 ? _freed.Pop() : (_next += _pageBytes) - _pageBytes;
            Assert.True(Live.Add(value));
            frame = new PhysicalAddress(value);
            return true;
        }

        public void Free(PhysicalAddress frame)
        {
            Assert.True(Live.Remove(frame.Value), $"frame {frame.Value:X} freed but not allocated");
            _freed.Push(frame.Value);
        }
    }
}
