using System;
using System.Collections.Generic;
using System.Linq;
using ExectOS.Diagnostics;
using ExectOS.Hosted;
using ExectOS.Memory;
using ExectOS.Tests.Descriptors;
using Xunit;

// Pointers to the emulated memory struct (it holds a class reference), as the kernel's PoolPages takes them.
#pragma warning disable CS8500

namespace ExectOS.Tests.Memory;

/// <summary>
/// The pool allocator on host memory whose pages become accessible only when the pool commits them
/// (<see cref="HostPool"/>): a randomized stress against a reference model, and every corruption the
/// pool claims to catch, each refused with its bug check and the pool left as it was.
/// </summary>
public unsafe class PoolTests
{
    private const ulong Page = 4096;
    private static readonly uint Tag = HostPool.Tag("Test");

    private static HostPool NewPool(PoolType type = PoolType.NonPaged, ulong specialPages = 0, uint specialTag = 0)
        => new(type, initialPages: 512, expansionPages: 2048, specialPages: specialPages, specialTag: specialTag);

    private static void AssertOk(PoolProblem problem)
        => Assert.True(problem.IsOk, $"0x{(uint)problem.Code:X} ({problem.Describe()}): 0x{problem.P1:X} 0x{problem.P2:X} 0x{problem.P3:X} 0x{problem.P4:X}");

    private static void AssertProblem(PoolProblem problem, BugCheckCode code, ulong p1)
    {
        Assert.False(problem.IsOk, "the pool accepted what it should have refused");
        Assert.True(problem.Code == code && problem.P1 == p1, $"expected 0x{(uint)code:X}/0x{p1:X}, got 0x{(uint)problem.Code:X}/0x{problem.P1:X} ({problem.Describe()}) 0x{problem.P2:X} 0x{problem.P3:X} 0x{problem.P4:X}");
    }

    private static void AssertProblem(PoolProblem problem, BadPoolHeaderCheck check) => AssertProblem(problem, BugCheckCode.BadPoolHeader, (ulong)check);

    private static void AssertProblem(PoolProblem problem, BadPoolCallerCheck check) => AssertProblem(problem, BugCheckCode.BadPoolCaller, (ulong)check);

    private static byte* Alloc(HostPool pool, ulong bytes, uint tag = 0, ulong alignment = 0)
    {
        void* p = pool.Allocate(bytes, tag == 0 ? Tag : tag, alignment, out PoolProblem problem);
        AssertOk(problem);
        Assert.True(p != null, $"allocation of {bytes} bytes failed");
        return (byte*)p;
    }

    /// <summary>
    /// Ten million mixed operations on the non-paged pool (small, lookaside sizes, near a page, big,
    /// page-aligned), 24 tags, against a model: every block filled with its own pattern and checked when
    /// freed, no two live blocks overlapping (a shadow map of 16-byte units), per-tag counts exact, and the
    /// whole pool validated as it goes. Some of the memory is withheld on the way so that running out is
    /// exercised too. Then a million on a paged pool committing big blocks on demand (every page touched
    /// through the fault path first) with one tag in the special pool.
    /// </summary>
    [Theory]
    [InlineData(PoolType.NonPaged, 10_000_000)]
    [InlineData(PoolType.Paged, 1_000_000)]
    public void RandomOperationsMatchAReferenceModel(PoolType type, int operations)
    {
        uint[] tags = Enumerable.Range(0, 24).Select(i => HostPool.Tag($"T{(char)('a' + i)}{i % 10}x")).ToArray();
        using var pool = type == PoolType.NonPaged
            ? new HostPool(PoolType.NonPaged, initialPages: 1024, expansionPages: 7168)
            : new HostPool(PoolType.Paged, initialPages: 8192, expansionPages: 0, specialPages: 512, specialTag: tags[3], demand: true);
        RandomOperations(pool, operations, tags);
    }

