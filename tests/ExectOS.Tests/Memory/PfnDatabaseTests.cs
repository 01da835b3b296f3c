using System;
using System.Collections.Generic;
using System.Linq;
using ExectOS.Boot;
using ExectOS.Memory;
using ExectOS.Tests.Descriptors;
using ExectOS.Tests.Xtos;
using Xunit;

namespace ExectOS.Tests.Memory;

/// <summary>
/// The PFN database and its build, hosted, for every paging mode: real OVMF maps go through the loader's plan and
/// table commit on an emulated machine, then through the kernel's build, exactly as at boot; randomized
/// allocation sequences are checked against a model after every operation.
/// </summary>
public unsafe class PfnDatabaseTests
{
    public static IEnumerable<object[]> Modes() => GeneratedTypes.PagingModeData();

    public static IEnumerable<object[]> LayoutModes() => GeneratedTypes.LayoutModeData();

    public static IEnumerable<object[]> ModesAndMaps() => GeneratedTypes.Cross(Modes(), OvmfMemoryMapTests.Maps());

    public static IEnumerable<object[]> ModesAndSeeds() => GeneratedTypes.Cross(Modes(), [[1], [2], [3]]);

    [Theory]
    [MemberData(nameof(LayoutModes))]
    public void AnEntryIs32BytesAsTheLayoutAssumes(string mode) => Run(nameof(EntrySize), mode);

    /// <summary>
    /// The loader's side as at boot (plan, tables from loader memory, carve), then the kernel's build: every
    /// frame accounted, each mapped one with the self-map address of its entry, only backing pages touched.
    /// </summary>
    [Theory]
    [MemberData(nameof(ModesAndMaps))]
    public void TheBuildFromARealMapAccountsForEveryFrame(string mode, string file) => Run(nameof(RealMap), mode, file);

    /// <summary>
    /// Thousands of random operations on a built database; after every one the whole database is
    /// validated (lists both ways, counts, states) and compared with a model of who owns which frame.
    /// </summary>
    [Theory]
    [MemberData(nameof(ModesAndSeeds))]
    public void RandomSequencesKeepTheListsAndCountsExact(string mode, int seed) => Run(nameof(RandomSequences), mode, seed);

    [Theory]
    [MemberData(nameof(Modes))]
    public void MisuseIsReportedAndChangesNothing(string mode) => Run(nameof(Misuse), mode);

    [Theory]
    [MemberData(nameof(Modes))]
    public void BackingRunsCoverEveryDescribedEntryAndNoEmptyPage(string mode) => Run(nameof(Backing), mode);

    /// <summary>The self-map formula for every level: the entry it names is the one the walker reaches (modes with a self-map slot only, see <see cref="GeneratedTypes.SelfMapLayoutModeData"/>).</summary>
    [Theory]
    [MemberData(nameof(GeneratedTypes.SelfMapLayoutModeData), MemberType = typeof(GeneratedTypes))]
    public void TheEntryAddressOfEveryLevelLeadsToTheWalkersSlot(string mode) => Run(nameof(EntryAddresses), mode);

    private static void Run(string test, string mode, params object[] arguments) => GeneratedTypes.RunForMode(typeof(PfnDatabaseTests), test, mode, arguments);

    private static void EntrySize<TMode, TLayout>() where TMode : struct, IPagingMode where TLayout : struct, ILayout
    {
        Assert.Equal(32, sizeof(PfnEntry));
        // The layout sizes the region as pages * 32 + slack; the build refuses a region that is too small.
        var regions = new LayoutRegion[TLayout.RegionCount];
        int database = LayoutRegions.Find<TLayout>("PfnDatabase");
        var counts = new ulong[] { 2048, 32768, 0x80000, 0x1000000, 0x1000000000, TLayout.MinimumPages, TLayout.MaximumPages };
        foreach (ulong pages in counts.Where(p => p >= TLayout.MinimumPages && p <= TLayout.MaximumPages))
        {
            Assert.True(TLayout.Compute(pages, regions));
            Assert.True(regions[database].Size >= pages * (ulong)sizeof(PfnEntry));
        }
    }

