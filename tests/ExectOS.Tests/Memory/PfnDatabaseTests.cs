using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using ExectOS.Boot;
using ExectOS.Memory;
using ExectOS.Paging.X86;
using ExectOS.Tests.Xtos;
using Xunit;

namespace ExectOS.Tests.Memory;

/// <summary>
/// The PFN database and its build, hosted: real OVMF maps go through the loader's plan and table
/// commit on an emulated machine, then through the kernel's build, exactly as at boot; randomized
/// allocation sequences are checked against a model after every operation.
/// </summary>
public unsafe class PfnDatabaseTests
{
    private const ulong Page = 4096;
    private const byte Poison = 0xA5;

    /// <summary>A built database over host memory, with the emulated machine it describes.</summary>
    internal sealed class Machine : IDisposable
    {
        public EmulatedMemory Memory;
        public PageTable<Amd64> Table;
        public LoaderMemoryDescriptor[] Map = [];
        public LayoutRegion Region;
        public PfnBuildReport Report;
        public PfnEntry* View;
        public ulong ViewBytes;
        public PfnDatabase* Database;
        public MappingPlanTests.Scenario Scenario = null!;
        public Mapping[] Plan = [];
        public ulong LoaderTables;

        public ref PfnDatabase Db => ref *Database;

        public void Dispose()
        {
            NativeMemory.Free(View);
            NativeMemory.Free(Database);
        }
    }

    [Fact]
    public void AnEntryIs32BytesAsTheLayoutAssumes()
    {
        Assert.Equal(32, sizeof(PfnEntry));
        // The layout sizes the region as pages * 32 + slack; the build refuses a region that is too small.
        var regions = new LayoutRegion[Amd64Kernel.RegionCount];
        foreach (ulong pages in new ulong[] { 2048, 32768, 0x80000, 0x1000000, 0x1000000000 })
        {
            Assert.True(Amd64Kernel.Compute(pages, regions));
            Assert.True(regions[Amd64Kernel.PfnDatabase].Size >= pages * (ulong)sizeof(PfnEntry));
        }
    }

    public static IEnumerable<object[]> OvmfMaps() => OvmfMemoryMapTests.Maps();

    /// <summary>
    /// The loader's side as at boot (plan, tables from loader memory, carve), then the kernel's build: every
    /// frame accounted, each mapped one with the self-map address of its entry, only backing pages touched.
    /// </summary>
    [Theory]
    [MemberData(nameof(OvmfMaps))]
    public void TheBuildFromARealMapAccountsForEveryFrame(string file)
    {
        using Machine m = Boot(file);
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
            PfnEntry* entry = db.Entry(frame >> 12);
            Assert.Equal(PageUse.PageTable, entry->Use);
            AssertEntryMaps(m, entry->PteAddress, frame, level == 0);
        }

        // Mapped frames carry the address of their entry; the kernel image's frames are its own.
        Mapping image = m.Plan.First(p => p.Kind == MappingKind.KernelImage);
        for (ulong i = 0; i < image.PageCount; i++)
        {
            PfnEntry* entry = db.Entry((image.PhysicalBase >> 12) + i);
            Assert.Equal(PageState.Active, entry->State);
            Assert.Equal(PageUse.KernelImage, entry->Use);
            Assert.Equal(SelfMap<Amd64>.LeafEntry(new VirtualAddress(image.VirtualBase + i * Page)).Value, entry->PteAddress);
            AssertEntryMaps(m, entry->PteAddress, image.PhysicalBase + i * Page, selfMapSlot: false);
        }
        Mapping stack = m.Plan.First(p => p.Kind == MappingKind.KernelStack);
        Assert.Equal(PageUse.BootStack, db.Entry(stack.PhysicalBase >> 12)->Use);