    private static void RandomOperations(HostPool pool, int operations, uint[] tags)
    {
        const int maxLive = 3000;
        var random = new Random(20261130);
        var model = new Dictionary<uint, (ulong Allocs, ulong Frees, ulong Bytes)>();
        var live = new List<(ulong Address, ulong Bytes, uint Tag, byte Seed)>(maxLive);
        ulong regionBase = (ulong)pool.Region.Base;
        var shadow = new int[pool.Region.Bytes / 16];
        int nextId = 1;
        var owner = new List<int>(maxLive);
        long failures = 0, special = 0;

        for (int op = 0; op < operations; op++)
        {
            bool allocate = live.Count == 0 || (live.Count < maxLive && random.Next(100) < 52);
            if (op % 1_000_000 == 500_000)
                pool.Pages.Ledger.Budget = 0; // memory runs out for a while: allocations needing pages fail cleanly
            else if (op % 1_000_000 == 600_000)
                pool.Pages.Ledger.Budget = long.MaxValue;
            if (allocate)
            {
                int kind = random.Next(100);
                ulong bytes = kind switch
                {
                    < 55 => (ulong)random.Next(0, 497),        // lookaside sizes
                    < 85 => (ulong)random.Next(497, 4081),     // free lists up to a whole page
                    < 97 => (ulong)random.Next(4081, 40000),   // big
                    _ => (ulong)random.Next(1, 9000),          // aligned to 64 or a page: whole pages
                };
                ulong alignment = kind >= 97 ? (random.Next(2) == 0 ? 64UL : Page) : 0;
                uint tag = tags[random.Next(tags.Length)];
                void* p = pool.Allocate(bytes, tag, alignment, out PoolProblem problem);
                AssertOk(problem);
                if (p == null)
                {
                    Assert.True(pool.Pages.Ledger.Budget < 16, $"allocation of {bytes} failed with memory left (op {op})");
                    failures++;
                    continue;
                }
                ulong address = (ulong)p;
                Assert.True(address >= regionBase && address + bytes <= regionBase + pool.Region.Bytes);
                if (pool.VirtualOf(p) - pool.Config.SpecialStart.Value < pool.Config.SpecialPages * Page)
                    special++;
                if (pool.Config.DemandCommit && pool.P.FindBigAllocation(p, out PoolBigEntry big))
                {
                    // What the page fault handler does on each first touch.
                    bool touched = true;
                    for (ulong page = 0; page < big.Pages && touched; page++)
                    {
                        PoolFault fault = pool.Touch((byte*)p + page * Page, out PoolProblem faultProblem);
                        AssertOk(faultProblem);
                        touched = fault == PoolFault.Committed;
                        Assert.True(touched || (fault == PoolFault.NoMemory && pool.Pages.Ledger.Budget == 0), $"op {op}: page {page} of a big block: {fault}");
                    }
                    if (!touched)
                    {
                        // Reserved but not backed (memory is withheld): the kernel would bug-check on the touch; give it back.
                        AssertOk(pool.Free(p, tag));
                        var given = model.GetValueOrDefault(tag);
                        model[tag] = (given.Allocs + 1, given.Frees + 1, given.Bytes);
                        failures++;
                        continue;
                    }
                }
                Assert.Equal(0UL, address % (alignment > 16 ? alignment : 16));
                int id = nextId++;
                ulong firstUnit = (address - regionBase) / 16, lastUnit = (address - regionBase + Math.Max(bytes, 1) - 1) / 16;
                for (ulong u = firstUnit; u <= lastUnit; u++)
                {
                    if (shadow[u] != 0)
                        Assert.Fail($"op {op}: {bytes} bytes at 0x{address:X} overlap live allocation {shadow[u]}");
                    shadow[u] = id;
                }
                byte seed = (byte)random.Next(256);
                Fill((byte*)p, bytes, seed);
                live.Add((address, bytes, tag, seed));
                owner.Add(id);
                var m = model.GetValueOrDefault(tag);
                model[tag] = (m.Allocs + 1, m.Frees, m.Bytes + bytes);
            }
            else
            {
                int index = random.Next(live.Count);
                var (address, bytes, tag, seed) = live[index];
                Verify((byte*)address, bytes, seed, op);
                AssertOk(pool.Free((void*)address, tag));
                ulong firstUnit = (address - regionBase) / 16, lastUnit = (address - regionBase + Math.Max(bytes, 1) - 1) / 16;
                for (ulong u = firstUnit; u <= lastUnit; u++)
                    shadow[u] = 0;
                live[index] = live[^1];
                live.RemoveAt(live.Count - 1);
                owner[index] = owner[^1];
                owner.RemoveAt(owner.Count - 1);
                var m = model[tag];
                model[tag] = (m.Allocs, m.Frees + 1, m.Bytes - bytes);
            }
            if (op % 250_000 == 0)
            {
                AssertOk(pool.P.Validate());
                AssertStats(pool, model, live.Count);
            }
        }
        AssertOk(pool.P.Validate());
        AssertStats(pool, model, live.Count);
        Assert.True(failures > 0, "the withheld memory never made an allocation fail");
        Assert.True(pool.P.Counters.LookasideHits > (ulong)operations / 10, "the lookaside lists were hardly used");
        if (pool.Config.DemandCommit)
            Assert.True(pool.P.Counters.DemandFaults > 0, "no big block was committed on demand");
        if (pool.Config.SpecialTag != 0)
            Assert.True(special > 0, "no allocation went to the special pool");

        // Everything back: no block, no byte, no page (once the lookaside lists and page cache are flushed).
        foreach (var (address, bytes, tag, seed) in live)
        {
            Verify((byte*)address, bytes, seed, operations);
            AssertOk(pool.Free((void*)address, tag));
        }
        AssertOk(pool.P.Flush(ref pool.Pages));
        AssertOk(pool.P.Validate());
        Assert.Equal(0UL, pool.P.Counters.BytesInUse);
        Assert.Equal(0UL, pool.P.Counters.SmallBlocks + pool.P.Counters.BigAllocations + pool.P.Counters.FreeBlocks + pool.P.Counters.LookasideBlocks);
        Assert.Equal(0UL, pool.P.Counters.CommittedPages);
        Assert.Equal(0L, pool.Pages.Ledger.Committed);
    }

    private static void AssertStats(HostPool pool, Dictionary<uint, (ulong Allocs, ulong Frees, ulong Bytes)> model, int live)
    {
        ulong bytes = 0;
        foreach (var (tag, m) in model)
        {
            Assert.True(pool.P.TryGetTag(tag, out PoolTagStats stats));
            Assert.Equal((m.Allocs, m.Frees, m.Bytes), (stats.Allocations, stats.Frees, stats.BytesInUse));
            bytes += m.Bytes;
        }
        Assert.Equal(bytes, pool.P.Counters.BytesInUse);
        Assert.Equal((ulong)live, pool.P.Counters.SmallBlocks + pool.P.Counters.BigAllocations + pool.P.Counters.SpecialAllocations);
    }

    private static void Fill(byte* p, ulong bytes, byte seed)
    {
        // Whole blocks up to 512 bytes; larger ones at both ends and every 61st byte between.
        if (bytes <= 512)
        {
            for (ulong i = 0; i < bytes; i++)
                p[i] = (byte)(seed + i);
            return;
        }
        for (ulong i = 0; i < 64; i++)
        {
            p[i] = (byte)(seed + i);
            p[bytes - 1 - i] = (byte)(seed ^ i);
        }
        for (ulong i = 64; i < bytes - 64; i += 61)
            p[i] = (byte)((ulong)seed * 7 + i);
    }

    private static void Verify(byte* p, ulong bytes, byte seed, int op)
    {
        bool ok = true;
        if (bytes <= 512)
        {
            for (ulong i = 0; i < bytes && ok; i++)
                ok = p[i] == (byte)(seed + i);
        }
        else
        {
            for (ulong i = 0; i < 64 && ok; i++)
                ok = p[i] == (byte)(seed + i) && p[bytes - 1 - i] == (byte)(seed ^ i);
            for (ulong i = 64; i < bytes - 64 && ok; i += 61)
                ok = p[i] == (byte)((ulong)seed * 7 + i);
        }
        if (!ok)
            Assert.Fail($"op {op}: the contents of {bytes} bytes at 0x{(ulong)p:X} changed while allocated");
    }