    private static void RealMap<TMode, TLayout>(string file) where TMode : struct, IPagingMode where TLayout : struct, ILayout
    {
        ulong page = 1UL << TMode.PageShift;
        int leaf = TMode.LevelCount - 1;
        using Machine<TMode, TLayout> m = Machines.Boot<TMode, TLayout>(file);
        Assert.True(m.Report.IsOk, $"{m.Report.Error} {m.Report.Detail:X} {m.Report.Extra:X}: {m.Report.Problem.Error} page {m.Report.Problem.Page:X}");
        ref PfnDatabase db = ref m.Db;

        // Every described frame is in exactly one state, and the free frames are the map's free frames less what the build took.
        ulong described = m.Map.Aggregate(0UL, (sum, d) => sum + (Math.Min(d.EndPage, m.Report.Pages) > d.BasePage ? Math.Min(d.EndPage, m.Report.Pages) - d.BasePage : 0));
        ulong free = m.Map.Where(d => LoaderMemoryDescriptor.IsFree(d.Type)).Aggregate(0UL, (sum, d) => sum + d.PageCount);
        Assert.Equal(described, db.DescribedPages);
        Assert.Equal(described, db.FreeList.Count + db.ZeroedList.Count + db.BadList.Count + db.ActivePages + db.ReservedPages);
        Assert.Equal(free - m.Report.BackingPages - m.Report.TablePages, db.FreeList.Count);
        Assert.Equal(m.Report.BackingPages, db.CountUse(PageUse.PfnDatabase));
        Assert.Equal(0UL, db.CountUse(PageUse.EarlyAllocation));

        // Page tables: every table of the walk, and nothing else, is a PageTable frame (the loader's carved as
        // loader data included: ExectOS #25).
        var tables = new List<(ulong Frame, int Level, ulong First)>();
        var collector = new TableCollector { Tables = tables };
        m.Table.VisitTables(ref m.Memory, ref collector);
        Assert.Equal((ulong)tables.Count, db.CountUse(PageUse.PageTable));
        Assert.Equal(m.LoaderTables + m.Report.TablePages, (ulong)tables.Count);
        foreach (var (frame, level, first) in tables)
        {
            PfnEntry* entry = db.Entry(FrameOf<TMode>(frame));
            Assert.Equal(PageUse.PageTable, entry->Use);
            AssertEntryMaps(m, entry->PteAddress, frame, level, first, table: true);
        }

        // Mapped frames carry the address of their entry; the kernel image's frames are its own.
        Mapping image = m.Plan.First(p => p.Kind == MappingKind.KernelImage);
        for (ulong i = 0; i < image.PageCount; i++)
        {
            PfnEntry* entry = db.Entry(FrameOf<TMode>(image.PhysicalBase) + i);
            Assert.Equal(PageState.Active, entry->State);
            Assert.Equal(PageUse.KernelImage, entry->Use);
            // Without a self-map no entry has a virtual address, and the build records none.
            Assert.Equal(TMode.SelfMapIndex >= 0 ? SelfMap<TMode>.LeafEntry(new VirtualAddress(image.VirtualBase + i * page)).Value : 0, entry->PteAddress);
            AssertEntryMaps(m, entry->PteAddress, image.PhysicalBase + i * page, leaf, image.VirtualBase + i * page, table: false);
        }
        Mapping stack = m.Plan.First(p => p.Kind == MappingKind.KernelStack);
        Assert.Equal(PageUse.BootStack, db.Entry(FrameOf<TMode>(stack.PhysicalBase))->Use);

        // The region maps exactly the backing runs, and the entries outside them were never written.
        var backing = new PageRun[PfnDatabase.MaxRuns];
        int runs = PfnDatabase.BackingRuns(m.Map, m.Report.Pages, TMode.PageShift, backing);
        var expected = backing[..runs].SelectMany(r => Enumerable.Range(0, (int)r.Count).Select(i => r.Start + (ulong)i)).ToHashSet();
        var mapped = new RegionCollector<TMode> { Start = m.Region.Start.Value, End = m.Region.End.Value, Pages = new List<(ulong, ulong)>() };
        m.Table.VisitPages(ref m.Memory, ref mapped);
        Assert.Equal(expected.OrderBy(p => p), mapped.Pages.Select(p => p.Item1).OrderBy(p => p));
        foreach (var (virtualPage, frame) in mapped.Pages)
            Assert.Equal(PageUse.PfnDatabase, db.Entry(FrameOf<TMode>(frame))->Use);
        var bytes = new ReadOnlySpan<byte>(m.View, (int)m.ViewBytes);
        for (ulong p = 0; p < m.ViewBytes / page; p++)
        {
            if (!expected.Contains(p))
                Assert.True(bytes.Slice((int)(p * page), (int)page).IndexOfAnyExcept(Machine<TMode, TLayout>.Poison) < 0, $"database page {p} is not backed but was written");
        }
        // Backing is sparse where the map has holes: the 4 GiB machines have a hole below 4 GiB.
        if (m.Report.Pages > (1UL << 32) >> TMode.PageShift)
            Assert.True(m.Report.BackingPages < (m.Report.Pages * 32 + page - 1) / page);
    }