        // The region maps exactly the backing runs, and the entries outside them were never written.
        var backing = new PageRun[PfnDatabase.MaxRuns];
        int runs = PfnDatabase.BackingRuns(m.Map, m.Report.Pages, 12, backing);
        var expected = backing[..runs].SelectMany(r => Enumerable.Range(0, (int)r.Count).Select(i => r.Start + (ulong)i)).ToHashSet();
        var mapped = new RegionCollector { Start = m.Region.Start.Value, End = m.Region.End.Value, Pages = new List<(ulong, ulong)>() };
        m.Table.VisitPages(ref m.Memory, ref mapped);
        Assert.Equal(expected.OrderBy(p => p), mapped.Pages.Select(p => p.Item1).OrderBy(p => p));
        foreach (var (virtualPage, frame) in mapped.Pages)
            Assert.Equal(PageUse.PfnDatabase, db.Entry(frame >> 12)->Use);
        var bytes = new ReadOnlySpan<byte>(m.View, (int)m.ViewBytes);
        for (ulong p = 0; p < m.ViewBytes / Page; p++)
        {
            if (!expected.Contains(p))
                Assert.True(bytes.Slice((int)(p * Page), (int)Page).IndexOfAnyExcept(Poison) < 0, $"database page {p} is not backed but was written");
        }
        // Backing is sparse where the map has holes: the 4 GiB machines have a hole below 4 GiB.
        if (m.Report.Pages > 0x100000)
            Assert.True(m.Report.BackingPages < (m.Report.Pages * 32 + Page - 1) / Page);
    }

    /// <summary>
    /// Thousands of random operations on a built database; after every one the whole database is
    /// validated (lists both ways, counts, states) and compared with a model of who owns which frame.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void RandomSequencesKeepTheListsAndCountsExact(int seed)
    {
        var random = new Random(seed * 7919);
        using Machine m = BootGenerated(random);
        Assert.True(m.Report.IsOk, $"{m.Report.Error}: {m.Report.Problem.Error}");
        ref PfnDatabase db = ref m.Db;
        ulong baseline = db.AvailablePages, activeBaseline = db.ActivePages;
        var owned = new List<(ulong First, ulong Count, PageUse Use)>();
        var operations = new Dictionary<string, int>();
        void Count(string op) => operations[op] = operations.GetValueOrDefault(op) + 1;

        for (int step = 0; step < 4000; step++)
        {
            int choice = random.Next(100);
            if (choice < 35)
            {
                bool zero = random.Next(2) == 0;
                PfnProblem problem = db.AllocatePage(ref m.Memory, PageUse.Allocated, zero, out ulong page);
                if (problem.Error == PfnError.OutOfPages)
                {
                    Assert.Equal(0UL, db.AvailablePages);
                    Count("out of pages");
                }
                else
                {
                    Assert.True(problem.IsOk, problem.Error.ToString());
                    Assert.DoesNotContain(owned, o => page >= o.First && page < o.First + o.Count);
                    if (zero)
                        Assert.True(m.Memory.Memory.At(new PhysicalAddress(page * Page), (int)Page).IndexOfAnyExcept((byte)0) < 0, $"page {page:X} not zeroed");
                    Touch(m, page, 1);
                    owned.Add((page, 1, PageUse.Allocated));
                    Count(zero ? "allocate zeroed" : "allocate");
                }
            }
            else if (choice < 50)
            {
                ulong count = (ulong)random.Next(1, 40);
                ulong alignment = 1UL << random.Next(0, 7);
                ulong limit = random.Next(3) == 0 ? db.PageCount / 2 : ulong.MaxValue;
                bool zero = random.Next(2) == 0;
                PfnProblem problem = db.AllocateContiguous(ref m.Memory, count, alignment, limit, PageUse.Pool, zero, out ulong first);
                if (problem.Error == PfnError.OutOfPages)
                {
                    Assert.False(HasFreeRun(ref db, count, alignment, limit), $"a run of {count} aligned {alignment} below {limit:X} was there");
                    Count("contiguous refused");
                }
                else
                {
                    Assert.True(problem.IsOk, problem.Error.ToString());
                    Assert.Equal(0UL, first % alignment);
                    Assert.True(first + count <= limit);
                    Assert.DoesNotContain(owned, o => first < o.First + o.Count && o.First < first + count);
                    if (zero)
                        Assert.True(m.Memory.Memory.At(new PhysicalAddress(first * Page), (int)Page).IndexOfAnyExcept((byte)0) < 0);
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
                ulong page = owned[random.Next(owned.Count)].First;
                Assert.True(db.Reference(page).IsOk);
                Assert.Equal(PfnError.ReferenceCount, db.FreePage(page, db.Entry(page)->Use).Error);
                Assert.True(db.Dereference(page).IsOk);
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
        while (db.AllocatePage(ref m.Memory, PageUse.Allocated, random.Next(2) == 0, out ulong last).IsOk)
            owned.Add((last, 1, PageUse.Allocated));
        Assert.Equal(0UL, db.AvailablePages);
        Assert.Equal(PfnError.OutOfPages, db.AllocateContiguous(ref m.Memory, 1, 1, ulong.MaxValue, PageUse.Pool, false, out _).Error);
        Assert.Equal(owned.Count, owned.Select(o => o.First).Distinct().Count());
        Assert.True(db.Validate().IsOk);

        foreach (var (first, count, use) in owned)
            Assert.True(db.FreeContiguous(first, count, use).IsOk);
        Assert.Equal(baseline, db.AvailablePages);
        Assert.Equal(activeBaseline, db.ActivePages);
        Assert.True(db.Validate().IsOk);
        Assert.True(operations.Count >= 6, string.Join(", ", operations.Select(o => $"{o.Key} {o.Value}")));
    }

    [Fact]
    public void MisuseIsReportedAndChangesNothing()
    {
        using Machine m = Boot("ovmf-q35-128M.txt");
        Assert.True(m.Report.IsOk);
        ref PfnDatabase db = ref m.Db;
        ulong available = db.AvailablePages;

        Assert.True(db.AllocatePage(ref m.Memory, PageUse.Allocated, false, out ulong page).IsOk);
        Assert.Equal(PfnError.WrongUse, db.FreePage(page, PageUse.KernelStack).Error);
        Assert.True(db.FreePage(page, PageUse.Allocated).IsOk);
        Assert.Equal(PfnError.DoubleFree, db.FreePage(page, PageUse.Allocated).Error);

        Mapping image = m.Plan.First(p => p.Kind == MappingKind.KernelImage);
        Assert.Equal(PfnError.WrongUse, db.FreePage(image.PhysicalBase >> 12, PageUse.Allocated).Error);
        ulong top = db.PageCount;
        ulong reserved = m.Map.First(d => d.Type == LoaderMemoryType.LoaderFirmwarePermanent && d.BasePage < top).BasePage;
        Assert.Equal(PfnError.FreeOfPageNotActive, db.FreePage(reserved, PageUse.Allocated).Error);
        Assert.Equal(PfnError.PageNotDescribed, db.FreePage(db.PageCount + 5, PageUse.Allocated).Error);
        Assert.Equal(PfnError.BadRequest, db.AllocateContiguous(ref m.Memory, 4, 3, ulong.MaxValue, PageUse.Pool, false, out _).Error);
        Assert.Equal(PfnError.BadRequest, db.AllocateContiguous(ref m.Memory, 0, 1, ulong.MaxValue, PageUse.Pool, false, out _).Error);
        Assert.Equal(PfnError.OutOfPages, db.AllocateContiguous(ref m.Memory, db.PageCount, 1, ulong.MaxValue, PageUse.Pool, false, out _).Error);

        // A run freed with one page in it not allocated: refused before any page is freed.
        Assert.True(db.AllocateContiguous(ref m.Memory, 8, 8, ulong.MaxValue, PageUse.Pool, false, out ulong run).IsOk);
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
        ulong head = db.FreeList.First;
        ulong second = db.Entry(head)->Next;
        db.Entry(second)->Previous = 12345;
        Assert.Equal(PfnError.EntryCorrupt, db.AllocatePage(ref m.Memory, PageUse.Allocated, false, out ulong none).Error);
        Assert.Equal(PfnDatabase.NoPage, none);
        Assert.Equal(PageState.Free, db.Entry(head)->State);
        Assert.False(db.Validate().IsOk);
        db.Entry(second)->Previous = head;
        Assert.True(db.Validate().IsOk);

        // A count that disagrees with the entries.
        db.ActivePages++;
        Assert.Equal(PfnError.CountMismatch, db.Validate().Error);
        db.ActivePages--;
        // A mapped page on the free list, as a stale mapping would leave it.
        Assert.Equal(PfnError.MappedFreePage, db.AccountMapping(db.FreeList.First, 0xFFFFF68000001000, false).Error);
    }

    [Fact]
    public void BackingRunsCoverEveryDescribedEntryAndNoEmptyPage()
    {
        var random = new Random(77);
        for (int round = 0; round < 300; round++)
        {
            LoaderMemoryDescriptor[] map = GenerateMap(random, out _);
            ulong pages = MemoryMap.RamPages(map);
            var runs = new PageRun[PfnDatabase.MaxRuns];
            int count = PfnDatabase.BackingRuns(map, pages, 12, runs);
            Assert.True(count > 0);
            var backed = runs[..count].SelectMany(r => Enumerable.Range(0, (int)r.Count).Select(i => r.Start + (ulong)i)).ToHashSet();
            var needed = new HashSet<ulong>();
            foreach (LoaderMemoryDescriptor d in map)
            {
                for (ulong p = d.BasePage; p < Math.Min(d.EndPage, pages); p++)
                    needed.Add(p * 32 / Page);
            }
            Assert.Equal(needed.OrderBy(p => p), backed.OrderBy(p => p));
            for (int i = 1; i < count; i++)
                Assert.True(runs[i].Start > runs[i - 1].End, "runs are merged and ascending");
        }
    }

    /// <summary>The self-map formula for every level: the entry it names is the one the walker reaches.</summary>
    [Fact]
    public void TheEntryAddressOfEveryLevelLeadsToTheWalkersSlot()
    {
        using Machine m = Boot("ovmf-q35-2G.txt");
        foreach (Mapping mapping in m.Plan.Where(p => p.HasOwnEntries))
        {
            var address = new VirtualAddress(mapping.VirtualBase);
            PhysicalAddress table = m.Table.Root;
            for (int level = 0; level < Amd64.LevelCount; level++)
            {
                PhysicalAddress slot = table + (ulong)Amd64.Index(level, address) * 8;
                Assert.True(m.Table.Translate(ref m.Memory, SelfMap<Amd64>.EntryAddress(address, level), out Translation t));
                Assert.Equal(slot, t.Address);
                table = Amd64.TableAddress(level, m.Memory.Read64(slot));
            }
            Assert.True(m.Table.Translate(ref m.Memory, SelfMap<Amd64>.EntryAddress(address, -1), out Translation self));
            Assert.Equal(m.Table.Root + (ulong)Amd64.SelfMapIndex * 8, self.Address);
        }
    }

    /// <summary>Boots a captured map: the loader's plan and tables (from loader memory, carved), then the kernel's build.</summary>
    internal static Machine Boot(string file)
    {
        MappingPlanTests.Scenario s = MappingPlanTests.FromOvmf(file);
        return Boot(s);
    }

    private static Machine Boot(MappingPlanTests.Scenario s)
    {
        var w = MappingPlanTests.Windows64<Amd64Kernel>(Amd64Kernel.LoaderMappings, Amd64Kernel.PageTables, Amd64Kernel.Hyperspace);
        var list = new Mapping[64];
        MappingProblem planned = MappingPlanTests.Plan<Amd64>(s, w, list, out int count);
        Assert.True(planned.IsOk, $"{planned.Error} {planned.First} at 0x{planned.Detail:X}");
        Mapping[] plan = list[..count];

        var m = new Machine { Memory = new EmulatedMemory(new SparseMemory()), Scenario = s, Plan = plan };
        m.Table = new PageTable<Amd64>(new PhysicalAddress(s.Root));
        var tables = new TrackingAllocator(s.Root + Page);
        Assert.Equal(MapStatus.Done, PageTable<Amd64>.InstallSelfMap(ref m.Memory, ref tables, m.Table.Root));
        Assert.Equal(MapStatus.Done, PlanTables.Commit(ref m.Memory, ref tables, m.Table, plan, out _));
        m.LoaderTables = (ulong)tables.Live.Count + 1;

        // The loader's carving: its allocations get their types, so the kernel finds none of them free.
        var map = s.Map.ToArray();
        Array.Resize(ref map, map.Length + 16);
        int mapCount = s.Map.Count;
        void Carve(ulong address, ulong pages, LoaderMemoryType type)
            => Assert.True(MemoryMap.Carve(map, ref mapCount, address / Page, pages, type).IsOk);
        Carve(s.KernelPhysical, s.ImageSize / Page, LoaderMemoryType.LoaderSystemCode);
        Carve(s.Stack, s.StackPages, LoaderMemoryType.LoaderStartupKernelStack);
        Carve(s.BootData, s.BootDataPages, LoaderMemoryType.LoaderSystemBlock);
        Carve(s.Hyperspace, 1, LoaderMemoryType.LoaderMemoryData);
        Carve(s.HandOff, 1, LoaderMemoryType.LoaderMemoryData);
        Carve(s.Root, m.LoaderTables, LoaderMemoryType.LoaderMemoryData);
        m.Map = map[..mapCount];

        var regions = new LayoutRegion[Amd64Kernel.RegionCount];
        Assert.True(Amd64Kernel.Compute(MemoryMap.RamPages(m.Map), regions));
        m.Region = regions[Amd64Kernel.PfnDatabase];
        m.ViewBytes = (MemoryMap.RamPages(m.Map) * 32 + Page - 1) / Page * Page;
        m.View = (PfnEntry*)NativeMemory.Alloc((nuint)m.ViewBytes);
        new Span<byte>(m.View, (int)m.ViewBytes).Fill(Poison);
        m.Database = (PfnDatabase*)NativeMemory.AllocZeroed((nuint)sizeof(PfnDatabase));
        m.Report = PfnBuild<Amd64>.Build(ref m.Memory, m.Table, m.Map, m.Region, m.View, m.Database);
        return m;
    }

    /// <summary>A small generated machine (so that validating after every step stays cheap), loader allocations in its loader memory.</summary>
    private static Machine BootGenerated(Random random)
    {
        LoaderMemoryDescriptor[] map = GenerateMap(random, out ulong loaderPage);
        var s = new MappingPlanTests.Scenario { Map = map.ToList() };
        ulong next = loaderPage * Page;
        ulong Take(ulong pages) { ulong at = next; next += pages * Page; return at; }
        s.Ranges.AddRange([new ImageRange(0, 0x400, PageProtection.Read), new ImageRange(0x1000, 0x8000, PageProtection.Executable), new ImageRange(0x9000, 0x2000, PageProtection.Writable)]);
        s.ImageSize = 0xB000;
        s.KernelVirtual = 0xFFFFF80000800000;
        s.KernelPhysical = Take(s.ImageSize / Page);
        s.StackPages = 4;
        s.Stack = Take(4);
        s.BootDataPages = 2;
        s.BootData = Take(2);
        s.Hyperspace = Take(1);
        s.HandOff = Take(1);
        s.Root = Take(1);
        return Boot(s);
    }

    /// <summary>
    /// RAM from 8 to 48 MiB in pieces with holes, some bad and reserved runs, and one loader-memory run of
    /// 96 pages (returned in <paramref name="loaderPage"/>) for the loader's allocations and tables.
    /// </summary>
    private static LoaderMemoryDescriptor[] GenerateMap(Random random, out ulong loaderPage)
    {
        var map = new List<LoaderMemoryDescriptor>();
        ulong page = (ulong)random.Next(0, 16);
        ulong end = (ulong)random.Next(2048, 12288);
        loaderPage = 0;
        bool loaderPlaced = false;
        while (page < end)
        {
            ulong pages = (ulong)random.Next(1, 700);
            int kind = random.Next(20);
            LoaderMemoryType type = kind switch
            {
                < 12 => LoaderMemoryType.LoaderFree,
                12 => LoaderMemoryType.LoaderBad,
                13 or 14 => LoaderMemoryType.LoaderFirmwarePermanent,
                15 => LoaderMemoryType.LoaderSpecialMemory,
                _ => LoaderMemoryType.LoaderFirmwareTemporary,
            };
            if (!loaderPlaced && page > 600)
            {
                type = LoaderMemoryType.LoaderFirmwareTemporary;
                pages = 96;
                loaderPage = page;
                loaderPlaced = true;
            }
            if (map.Count > 0 && map[^1].Type == type && map[^1].EndPage == page)
                type = LoaderMemoryType.LoaderFree == type ? LoaderMemoryType.LoaderFirmwareTemporary : LoaderMemoryType.LoaderFree;
            map.Add(new LoaderMemoryDescriptor(type, page, pages));
            page += pages;
            if (random.Next(6) == 0)
                page += (ulong)random.Next(1, 300);
        }
        if (!loaderPlaced)
        {
            loaderPage = page;
            map.Add(new LoaderMemoryDescriptor(LoaderMemoryType.LoaderFirmwareTemporary, page, 96));
        }
        // A free run big enough for the database and its tables, and MMIO far above RAM (not described).
        ulong top = map[^1].EndPage;
        map.Add(new LoaderMemoryDescriptor(map[^1].Type == LoaderMemoryType.LoaderFree ? LoaderMemoryType.LoaderFirmwareTemporary : LoaderMemoryType.LoaderFree, top, 1024));
        map.Add(new LoaderMemoryDescriptor(LoaderMemoryType.LoaderFirmwarePermanent, 0xFEC00, 1));
        return map.ToArray();
    }

    private static void Touch(Machine m, ulong first, ulong count)
    {
        for (ulong p = first; p < first + count; p++)
            m.Memory.Memory.At(new PhysicalAddress(p * Page), (int)Page).Fill((byte)(p | 1));
    }

    private static bool HasFreeRun(ref PfnDatabase db, ulong count, ulong alignment, ulong limit)
    {
        for (int r = 0; r < db.RunCount; r++)
        {
            PageRun run = db.Run(r);
            for (ulong start = (run.Start + alignment - 1) / alignment * alignment; start + count <= Math.Min(run.End, limit); start += alignment)
            {
                bool all = true;
                for (ulong p = start; p < start + count && all; p++)
                    all = db.Entry(p)->State is PageState.Free or PageState.Zeroed;
                if (all)
                    return true;
            }
        }
        return false;
    }

    /// <summary>That the entry at <paramref name="pteAddress"/> (a self-map address) is the one mapping <paramref name="frame"/>.</summary>
    private static void AssertEntryMaps(Machine m, ulong pteAddress, ulong frame, bool selfMapSlot)
    {
        Assert.True(m.Table.Translate(ref m.Memory, new VirtualAddress(pteAddress), out Translation slot), $"entry address {pteAddress:X} is not mapped");
        ulong entry = m.Memory.Read64(slot.Address);
        Assert.True((entry & 1) != 0);
        Assert.Equal(frame, entry & 0x000FFFFFFFFFF000UL);
        if (selfMapSlot)
            Assert.Equal(m.Table.Root + (ulong)Amd64.SelfMapIndex * 8, slot.Address);
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

    private struct RegionCollector : IPageVisitor
    {
        public ulong Start, End;
        public List<(ulong, ulong)> Pages;

        public bool Visit(VirtualAddress address, PhysicalAddress frame, int level, PageProtection protection)
        {
            if (address.Value >= Start && address.Value < End)
            {
                Assert.Equal(PageProtection.Writable, protection & (PageProtection.Writable | PageProtection.Executable));
                Pages.Add(((address.Value - Start) / Page, frame.Value));
            }
            return true;
        }
    }
}