    [Fact]
    public void BlocksSplitAndCoalesceBackIntoAWholePage()
    {
        using var pool = NewPool();
        // 1000-byte blocks (64 units, no lookaside): four fit a page exactly, as one page.
        var blocks = new byte*[4];
        for (int i = 0; i < 4; i++)
            blocks[i] = Alloc(pool, 1000);
        Assert.Equal(1UL, pool.P.Counters.CommittedPages);
        for (int i = 1; i < 4; i++)
            Assert.Equal(1024L, blocks[i] - blocks[i - 1]);
        AssertOk(pool.P.Validate());
        // Free the middle two (they merge), then the outer two (each merges into the run): the page is whole and cached.
        AssertOk(pool.Free(blocks[1], Tag));
        AssertOk(pool.Free(blocks[2], Tag));
        Assert.Equal(1UL, pool.P.Counters.FreeBlocks);
        AssertOk(pool.P.Validate());
        AssertOk(pool.Free(blocks[0], Tag));
        AssertOk(pool.Free(blocks[3], Tag));
        Assert.Equal(0UL, pool.P.Counters.FreeBlocks);
        Assert.Equal(1UL, pool.P.Counters.CachedPages);
        AssertOk(pool.P.Validate());
        // The cached page serves the next allocation without a commit.
        long commits = pool.Pages.Ledger.Commits;
        byte* again = Alloc(pool, 2000);
        Assert.Equal(commits, pool.Pages.Ledger.Commits);
        Assert.Equal((ulong)blocks[0], (ulong)again);
        AssertOk(pool.Free(again, Tag));
        AssertOk(pool.P.Trim(ref pool.Pages));
        Assert.Equal(0UL, pool.P.Counters.CommittedPages);
        Assert.Equal(0L, pool.Pages.Ledger.Committed);
    }

    [Fact]
    public void HotSizesComeBackFromTheLookasideListLastInFirstOut()
    {
        using var pool = NewPool();
        byte* a = Alloc(pool, 100);
        byte* b = Alloc(pool, 100);
        AssertOk(pool.Free(a, Tag));
        AssertOk(pool.Free(b, Tag));
        Assert.Equal(2UL, pool.P.Counters.LookasideBlocks);
        Assert.True((ulong)b == (ulong)Alloc(pool, 97));
        Assert.True((ulong)a == (ulong)Alloc(pool, 110));
        Assert.Equal(2UL, pool.P.Counters.LookasideHits);
        // The lookaside link in a parked block is not a plain pointer: it is encoded with the cookie.
        AssertOk(pool.Free(a, Tag));
        AssertOk(pool.Free(b, Tag));
        ulong stored = *(ulong*)b;
        Assert.NotEqual((ulong)a, stored);
        Assert.Equal((ulong)a, stored ^ pool.Config.Cookie);
        AssertOk(pool.P.Validate());
    }

    [Fact]
    public void BigAllocationsAreWholePagesTrackedByTag()
    {
        using var pool = NewPool();
        var random = new Random(3);
        var big = new List<(IntPtr P, ulong Bytes, uint Tag)>();
        for (int i = 0; i < 400; i++)
        {
            ulong bytes = (ulong)random.Next(4081, 30000);
            uint tag = HostPool.Tag($"Bg{i % 7}");
            byte* p = Alloc(pool, bytes, tag);
            Assert.Equal(0UL, (ulong)p % Page);
            Assert.True(pool.P.FindBigAllocation(p, out PoolBigEntry entry));
            Assert.Equal(((bytes + Page - 1) / Page, tag, bytes), ((ulong)entry.Pages, entry.Tag, entry.Requested));
            big.Add(((IntPtr)p, bytes, tag));
        }
        foreach (var (p, bytes, tag) in big.OrderBy(_ => random.Next()))
        {
            // The middle of a big allocation is not one; neither is a wrong tag.
            if (bytes > 2 * Page)
                AssertProblem(pool.Free((byte*)p + Page, tag), BadPoolCallerCheck.NotABigAllocation);
            AssertProblem(pool.Free((void*)p, HostPool.Tag("Nope")), BadPoolCallerCheck.WrongTag);
            AssertOk(pool.Free((void*)p, tag));
            Assert.False(pool.P.FindBigAllocation((void*)p, out _));
        }
        Assert.Equal(0, pool.P.BigCount);
        Assert.Equal(0UL, pool.P.Counters.CommittedPages);
        AssertOk(pool.P.Validate());
    }

    [Fact]
    public void TheBigTableFillsToItsLimitThenAllocationsFailCleanly()
    {
        using var pool = new HostPool(PoolType.Paged, initialPages: 4096, expansionPages: 0);
        var all = new List<IntPtr>();
        for (int i = 0; i < Pool.BigLimit; i++)
            all.Add((IntPtr)Alloc(pool, 4090));
        void* refused = pool.Allocate(5000, Tag, 0, out PoolProblem problem);
        AssertOk(problem);
        Assert.True(refused == null);
        Assert.Equal(1UL, pool.P.Counters.Failures);
        foreach (IntPtr p in all)
            AssertOk(pool.Free((void*)p, Tag));
        AssertOk(pool.P.Validate());
        Assert.Equal(0UL, pool.P.Counters.CommittedPages);
    }

    [Fact]
    public void AlignmentAboveSixteenTakesWholePagesAndBadAlignmentsAreRefused()
    {
        using var pool = NewPool();
        byte* p = Alloc(pool, 40, alignment: 64);
        Assert.Equal(0UL, (ulong)p % 64);
        Assert.True(pool.P.FindBigAllocation(p, out _));
        Assert.Equal(0UL, (ulong)Alloc(pool, 40, alignment: 16) % 16);
        void* bad = pool.Allocate(40, Tag, 48, out PoolProblem problem);
        Assert.True(bad == null);
        AssertProblem(problem, BadPoolCallerCheck.BadAlignment);
        bad = pool.Allocate(40, Tag, 2 * Page, out problem);
        AssertProblem(problem, BadPoolCallerCheck.BadAlignment);
        bad = pool.Allocate(40, 0, 0, out problem);
        AssertProblem(problem, BadPoolCallerCheck.ZeroTag);
        AssertOk(pool.P.Validate());
    }