    private static void RandomSequences<TMode, TLayout>(int seed) where TMode : struct, IPagingMode where TLayout : struct, ILayout
    {
        ulong page = 1UL << TMode.PageShift;
        var random = new Random(seed * 7919);
        using Machine<TMode, TLayout> m = Machines.BootGenerated<TMode, TLayout>(random);
        Assert.True(m.Report.IsOk, $"{m.Report.Error}: {m.Report.Problem.Error}");
        ref PfnDatabase db = ref m.Db;
        ulong baseline = db.AvailablePages, activeBaseline = db.ActivePages;
        var owned = new List<(PageFrameNumber First, ulong Count, PageUse Use)>();
        var operations = new Dictionary<string, int>();
        void Count(string op) => operations[op] = operations.GetValueOrDefault(op) + 1;

        for (int step = 0; step < 4000; step++)
        {
            int choice = random.Next(100);
            if (choice < 35)
            {
                bool zero = random.Next(2) == 0;
                PfnProblem problem = db.AllocatePage(ref m.Memory, PageUse.Allocated, zero, out PageFrameNumber frame);
                if (problem.Error == PfnError.OutOfPages)
                {
                    Assert.Equal(0UL, db.AvailablePages);
                    Count("out of pages");
                }
                else
                {
                    Assert.True(problem.IsOk, problem.Error.ToString());
                    Assert.DoesNotContain(owned, o => frame >= o.First && frame < o.First + o.Count);
                    if (zero)
                        Assert.False(m.Memory.Memory.AnyExcept(frame.ToAddress(TMode.PageShift), page, 0), $"page {frame.Value:X} not zeroed");
                    Touch(m, frame, 1);
                    owned.Add((frame, 1, PageUse.Allocated));
                    Count(zero ? "allocate zeroed" : "allocate");
                }
            }
            else if (choice < 50)
            {
                ulong count = (ulong)random.Next(1, 40);
                ulong alignment = 1UL << random.Next(0, 7);
                PageFrameNumber limit = random.Next(3) == 0 ? new PageFrameNumber(db.PageCount / 2) : PfnDatabase.NoLimit;
                bool zero = random.Next(2) == 0;
                PfnProblem problem = db.AllocateContiguous(ref m.Memory, count, alignment, limit, PageUse.Pool, zero, out PageFrameNumber first);
                if (problem.Error == PfnError.OutOfPages)
                {
                    Assert.False(HasFreeRun(ref db, count, alignment, limit), $"a run of {count} aligned {alignment} below {limit.Value:X} was there");
                    Count("contiguous refused");
                }
                else
                {
                    Assert.True(problem.IsOk, problem.Error.ToString());
                    Assert.Equal(0UL, first.Value % alignment);
                    Assert.True(first + count <= limit);
                    Assert.DoesNotContain(owned, o => first < o.First + o.Count && o.First < first + count);
                    if (zero)
                        Assert.False(m.Memory.Memory.AnyExcept(first.ToAddress(TMode.PageShift), page, 0));
                    Touch(m, first, count);
                    owned.Add((first, count, PageUse.Pool));
                    Count("allocate contiguous");
                }
            }
            else if (choice < 88 && owned.Count > 0)
            {
                int index = random.Next(owned.Count);
                var (first, count, use) = owned[index];
                PfnProblem problem = count == 1 && use == PageUse.Allocated ? db.FreePage(first, use) : db.FreeContiguous(first, count, use);
                Assert.True(problem.IsOk, problem.Error.ToString());
                owned.RemoveAt(index);
                // Freeing again is a double free, reported and harmless.
                Assert.Equal(PfnError.DoubleFree, db.FreePage(first, use).Error);
                Count("free");
            }
            else if (choice < 94 && owned.Count > 0)
            {
                PageFrameNumber frame = owned[random.Next(owned.Count)].First;
                Assert.True(db.Reference(frame).IsOk);
                Assert.Equal(PfnError.ReferenceCount, db.FreePage(frame, db.Entry(frame)->Use).Error);
                Assert.True(db.Dereference(frame).IsOk);
                Count("reference");
            }
            else
            {
                ulong zeroed = db.ZeroFreePages(ref m.Memory, (ulong)random.Next(1, 30));
                Count(zeroed > 0 ? "zero free pages" : "nothing to zero");
            }

            PfnProblem valid = db.Validate();
            Assert.True(valid.IsOk, $"step {step}: {valid.Error} page {valid.Page:X} {valid.Detail:X} {valid.Extra:X}");
            ulong ownedPages = owned.Aggregate(0UL, (sum, o) => sum + o.Count);
            Assert.Equal(baseline - ownedPages, db.AvailablePages);
            Assert.Equal(activeBaseline + ownedPages, db.ActivePages);
        }

        // Exhaustion: every page handed out once, then nothing more, single or contiguous.
        while (db.AllocatePage(ref m.Memory, PageUse.Allocated, random.Next(2) == 0, out PageFrameNumber last).IsOk)
            owned.Add((last, 1, PageUse.Allocated));
        Assert.Equal(0UL, db.AvailablePages);
        Assert.Equal(PfnError.OutOfPages, db.AllocateContiguous(ref m.Memory, 1, 1, PfnDatabase.NoLimit, PageUse.Pool, false, out _).Error);
        Assert.Equal(owned.Count, owned.Select(o => o.First).Distinct().Count());
        Assert.True(db.Validate().IsOk);

        foreach (var (first, count, use) in owned)
            Assert.True(db.FreeContiguous(first, count, use).IsOk);
        Assert.Equal(baseline, db.AvailablePages);
        Assert.Equal(activeBaseline, db.ActivePages);
        Assert.True(db.Validate().IsOk);
        Assert.True(operations.Count >= 6, string.Join(", ", operations.Select(o => $"{o.Key} {o.Value}")));
    }

