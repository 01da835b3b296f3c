using System;
using System.Collections.Generic;
using ExectOS.Boot;
using ExectOS.Memory;
using Xunit;

namespace ExectOS.Tests.Memory;

/// <summary>
/// The database build writes a run at a time (template entries, computed links); these tests hold it to the
/// frame-at-a-time build it replaced, kept here as the reference: on random maps (holes inside database pages,
/// every loader type, runtime flags, early allocations that overlap, split runs or are empty, a top of RAM that
/// cuts a run) every byte of the entry array, every list head, tail and count, every counter and run must match.
/// </summary>
public unsafe class PfnBulkBuildTests
{
    private static readonly LoaderMemoryType[] Types = Enum.GetValues<LoaderMemoryType>()[..^1];

    [Theory]
    [InlineData(12)]
    [InlineData(14)]
    [InlineData(16)]
    public void TheBulkBuildEqualsTheFrameAtATimeBuildOnRandomMaps(int pageShift)
    {
        for (int seed = 0; seed < 300; seed++)
        {
            var random = new Random(seed * 7919 + pageShift);
            (LoaderMemoryDescriptor[] map, EarlyAllocation[] early, ulong pages) = RandomMap(random);
            Compare(map, early, pages, pageShift, random, $"seed {seed}");
        }
    }

    [Fact]
    public void TheBulkBuildEqualsTheReferenceOnTheBenchmarksPcMap()
    {
        var map = new LoaderMemoryDescriptor[]
        {
            new(LoaderMemoryType.LoaderFree, 1, 0x9F),
            new(LoaderMemoryType.LoaderFirmwarePermanent, 0xA0, 0x60, LoaderMemoryFlags.Runtime),
            new(LoaderMemoryType.LoaderFree, 0x100, 0x3FF00 - 0x800),
            new(LoaderMemoryType.LoaderSpecialMemory, 0x40000 - 0x800, 0x800),
            new(LoaderMemoryType.LoaderFirmwarePermanent, 0xFFC00, 0x400),
        };
        var early = new EarlyAllocation[] { new(new PageRun(0x200, 0x300), PageUse.PfnDatabase), new(new PageRun(0x300, 0x304), PageUse.PageTable) };
        Compare(map, early, 0x100000, 12, new Random(1), "PC map");
    }

    private static void Compare(LoaderMemoryDescriptor[] map, EarlyAllocation[] early, ulong pages, int pageShift, Random random, string what)
    {
        ulong bytes = pages * (ulong)sizeof(PfnEntry);
        byte[] garbage = new byte[bytes];
        random.NextBytes(garbage);
        byte[] expected = (byte[])garbage.Clone(), actual = (byte[])garbage.Clone();
        PfnDatabase built = default;
        var reference = new Reference();
        PfnProblem builtProblem, referenceProblem;
        fixed (byte* e = expected, a = actual)
        {
            referenceProblem = ReferenceBuild.Initialize(reference, (PfnEntry*)e, pages, pageShift, map, early);
            builtProblem = built.Initialize((PfnEntry*)a, pages, pageShift, map, early);
            Assert.Equal(referenceProblem, builtProblem);
            if (!builtProblem.IsOk)
                return;
            Assert.True(built.Validate().IsOk, $"{what}: {built.Validate().Error} at {built.Validate().Page:X}");
        }
        int differs = expected.AsSpan().CommonPrefixLength(actual);
        Assert.True(differs == expected.Length, $"{what}: first difference at byte {differs} (page {differs / sizeof(PfnEntry):X})");
        Assert.Equal(reference.FreeList, built.FreeList);
        Assert.Equal(reference.BadList, built.BadList);
        Assert.Equal(0UL, built.ZeroedList.Count);
        Assert.Equal((reference.ActivePages, reference.ReservedPages, reference.DescribedPages), (built.ActivePages, built.ReservedPages, built.DescribedPages));
        Assert.Equal(reference.Runs.Count, built.RunCount);
        for (int r = 0; r < built.RunCount; r++)
            Assert.Equal(reference.Runs[r], built.Run(r));
    }

    /// <summary>Sorted, non-overlapping descriptors with gaps of every size; early allocations inside free descriptors.</summary>
    private static (LoaderMemoryDescriptor[] Map, EarlyAllocation[] Early, ulong Pages) RandomMap(Random random)
    {
        var map = new List<LoaderMemoryDescriptor>();
        ulong page = (ulong)random.Next(0, 300);
        int count = random.Next(1, 24);
        for (int i = 0; i < count; i++)
        {
            LoaderMemoryType type = random.Next(3) == 0 ? LoaderMemoryType.LoaderFree : Types[random.Next(Types.Length)];
            ulong length = (ulong)(random.Next(4) == 0 ? random.Next(1, 4) : random.Next(1, 700));
            LoaderMemoryFlags flags = random.Next(4) == 0 ? LoaderMemoryFlags.Runtime : LoaderMemoryFlags.None;
            map.Add(new LoaderMemoryDescriptor(type, page, length, flags));
            page += length;
            page += random.Next(3) switch { 0 => 0, 1 => (ulong)random.Next(1, 130), _ => (ulong)random.Next(0, 5000) };
        }
        // Sometimes the top of RAM cuts the last descriptors (the database spans what the caller says).
        ulong pages = random.Next(4) == 0 ? (ulong)random.Next(1, (int)page + 1) : page;

        var early = new List<EarlyAllocation>();
        int takes = random.Next(0, 4);
        for (int t = 0; t < takes; t++)
        {
            // Now and then one outside free memory, which both builds must refuse alike.
            var free = random.Next(12) == 0 ? map : map.FindAll(d => LoaderMemoryDescriptor.IsFree(d.Type));
            if (free.Count == 0)
                break;
            LoaderMemoryDescriptor d = free[random.Next(free.Count)];
            ulong start = d.BasePage + (ulong)random.Next(0, (int)d.PageCount);
            ulong end = Math.Min(d.EndPage, start + (ulong)random.Next(0, 40));
            PageUse use = random.Next(5) == 0 ? PageUse.None : (PageUse)random.Next(1, 13);
            early.Add(new EarlyAllocation(new PageRun(start, end), use));
        }
        return (map.ToArray(), early.ToArray(), pages);
    }