    [Fact]
    public void TheNonPagedPoolFillsItsInitialRegionThenGrowsIntoExpansion()
    {
        using var pool = new HostPool(PoolType.NonPaged, initialPages: 8, expansionPages: 24);
        ulong initialEnd = pool.Config.InitialStart.Value + 8 * Page;
        var blocks = new List<ulong>();
        while (true)
        {
            void* p = pool.Allocate(2000, Tag, 0, out PoolProblem problem);
            AssertOk(problem);
            if (p == null)
                break;
            blocks.Add(pool.VirtualOf(p));
        }
        // Two blocks a page: the first 16 in the initial region, the next 48 in the expansion region, then nothing.
        Assert.Equal(64, blocks.Count);
        Assert.All(blocks.Take(16), va => Assert.InRange(va, pool.Config.InitialStart.Value, initialEnd - 1));
        Assert.All(blocks.Skip(16), va => Assert.InRange(va, pool.Config.ExpansionStart.Value, pool.Config.ExpansionStart.Value + 24 * Page - 1));
        Assert.Equal(32UL, pool.P.Counters.CommittedPages);
        AssertOk(pool.P.Validate());
    }

    /// <summary>Every mode, both pools, on RAM below 4 GiB only and on RAM above it (free frames are handed out highest first).</summary>
    public static IEnumerable<object[]> ModesPoolsAndMaps()
        => GeneratedTypes.Cross(GeneratedTypes.PagingModeData(), [[PoolType.NonPaged, "ovmf-q35-512M.txt"], [PoolType.Paged, "ovmf-q35-512M.txt"],
            [PoolType.NonPaged, "ovmf-q35-8G.txt"], [PoolType.Paged, "ovmf-q35-8G.txt"]]);

    /// <summary>
    /// The kernel's page source on a machine booted from a real map: every pool page a PFN frame of use Pool
    /// mapped at its virtual address (pageable only in the paged pool, its PTE address recorded), page
    /// tables taken as needed, and every frame and table given back when the pool empties.
    /// </summary>
    [Theory]
    [MemberData(nameof(ModesPoolsAndMaps))]
    public void PoolPagesAreFramesFromThePfnDatabaseMappedAtThePoolsAddresses(string mode, PoolType type, string file)
        => GeneratedTypes.RunForMode(typeof(PoolTests), nameof(PfnPoolPages), mode, type, file);

    private static void PfnPoolPages<TMode, TLayout>(PoolType type, string file) where TMode : struct, IPagingMode where TLayout : struct, ILayout
    {
        ulong page = 1UL << TMode.PageShift;
        using var m = Machines.Boot<TMode, TLayout>(file);
        Assert.True(m.Report.IsOk);
        LayoutRegion initial = m.RegionNamed(type == PoolType.Paged ? "PagedPool" : "NonPagedPool");
        LayoutRegion expansion = type == PoolType.Paged ? default : m.RegionNamed("NonPagedExpansion");
        // The data side on the host, laid out as the regions are: one host region from the initial pool's start to
        // the expansion's end (the amd64 expansion follows the initial pool; i686's lies higher up), reserved, not committed.
        Assert.True(expansion.Size == 0 || expansion.Start.Value >= initial.End.Value);
        using var data = new HostRegion((expansion.Size == 0 ? initial.End : expansion.End).Value - initial.Start.Value, accessible: true);
        var config = new PoolConfig
        {
            Type = type,
            PageShift = TMode.PageShift,
            Cookie = 0x0123456789ABCDEF,
            InitialStart = initial.Start,
            InitialPages = initial.Size / page,
            ExpansionStart = expansion.Start,
            ExpansionPages = expansion.Size / page,
            Displacement = (long)((ulong)data.Base - initial.Start.Value),
            DemandCommit = type == PoolType.Paged,
        };
        var pool = (Pool*)System.Runtime.InteropServices.NativeMemory.AllocZeroed((nuint)sizeof(Pool));
        try
        {
            Assert.True(pool->Initialize(in config));
            ref PfnDatabase db = ref m.Db;
            ulong free = db.FreeList.Count + db.ZeroedList.Count, tables = db.CountUse(PageUse.PageTable);
            EmulatedMemory memory = m.Memory;
            var pages = new PoolPages<TMode, EmulatedMemory, NoTranslationCache, HostLocks>(m.Table, m.Database, &memory);

            var random = new Random((int)type + 1);
            var blocks = new List<(IntPtr P, ulong Bytes)>();
            for (int i = 0; i < 400; i++)
            {
                // Every twentieth a big block of several pages, whatever the page size.
                ulong bytes = i % 20 == 0 ? (ulong)random.Next(5000, 60000) * (page >> 12) : (ulong)random.Next(1, 2000);
                void* p = pool->Allocate(ref pages, bytes, Tag, 0, out PoolProblem problem);
                AssertOk(problem);
                Assert.True(p != null);
                blocks.Add(((IntPtr)p, bytes));
            }
            AssertOk(pool->Validate());
            Assert.Equal(pool->Counters.CommittedPages, db.CountUse(PageUse.Pool));
            if (type == PoolType.Paged)
            {
                // Big paged blocks are only reserved: each page is committed by the fault its first touch takes.
                ulong before = pool->Counters.CommittedPages;
                foreach (var (p, bytes) in blocks.Where(b => b.Bytes > page - 16))
                {
                    ulong va = (ulong)p - (ulong)config.Displacement;
                    for (ulong at = va; at < va + bytes; at += page)
                    {
                        Assert.False(m.Table.Translate(ref memory, new VirtualAddress(at), out _), $"0x{at:X} was mapped before its first touch");
                        Assert.Equal(PoolFault.Committed, pool->ResolveFault(ref pages, new VirtualAddress(at + 123), out PoolProblem fault));
                        AssertOk(fault);
                        Assert.Equal(PoolFault.NotPool, pool->ResolveFault(ref pages, new VirtualAddress(at), out _)); // a fault on a committed page is a bug
                    }
                }
                Assert.True(pool->Counters.DemandFaults > 0);
                Assert.Equal(before + pool->Counters.DemandFaults, pool->Counters.CommittedPages);
                Assert.Equal(pool->Counters.CommittedPages, db.CountUse(PageUse.Pool));
                // Faults anywhere else are not the pool's to resolve: a small-block page, space no allocation holds.
                Assert.Equal(PoolFault.NotPool, pool->ResolveFault(ref pages, new VirtualAddress((ulong)blocks[1].P - (ulong)config.Displacement), out _));
                Assert.Equal(PoolFault.NotPool, pool->ResolveFault(ref pages, new VirtualAddress(initial.Start.Value + initial.Size - page), out _));
                AssertOk(pool->Validate());
            }
            var mapped = new HashSet<ulong>();
            foreach (var (p, bytes) in blocks)
            {
                ulong va = (ulong)p - (ulong)config.Displacement;
                for (ulong at = va & ~(page - 1); at < va + bytes; at += page)
                {
                    Assert.True(m.Table.Translate(ref memory, new VirtualAddress(at), out Translation translation), $"0x{at:X} is not mapped");
                    // Writable, and not executable where the mode can say so.
                    Assert.Equal(Entries.Expressible<TMode>(PageProtection.Writable) & (PageProtection.Writable | PageProtection.Executable),
                        translation.Protection & (PageProtection.Writable | PageProtection.Executable));
                    PfnEntry* entry = db.Entry(PageFrameNumber.Of(translation.Address, TMode.PageShift));
                    Assert.Equal((PageState.Active, PageUse.Pool), (entry->State, entry->Use));
                    Assert.Equal(type == PoolType.Paged, (entry->Attributes & PfnDatabase.PageableAttribute) != 0);
                    Assert.Equal(TMode.SelfMapIndex >= 0 ? SelfMap<TMode>.LeafEntry(new VirtualAddress(at)).Value : 0, entry->PteAddress);
                    mapped.Add(at);
                }
            }
            // Unless the pool begins in the last-level table the database's end already has (a 16 KiB table spans 32 MiB).
            int above = TMode.LevelShift(TMode.LevelCount - 2);
            if (initial.Start.Value >> above != (m.Region.End.Value - 1) >> above)
                Assert.True(db.CountUse(PageUse.PageTable) > tables, "the pool's region needed tables of its own");

            foreach (var (p, _) in blocks)
                AssertOk(pool->Free(ref pages, (void*)p, Tag));
            AssertOk(pool->Flush(ref pages));
            AssertOk(pool->Validate());
            Assert.Equal(0UL, db.CountUse(PageUse.Pool));
            Assert.Equal(free, db.FreeList.Count + db.ZeroedList.Count);
            Assert.Equal(tables, db.CountUse(PageUse.PageTable));
            Assert.True(db.Validate().IsOk);
            foreach (ulong at in mapped)
                Assert.False(m.Table.Translate(ref memory, new VirtualAddress(at), out _), $"0x{at:X} is still mapped");
        }
        finally
        {
            System.Runtime.InteropServices.NativeMemory.Free(pool);
        }
    }