    private static void Misuse<TMode, TLayout>() where TMode : struct, IPagingMode where TLayout : struct, ILayout
    {
        using Machine<TMode, TLayout> m = Machines.Boot<TMode, TLayout>("ovmf-q35-128M.txt");
        Assert.True(m.Report.IsOk);
        ref PfnDatabase db = ref m.Db;
        ulong available = db.AvailablePages;

        Assert.True(db.AllocatePage(ref m.Memory, PageUse.Allocated, false, out PageFrameNumber page).IsOk);
        Assert.Equal(PfnError.WrongUse, db.FreePage(page, PageUse.KernelStack).Error);
        Assert.True(db.FreePage(page, PageUse.Allocated).IsOk);
        Assert.Equal(PfnError.DoubleFree, db.FreePage(page, PageUse.Allocated).Error);

        Mapping image = m.Plan.First(p => p.Kind == MappingKind.KernelImage);
        Assert.Equal(PfnError.WrongUse, db.FreePage(FrameOf<TMode>(image.PhysicalBase), PageUse.Allocated).Error);
        ulong top = db.PageCount;
        var reserved = new PageFrameNumber(m.Map.First(d => d.Type == LoaderMemoryType.LoaderFirmwarePermanent && d.BasePage < top).BasePage);
        Assert.Equal(PfnError.FreeOfPageNotActive, db.FreePage(reserved, PageUse.Allocated).Error);
        Assert.Equal(PfnError.PageNotDescribed, db.FreePage(new PageFrameNumber(db.PageCount + 5), PageUse.Allocated).Error);
        Assert.Equal(PfnError.BadRequest, db.AllocateContiguous(ref m.Memory, 4, 3, PfnDatabase.NoLimit, PageUse.Pool, false, out _).Error);
        Assert.Equal(PfnError.BadRequest, db.AllocateContiguous(ref m.Memory, 0, 1, PfnDatabase.NoLimit, PageUse.Pool, false, out _).Error);
        Assert.Equal(PfnError.OutOfPages, db.AllocateContiguous(ref m.Memory, db.PageCount, 1, PfnDatabase.NoLimit, PageUse.Pool, false, out _).Error);

        // A run freed with one page in it not allocated: refused before any page is freed.
        Assert.True(db.AllocateContiguous(ref m.Memory, 8, 8, PfnDatabase.NoLimit, PageUse.Pool, false, out PageFrameNumber run).IsOk);
        Assert.True(db.FreePage(run + 3, PageUse.Pool).IsOk);
        ulong before = db.AvailablePages;
        Assert.Equal(PfnError.DoubleFree, db.FreeContiguous(run, 8, PageUse.Pool).Error);
        Assert.Equal(before, db.AvailablePages);
        Assert.Equal(PageState.Active, db.Entry(run)->State);
        Assert.True(db.FreeContiguous(run, 3, PageUse.Pool).IsOk);
        Assert.True(db.FreeContiguous(run + 4, 4, PageUse.Pool).IsOk);
        Assert.Equal(available, db.AvailablePages);
        Assert.True(db.Validate().IsOk);

        // A corrupted link is caught when the allocator reaches it, and by validation; nothing is handed out.
        var head = new PageFrameNumber(db.FreeList.First);
        var second = new PageFrameNumber(db.Entry(head)->Next);
        db.Entry(second)->Previous = 12345;
        Assert.Equal(PfnError.EntryCorrupt, db.AllocatePage(ref m.Memory, PageUse.Allocated, false, out PageFrameNumber none).Error);
        Assert.Equal(PfnDatabase.NoFrame, none);
        Assert.Equal(PageState.Free, db.Entry(head)->State);
        Assert.False(db.Validate().IsOk);
        db.Entry(second)->Previous = head.Value;
        Assert.True(db.Validate().IsOk);

        // A count that disagrees with the entries.
        db.ActivePages++;
        Assert.Equal(PfnError.CountMismatch, db.Validate().Error);
        db.ActivePages--;
        // A mapped page on the free list, as a stale mapping would leave it (the entry's address is only reported).
        Assert.Equal(PfnError.MappedFreePage, db.AccountMapping(new PageFrameNumber(db.FreeList.First), m.Region.Start.Value, false).Error);
    }