    /// <summary>What the reference build leaves: the database's lists, counters and runs.</summary>
    private sealed class Reference
    {
        public PageList FreeList = new() { First = PfnDatabase.NoPage, Last = PfnDatabase.NoPage };
        public PageList BadList = new() { First = PfnDatabase.NoPage, Last = PfnDatabase.NoPage };
        public ulong ActivePages, ReservedPages, DescribedPages;
        public readonly List<PageRun> Runs = [];
    }

    /// <summary>The frame-at-a-time build as it was before the bulk build (tests only): clear, then one push or store per frame.</summary>
    private static class ReferenceBuild
    {
        public static PfnProblem Initialize(Reference database, PfnEntry* entries, ulong pageCount, int pageShift, ReadOnlySpan<LoaderMemoryDescriptor> map, ReadOnlySpan<EarlyAllocation> early)
        {
            List<PageRun> runs = database.Runs;
            for (int i = 0; i < map.Length; i++)
            {
                if (i > 0 && map[i].BasePage < map[i - 1].EndPage)
                    return PfnProblem.Of(PfnError.MapNotNormalized, map[i].BasePage, (ulong)i);
                ulong start = map[i].BasePage, end = Math.Min(map[i].EndPage, pageCount);
                if (start >= end)
                    continue;
                if (runs.Count > 0 && runs[^1].End == start)
                    runs[^1] = new PageRun(runs[^1].Start, end);
                else if (runs.Count == PfnDatabase.MaxRuns)
                    return PfnProblem.Of(PfnError.TooManyRuns, start, (ulong)map.Length);
                else
                    runs.Add(new PageRun(start, end));
            }
            for (int e = 0; e < early.Length; e++)
            {
                if (early[e].Pages.Count != 0 && !PfnDatabase.IsFreeRange(map, early[e].Pages))
                    return PfnProblem.Of(PfnError.EarlyAllocationNotFree, early[e].Pages.Start, early[e].Pages.Count);
            }

            ulong perPage = (1UL << pageShift) / (ulong)sizeof(PfnEntry);
            foreach (PageRun run in runs)
            {
                ulong first = run.Start / perPage * perPage;
                ulong last = Math.Min((run.End + perPage - 1) / perPage * perPage, pageCount);
                for (ulong page = first; page < last; page++)
                    entries[page] = default;
            }
            for (int i = 0; i < map.Length; i++)
            {
                ulong start = map[i].BasePage, end = Math.Min(map[i].EndPage, pageCount);
                LoaderMemoryType type = map[i].Type;
                byte attributes = (map[i].Flags & LoaderMemoryFlags.Runtime) != 0 ? (byte)1 : (byte)0;
                for (ulong page = start; page < end; page++)
                {
                    PfnEntry* entry = entries + page;
                    entry->_loaderType = (byte)type;
                    entry->Attributes = attributes;
                    entry->Next = entry->Previous = PfnDatabase.NoPage;
                    database.DescribedPages++;
                    PageUse earlyUse = EarlyUse(early, page);
                    PageUse use = PfnDatabase.UseOf(type, attributes);
                    if (earlyUse != PageUse.None)
                        Activate(database, entry, earlyUse);
                    else if (LoaderMemoryDescriptor.IsFree(type))
                        PushFront(entries, ref database.FreeList, page, PageState.Free);
                    else if (type == LoaderMemoryType.LoaderBad)
                        PushFront(entries, ref database.BadList, page, PageState.Bad);
                    else if (use is PageUse.Firmware or PageUse.FirmwareRuntime or PageUse.Special)
                    {
                        entry->State = PageState.Reserved;
                        entry->Use = use;
                        entry->ReferenceCount = 0;
                        database.ReservedPages++;
                    }
                    else
                        Activate(database, entry, use);
                }
            }
            return PfnProblem.Ok;
        }

        private static void PushFront(PfnEntry* entries, ref PageList list, ulong page, PageState state)
        {
            PfnEntry* entry = entries + page;
            entry->State = state;
            entry->Use = PageUse.None;
            entry->ReferenceCount = 0;
            entry->PteAddress = 0;
            entry->Previous = PfnDatabase.NoPage;
            entry->Next = list.First;
            if (list.First != PfnDatabase.NoPage)
                entries[list.First].Previous = page;
            else
                list.Last = page;
            list.First = page;
            list.Count++;
        }

        private static void Activate(Reference database, PfnEntry* entry, PageUse use)
        {
            entry->State = PageState.Active;
            entry->Use = use;
            entry->ReferenceCount = 1;
            entry->PteAddress = 0;
            entry->Next = entry->Previous = PfnDatabase.NoPage;
            database.ActivePages++;
        }

        private static PageUse EarlyUse(ReadOnlySpan<EarlyAllocation> early, ulong page)
        {
            for (int i = 0; i < early.Length; i++)
            {
                if (page >= early[i].Pages.Start && page < early[i].Pages.End)
                    return early[i].Use;
            }
            return PageUse.None;
        }
    }
}