    // ---- Corruption and misuse: each refused with its code, nothing changed -------------------------

    /// <summary>Runs <paramref name="misuse"/> and checks that the pool's counts and structure are as before.</summary>
    private static PoolProblem Unchanged(HostPool pool, Func<PoolProblem> misuse)
    {
        PoolCounters before = pool.P.Counters;
        PoolProblem problem = misuse();
        Assert.Equal(before, pool.P.Counters);
        return problem;
    }

    [Theory]
    [InlineData(100)]   // on the lookaside list after the first free
    [InlineData(1000)]  // coalesced into the free lists after the first free
    [InlineData(20000)] // big
    public void ASecondFreeIsADoubleFree(int bytes)
    {
        using var pool = NewPool();
        byte* keep = Alloc(pool, 64);
        byte* p = Alloc(pool, (ulong)bytes);
        byte* after = Alloc(pool, 64);
        AssertOk(pool.Free(p, Tag));
        PoolProblem problem = Unchanged(pool, () => pool.Free(p, Tag));
        if (bytes > 4080)
            AssertProblem(problem, BadPoolCallerCheck.PageNotAllocated);
        else
        {
            AssertProblem(problem, BadPoolCallerCheck.DoubleFree);
            Assert.Equal((ulong)p, problem.P4);
        }
        AssertOk(pool.P.Validate());
        AssertOk(pool.Free(keep, Tag));
        AssertOk(pool.Free(after, Tag));
    }

    [Fact]
    public void ADoubleFreeAfterTheBlockMergedIntoItsNeighbourIsStillSeen()
    {
        using var pool = NewPool();
        byte* a = Alloc(pool, 1000);
        byte* b = Alloc(pool, 1000);
        byte* c = Alloc(pool, 1000);
        AssertOk(pool.Free(a, Tag));
        AssertOk(pool.Free(b, Tag)); // merges into a's block: b's header is now inside a free block
        AssertProblem(Unchanged(pool, () => pool.Free(b, Tag)), BadPoolCallerCheck.DoubleFree);
        AssertOk(pool.P.Validate());
        AssertOk(pool.Free(c, Tag));
    }

    [Fact]
    public void AFreeWithAnotherTagIsRefused()
    {
        using var pool = NewPool();
        byte* p = Alloc(pool, 200, HostPool.Tag("Mine"));
        PoolProblem problem = Unchanged(pool, () => pool.Free(p, HostPool.Tag("Your")));
        AssertProblem(problem, BadPoolCallerCheck.WrongTag);
        Assert.Equal(((ulong)p, (ulong)HostPool.Tag("Your"), (ulong)HostPool.Tag("Mine")), (problem.P2, problem.P3, problem.P4));
        AssertOk(pool.Free(p, 0)); // tag 0: not checked, as ExFreePool
        AssertOk(pool.P.Validate());
    }