    private static void Backing<TMode>() where TMode : struct, IPagingMode
    {
        var random = new Random(77);
        for (int round = 0; round < 300; round++)
        {
            LoaderMemoryDescriptor[] map = Machines.GenerateMap(random, out _);
            ulong pages = MemoryMap.RamPages(map);
            var runs = new PageRun[PfnDatabase.MaxRuns];
            int count = PfnDatabase.BackingRuns(map, pages, TMode.PageShift, runs);
            Assert.True(count > 0);
            var backed = runs[..count].SelectMany(r => Enumerable.Range(0, (int)r.Count).Select(i => r.Start + (ulong)i)).ToHashSet();
            var needed = new HashSet<ulong>();
            foreach (LoaderMemoryDescriptor d in map)
            {
                for (ulong p = d.BasePage; p < Math.Min(d.EndPage, pages); p++)
                    needed.Add(p * (ulong)sizeof(PfnEntry) >> TMode.PageShift);
            }
            Assert.Equal(needed.OrderBy(p => p), backed.OrderBy(p => p));
            for (int i = 1; i < count; i++)
                Assert.True(runs[i].Start > runs[i - 1].End, "runs are merged and ascending");
        }
    }

    private static void EntryAddresses<TMode, TLayout>() where TMode : struct, IPagingMode where TLayout : struct, ILayout
    {
        using Machine<TMode, TLayout> m = Machines.Boot<TMode, TLayout>("ovmf-q35-2G.txt");
        foreach (Mapping mapping in m.Plan.Where(p => p.HasOwnEntries))
        {
            var address = new VirtualAddress(mapping.VirtualBase);
            PhysicalAddress table = m.Table.RootOf(address);
            for (int level = 0; level < TMode.LevelCount; level++)
            {
                PhysicalAddress slot = Entries.Slot<TMode>(table, TMode.Index(level, address));
                // Every level the self-map reaches (all of them, or all but PAE's root) shows the walker's slot; in a
                // split mode, for the high half's addresses.
                Assert.Equal(level >= SelfMap<TMode>.SlotLevel, SelfMap<TMode>.Reaches(level));
                Assert.Equal(SelfMap<TMode>.Reaches(level) && (TMode.RootCount == 1 || TMode.RootOf(address) == 1), SelfMap<TMode>.Reaches(address, level));
                if (SelfMap<TMode>.Reaches(address, level))
                {
                    Assert.True(m.Table.Translate(ref m.Memory, SelfMap<TMode>.EntryAddress(address, level), out Translation t));
                    Assert.Equal(slot, t.Address);
                }
                table = TMode.TableAddress(level, Entries.Read<TMode>(m.Memory, slot));
            }
            if (SelfMap<TMode>.SlotLevel == 0 && SelfMap<TMode>.Shows(address))
            {
                Assert.True(m.Table.Translate(ref m.Memory, SelfMap<TMode>.EntryAddress(address, -1), out Translation self));
                Assert.Equal(Entries.Slot<TMode>(m.Table.SelfMapRoot, TMode.SelfMapIndex), self.Address);
            }
        }
    }