    [Fact]
    public void AnOverrunIntoTheNextHeaderIsCaughtWhenEitherBlockIsFreed()
    {
        using var pool = NewPool();
        byte* a = Alloc(pool, 96);  // 7 units: the header and exactly 96 bytes, no slack
        byte* b = Alloc(pool, 96);
        Assert.Equal(112L, b - a);
        a[96] ^= 0x40; // one byte too far: a bit of b's header, in its previous size (the neighbour's field, not sealed)
        PoolProblem problem = Unchanged(pool, () => pool.Free(a, Tag));
        AssertProblem(problem, BadPoolHeaderCheck.NeighboursDisagree);
        Assert.Equal(((ulong)(a - 16), 0UL, (ulong)(b - 16)), (problem.P2, problem.P3, problem.P4));
        // b's previous block would start before its page.
        problem = Unchanged(pool, () => pool.Free(b, Tag));
        AssertProblem(problem, BadPoolHeaderCheck.HeaderCorrupt);
        Assert.Equal((ulong)(b - 16), problem.P2);
        AssertProblem(pool.P.Validate(), BadPoolHeaderCheck.HeaderCorrupt);
        a[96] ^= 0x40;

        // Eight bytes too far: b's whole first word, its sealed fields too.
        *(ulong*)(a + 96) ^= 0x4141414141414141;
        problem = Unchanged(pool, () => pool.Free(a, Tag));
        AssertProblem(problem, BadPoolHeaderCheck.HeaderCorrupt);
        Assert.Equal(((ulong)(a - 16), (ulong)(b - 16)), (problem.P2, problem.P3));
        AssertProblem(Unchanged(pool, () => pool.Free(b, Tag)), BadPoolCallerCheck.NotABlock);
        AssertProblem(pool.P.Validate(), BadPoolHeaderCheck.HeaderCorrupt);
    }

    [Fact]
    public void AnOverrunOfOneByteIntoTheSlackIsCaught()
    {
        using var pool = NewPool();
        byte* p = Alloc(pool, 90); // room for 96
        p[90] = (byte)~p[90];
        PoolProblem problem = Unchanged(pool, () => pool.Free(p, Tag));
        AssertProblem(problem, BadPoolHeaderCheck.DataAfterBlockCorrupt);
        Assert.Equal(((ulong)p, 90UL), (problem.P2, problem.P3));
    }

    [Fact]
    public void AHeaderWhoseSizeWasChangedIsNotABlockAndItsNeighbourDisagrees()
    {
        using var pool = NewPool();
        byte* a = Alloc(pool, 1000);
        byte* b = Alloc(pool, 1000);
        byte* c = Alloc(pool, 1000);
        ((PoolHeader*)b - 1)->BlockSize = 40; // a size mismatch: no longer what the page says
        AssertProblem(Unchanged(pool, () => pool.Free(b, Tag)), BadPoolCallerCheck.NotABlock);
        AssertProblem(Unchanged(pool, () => pool.Free(a, Tag)), BadPoolHeaderCheck.HeaderCorrupt);
        // c's next neighbour is intact, but its previous one (b) is checked before merging: refused too.
        AssertProblem(Unchanged(pool, () => pool.Free(c, Tag)), BadPoolHeaderCheck.NeighboursDisagree);
    }

    [Fact]
    public void AFreeListLinkOverwrittenAfterTheFreeIsCaughtBeforeItIsFollowed()
    {
        using var pool = NewPool();
        byte* a = Alloc(pool, 1000);
        byte* guard = Alloc(pool, 1000);
        AssertOk(pool.Free(a, Tag)); // on the 64-unit free list
        *(ulong*)a = 0xDEADBEEF; // a use after free overwrites the encoded flink
        void* p = pool.Allocate(1000, Tag, 0, out PoolProblem problem);
        Assert.True(p == null);
        AssertProblem(problem, BadPoolHeaderCheck.ListCorrupt);
        Assert.Equal((ulong)a, problem.P2);
        AssertProblem(pool.P.Validate(), BadPoolHeaderCheck.ListCorrupt);
        _ = guard;
    }

    [Fact]
    public void ALookasideLinkOverwrittenAfterTheFreeIsCaughtBeforeItIsFollowed()
    {
        using var pool = NewPool();
        byte* a = Alloc(pool, 48);
        byte* b = Alloc(pool, 48);
        AssertOk(pool.Free(a, Tag));
        AssertOk(pool.Free(b, Tag)); // b on top, its link pointing at a
        *(ulong*)b = (ulong)a; // a plain pointer where an encoded one belongs
        // The link no longer matches its check (b's second data word): b is not handed out and its link is not followed.
        PoolCounters before = pool.P.Counters;
        void* p = pool.Allocate(48, Tag, 0, out PoolProblem problem);
        Assert.True(p == null);
        AssertProblem(problem, BadPoolHeaderCheck.ListCorrupt);
        Assert.Equal(((ulong)b, (ulong)a, 4UL), (problem.P2, problem.P3, problem.P4));
        Assert.Equal((before.Allocations, before.LookasideBlocks), (pool.P.Counters.Allocations, pool.P.Counters.LookasideBlocks));
        AssertProblem(pool.P.Validate(), BadPoolHeaderCheck.ListCorrupt);
    }

    [Fact]
    public void AParkedBlockWhosePreviousNeighbourGrowsByACoalesceIsStillHandedOut()
    {
        using var pool = NewPool();
        // One page: x, a (both for the free lists), then b, a lookaside size, then the rest of the page.
        byte* x = Alloc(pool, 600);
        byte* a = Alloc(pool, 600);
        byte* b = Alloc(pool, 48);
        Assert.True(a == x + 624 && b == a + 624, "the blocks are carved one after another");
        AssertOk(pool.Free(b, Tag)); // parked, its link check covering its header but for the previous size
        AssertOk(pool.Free(x, Tag));
        AssertOk(pool.Free(a, Tag)); // merges with x: b's previous size changes under it (one 16-bit store, see SetPrevious)
        Assert.Equal((ushort)(1248 / 16), ((PoolHeader*)b - 1)->PreviousSize);
        AssertOk(pool.P.Validate());
        Assert.True(Alloc(pool, 48) == b);
        AssertOk(pool.Free(b, Tag));
        AssertOk(pool.P.Validate());
    }