    private static void Touch<TMode, TLayout>(Machine<TMode, TLayout> m, PageFrameNumber first, ulong count) where TMode : struct, IPagingMode where TLayout : struct, ILayout
    {
        ulong page = 1UL << TMode.PageShift;
        for (PageFrameNumber p = first; p < first + count; p += 1)
            m.Memory.Memory.Fill(p.ToAddress(TMode.PageShift), page, (byte)(p.Value | 1));
    }

    private static PageFrameNumber FrameOf<TMode>(ulong address) where TMode : struct, IPagingMode
        => PageFrameNumber.Of(new PhysicalAddress(address), TMode.PageShift);

    private static bool HasFreeRun(ref PfnDatabase db, ulong count, ulong alignment, PageFrameNumber limit)
    {
        for (int r = 0; r < db.RunCount; r++)
        {
            PageRun run = db.Run(r);
            for (ulong start = (run.Start + alignment - 1) / alignment * alignment; start + count <= Math.Min(run.End, limit.Value); start += alignment)
            {
                bool all = true;
                for (ulong p = start; p < start + count && all; p++)
                    all = db.Entry(new PageFrameNumber(p))->State is PageState.Free or PageState.Zeroed;
                if (all)
                    return true;
            }
        }
        return false;
    }

    /// <summary>
    /// That the entry at <paramref name="pteAddress"/> (a self-map address) is the one mapping <paramref name="frame"/>:
    /// for a table of <paramref name="level"/>, the table entry one level up (the root's: the self-map slot); for a
    /// page, the leaf. Where the self-map does not reach that entry (no self-map; PAE's root entries; a split mode's low
    /// half, whose first address <paramref name="address"/> is) no address is recorded.
    /// </summary>
    private static void AssertEntryMaps<TMode, TLayout>(Machine<TMode, TLayout> m, ulong pteAddress, ulong frame, int level, ulong address, bool table)
        where TMode : struct, IPagingMode where TLayout : struct, ILayout
    {
        if (!SelfMap<TMode>.Reaches(new VirtualAddress(address), table ? level - 1 : level))
        {
            Assert.Equal(0UL, pteAddress);
            return;
        }
        Assert.True(m.Table.Translate(ref m.Memory, new VirtualAddress(pteAddress), out Translation slot), $"entry address {pteAddress:X} is not mapped");
        ulong entry = Entries.Read<TMode>(m.Memory, slot.Address);
        int entryLevel = table ? Math.Max(level - 1, 0) : level;
        Assert.Equal(table ? EntryKind.Table : EntryKind.Page, TMode.Classify(entryLevel, entry));
        Assert.Equal(frame, (table ? TMode.TableAddress(entryLevel, entry) : TMode.PageAddress(entryLevel, entry)).Value);
        if (table && level == 0)
            Assert.Equal(Entries.Slot<TMode>(m.Table.SelfMapRoot, TMode.SelfMapIndex), slot.Address);
    }

    private struct TableCollector : ITableVisitor
    {
        public List<(ulong Frame, int Level, ulong First)> Tables;

        public bool VisitTable(PhysicalAddress table, int level, VirtualAddress firstAddress)
        {
            Tables.Add((table.Value, level, firstAddress.Value));
            return true;
        }
    }

    private struct RegionCollector<TMode> : IPageVisitor where TMode : struct, IPagingMode
    {
        public ulong Start, End;
        public List<(ulong, ulong)> Pages;

        public bool Visit(VirtualAddress address, PhysicalAddress frame, int level, PageProtection protection)
        {
            const PageProtection WriteExecute = PageProtection.Writable | PageProtection.Executable;
            if (address.Value >= Start && address.Value < End)
            {
                Assert.Equal(Entries.Expressible<TMode>(PageProtection.Writable) & WriteExecute, protection & WriteExecute);
                Pages.Add(((address.Value - Start) >> TMode.PageShift, frame.Value));
            }
            return true;
        }
    }
}