    [Fact]
    public void AParkedBlocksLinkCheckOverwrittenIsCaughtTooAndAWriteOverBothWordsAsWell()
    {
        using var pool = NewPool();
        byte* a = Alloc(pool, 48);
        byte* b = Alloc(pool, 48);
        AssertOk(pool.Free(a, Tag));
        AssertOk(pool.Free(b, Tag));
        ulong check = ((ulong*)b)[1];
        ((ulong*)b)[1] ^= 1UL << 40; // the link's check alone
        void* p = pool.Allocate(48, Tag, 0, out PoolProblem problem);
        Assert.True(p == null);
        AssertProblem(problem, BadPoolHeaderCheck.ListCorrupt);
        Assert.Equal((ulong)b, problem.P2);
        ((ulong*)b)[1] = check;
        AssertOk(pool.P.Validate());
        // A use after free that clears the block's first 16 bytes: no link and check pair either.
        ((ulong*)b)[0] = ((ulong*)b)[1] = 0;
        AssertProblem(pool.P.Validate(), BadPoolHeaderCheck.ListCorrupt);
        p = pool.Allocate(48, Tag, 0, out problem);
        Assert.True(p == null);
        AssertProblem(problem, BadPoolHeaderCheck.ListCorrupt);
        Assert.Equal(((ulong)b, 0UL), (problem.P2, problem.P3));
    }

    [Fact]
    public void AParkedHeaderOverwrittenAfterTheFreeIsCaughtWhenTheListHandsItOut()
    {
        using var pool = NewPool();
        byte* a = Alloc(pool, 48);
        AssertOk(pool.Free(a, Tag)); // parked on the lookaside list, its header sealed as parked
        AssertOk(pool.P.Validate());
        ((PoolHeader*)a - 1)->Tag ^= 0x100; // an overrun from the block before reaches the parked header
        void* p = pool.Allocate(48, Tag, 0, out PoolProblem problem);
        Assert.True(p == null);
        AssertProblem(problem, BadPoolHeaderCheck.ListCorrupt);
        Assert.Equal((ulong)a, problem.P2);
        AssertProblem(pool.P.Validate(), BadPoolHeaderCheck.HeaderCorrupt);
    }

    [Fact]
    public void AParkedBlockWrittenBackToAllocatedIsNoBlockToFree()
    {
        using var pool = NewPool();
        byte* keep = Alloc(pool, 64);
        byte* p = Alloc(pool, 64);
        AssertOk(pool.Free(p, Tag));
        // The state byte is laid over the seal unhashed: writing it back to allocated breaks the seal, so a double
        // free behind such a write is refused, not parked twice.
        ((PoolHeader*)p - 1)->State = PoolBlockState.Allocated;
        AssertProblem(Unchanged(pool, () => pool.Free(p, Tag)), BadPoolCallerCheck.NotABlock);
        ((PoolHeader*)p - 1)->State = PoolBlockState.Lookaside;
        AssertOk(pool.P.Validate());
        AssertOk(pool.Free(keep, Tag));
    }

    [Fact]
    public void AddressesThatAreNoBlockAreRefused()
    {
        using var pool = NewPool();
        byte* p = Alloc(pool, 100);
        AssertProblem(Unchanged(pool, () => pool.Free((void*)0x1000, Tag)), BadPoolCallerCheck.OutsidePool);
        AssertProblem(Unchanged(pool, () => pool.Free(pool.Region.Base + 100 * Page + 64, Tag)), BadPoolCallerCheck.PageNotAllocated);
        AssertProblem(Unchanged(pool, () => pool.Free(p + 8, Tag)), BadPoolCallerCheck.NotABlock);
        AssertProblem(Unchanged(pool, () => pool.Free(p + 16, Tag)), BadPoolCallerCheck.NotABlock);
        AssertProblem(Unchanged(pool, () => pool.Free(p - 16, Tag)), BadPoolCallerCheck.NotABigAllocation);
        AssertOk(pool.Free(p, Tag));
        AssertOk(pool.P.Validate());
    }

    [Fact]
    public void RunningOutOfPagesFailsTheAllocationAndChangesNothing()
    {
        using var pool = NewPool();
        pool.Pages.Ledger.Budget = 3;
        var blocks = new List<IntPtr>();
        while (true)
        {
            void* p = pool.Allocate(2000, Tag, 0, out PoolProblem problem);
            AssertOk(problem);
            if (p == null)
                break;
            blocks.Add((IntPtr)p);
        }
        Assert.Equal(6, blocks.Count); // two per page
        Assert.True(pool.Allocate(9000, Tag, 0, out _) == null);
        Assert.Equal(2UL, pool.P.Counters.Failures);
        AssertOk(pool.P.Validate());
        foreach (IntPtr p in blocks)
            AssertOk(pool.Free((void*)p, Tag));
        AssertOk(pool.P.Trim(ref pool.Pages));
        Assert.Equal(3L, pool.Pages.Ledger.Budget);
    }

    // ---- Special pool ----------------------------------------------------------------------------

    [Fact]
    public void SpecialPoolPutsTheAllocationAgainstAnUnmappedGuardPage()
    {
        uint special = HostPool.Tag("Spcl");
        using var pool = NewPool(specialPages: 64, specialTag: special);
        byte* p = Alloc(pool, 100, special);
        ulong va = pool.VirtualOf(p);
        Assert.Equal(pool.Config.SpecialStart.Value + Page - 112, va); // the end, rounded to 16, meets the page's end
        Assert.Equal(1UL, pool.P.Counters.SpecialAllocations);
        Assert.Equal(1L, pool.Pages.Ledger.Committed); // the guard page is never committed
        Assert.Equal(BugCheckCode.PageFaultBeyondEndOfAllocation, pool.P.ClassifySpecialFault(new VirtualAddress(va + 112)));
        Assert.Equal((BugCheckCode)0, pool.P.ClassifySpecialFault(new VirtualAddress(pool.Config.InitialStart.Value)));
        // Other tags are ordinary.
        byte* q = Alloc(pool, 100);
        Assert.Equal((BugCheckCode)0, pool.P.ClassifySpecialFault(new VirtualAddress(pool.VirtualOf(q))));
        AssertOk(pool.P.Validate());
        AssertOk(pool.Free(p, special));
        Assert.Equal(BugCheckCode.PageFaultInFreedSpecialPool, pool.P.ClassifySpecialFault(new VirtualAddress(va)));
        AssertProblem(Unchanged(pool, () => pool.Free(p, special)), BugCheckCode.SpecialPoolDetectedMemoryCorruption, (ulong)p);
        // The freed page stays unmapped and reserved while the next frees pass through the quarantine.
        var later = new List<ulong>();
        for (int i = 0; i < Pool.SpecialQuarantine - 1; i++)
        {
            byte* r = Alloc(pool, 64, special);
            Assert.NotEqual(va & ~(Page - 1), pool.VirtualOf(r) & ~(Page - 1));
            later.Add((ulong)r);
            AssertOk(pool.Free(r, special));
            Assert.Equal(BugCheckCode.PageFaultInFreedSpecialPool, pool.P.ClassifySpecialFault(new VirtualAddress(va)));
        }
        AssertOk(pool.P.Validate());
        // A zero-byte allocation still lies inside its page, 16 bytes before the guard page.
        byte* empty = Alloc(pool, 0, special);
        Assert.Equal(Page - 16, pool.VirtualOf(empty) % Page);
        AssertOk(pool.Free(empty, special));
        AssertOk(pool.Free(q, Tag));
        AssertOk(pool.P.Flush(ref pool.Pages));
        Assert.Equal(0L, pool.Pages.Ledger.Committed);
    }

    [Fact]
    public void DemandCommitMapsABigBlockPageByPageAsItIsTouched()
    {
        using var pool = new HostPool(PoolType.Paged, initialPages: 256, expansionPages: 0, demand: true);
        byte* big = Alloc(pool, 10 * Page);
        Assert.Equal(0L, pool.Pages.Ledger.Committed); // reserved only: touching it now would fault
        Assert.Equal(PoolFault.Committed, pool.Touch(big + 3 * Page + 5, out PoolProblem problem));
        AssertOk(problem);
        big[3 * Page + 5] = 42;
        Assert.Equal((1L, 1UL, 1UL), (pool.Pages.Ledger.Committed, pool.P.Counters.CommittedPages, pool.P.Counters.DemandFaults));
        Assert.Equal(PoolFault.NotPool, pool.Touch(big + 3 * Page, out _)); // committed already: a fault there is not a demand fault
        Assert.Equal(PoolFault.NotPool, pool.Touch(big + 10 * Page, out _)); // past the allocation
        pool.Pages.Ledger.Budget = 0;
        Assert.Equal(PoolFault.NoMemory, pool.Touch(big + 4 * Page, out problem)); // no frame left: the kernel bug-checks (0x4D)
        AssertOk(problem);
        pool.Pages.Ledger.Budget = long.MaxValue;
        byte* small = Alloc(pool, 100); // small blocks: committed at once (they hold headers)
        small[0] = 1;
        Assert.Equal(PoolFault.NotPool, pool.Touch(small, out _));
        AssertOk(pool.P.Validate());
        // The free gives back the one page that was committed, and the reservation.
        AssertOk(pool.Free(big, Tag));
        AssertOk(pool.Free(small, Tag));
        AssertOk(pool.P.Flush(ref pool.Pages));
        Assert.Equal((0L, 0UL), (pool.Pages.Ledger.Committed, pool.P.Counters.CommittedPages));
        AssertOk(pool.P.Validate());
    }

    [Fact]
    public void AFullSpecialRangeFallsBackToTheOrdinaryPool()
    {
        uint special = HostPool.Tag("Spcl");
        using var pool = NewPool(specialPages: 8, specialTag: special);
        var blocks = new List<IntPtr>();
        for (int i = 0; i < 10; i++)
            blocks.Add((IntPtr)Alloc(pool, 300, special));
        Assert.Equal(4UL, pool.P.Counters.SpecialAllocations); // four pairs of data and guard pages
        Assert.Equal(6UL, pool.P.Counters.SmallBlocks);
        Assert.True(pool.P.TryGetTag(special, out PoolTagStats stats));
        Assert.Equal((10UL, 3000UL), (stats.Allocations, stats.BytesInUse));
        AssertOk(pool.P.Validate());
        foreach (IntPtr p in blocks)
            AssertOk(pool.Free((void*)p, special));
        AssertOk(pool.P.Validate());
    }

    [Theory]
    [InlineData(+2, SpecialPoolCheck.BytesAfterCorrupt)]  // into the slack before the page's end
    [InlineData(-1, SpecialPoolCheck.BytesBeforeCorrupt)] // just before the allocation
    public void SpecialPoolCatchesWritesAroundTheAllocationWhenFreed(int offset, SpecialPoolCheck violation)
    {
        uint special = HostPool.Tag("Spcl");
        using var pool = NewPool(specialPages: 64, specialTag: Pool.AnyTag);
        byte* p = Alloc(pool, 100, special);
        byte* at = offset > 0 ? p + 100 + offset - 1 : p + offset;
        *at ^= 0xFF;
        PoolProblem problem = Unchanged(pool, () => pool.Free(p, special));
        Assert.Equal((BugCheckCode.SpecialPoolDetectedMemoryCorruption, (ulong)p, (ulong)at, (ulong)violation), (problem.Code, problem.P1, problem.P2, problem.P4));
        AssertProblem(Unchanged(pool, () => pool.Free(p + 16, special)), BugCheckCode.SpecialPoolDetectedMemoryCorruption, (ulong)(p + 16));
        Assert.Equal((ulong)SpecialPoolCheck.BadAddress, Unchanged(pool, () => pool.Free(p + 16, special)).P4);
    }

    [Fact]
    public void CorruptedHeadersAreCaughtByValidationToo()
    {
        using var pool = NewPool();
        byte* a = Alloc(pool, 300);
        AssertOk(pool.P.Validate());
        ((PoolHeader*)a - 1)->Tag ^= 1;
        AssertProblem(pool.P.Validate(), BadPoolHeaderCheck.HeaderCorrupt);
    }
}
