using System;
using ExectOS.Boot;

namespace ExectOS.Memory
{
    /// <summary>
    /// Building the PFN database in a paging mode's address space: which frames to take for its backing
    /// pages and their tables, mapping them, and accounting for every mapped frame afterwards (page
    /// tables, the loader's pages, the database itself), so no page the system uses looks free.
    /// </summary>
    public static unsafe class PfnBuild<TMode> where TMode : struct, IPagingMode
    {
        private static int Leaf => TMode.LevelCount - 1;

        /// <summary>
        /// The whole build, as the kernel runs it at start-up: size the database from the map's top of RAM,
        /// check that the layout's region holds it, work out its backing pages, take frames for them and
        /// their tables from the largest free run, map them, fill the entries (through <paramref name="view"/>:
        /// the region itself in the kernel, host memory in tests), account for every mapped frame, validate.
        /// </summary>
        public static PfnBuildReport Build<TMemory>(ref TMemory memory, PageTable<TMode> table, ReadOnlySpan<LoaderMemoryDescriptor> map, LayoutRegion region, PfnEntry* view, PfnDatabase* database)
            where TMemory : struct, IPhysicalMemory
        {
            var report = new PfnBuildReport { Pages = MemoryMap.RamPages(map) };
            if (report.Pages * (ulong)sizeof(PfnEntry) > region.Size)
                return report.Fail(PfnBuildError.RegionTooSmall, report.Pages, region.Size);

            BackingArray storage = default;
            Span<PageRun> backing = System.Runtime.InteropServices.MemoryMarshal.CreateSpan(ref storage.First, PfnDatabase.MaxRuns);
            int runs = PfnDatabase.BackingRuns(map, report.Pages, TMode.PageShift, backing);
            if (runs < 0)
                return report.Fail(PfnBuildError.TooManyRuns, (ulong)map.Length, 0);
            backing = backing.Slice(0, runs);
            for (int r = 0; r < runs; r++)
                report.BackingPages += backing[r].Count;
            report.TableBound = TableBound(region.Start, backing);
            if (!FindFrames(map, report.BackingPages + report.TableBound, out ulong first))
                return report.Fail(PfnBuildError.NoFrames, report.BackingPages, report.TableBound);
            report.FirstFrame = first;

            var frames = new RunAllocator(new PhysicalAddress(first << TMode.PageShift), report.BackingPages, TMode.PageShift);
            ulong tablesStart = first + report.BackingPages;
            var tables = new RunAllocator(new PhysicalAddress(tablesStart << TMode.PageShift), report.TableBound, TMode.PageShift);
            MapStatus status = MapBacking(ref memory, table, region.Start, backing, ref frames, ref tables);
            report.TablePages = (tables.Next >> TMode.PageShift) - tablesStart;
            if (status != MapStatus.Done || tables.Returned != 0)
                return report.Fail(PfnBuildError.MapFailed, (ulong)status, tables.Returned);

            EarlyArray early = default;
            Span<EarlyAllocation> taken = System.Runtime.InteropServices.MemoryMarshal.CreateSpan(ref early.First, 2);
            taken[0] = new EarlyAllocation(new PageRun(first, tablesStart), PageUse.PfnDatabase);
            taken[1] = new EarlyAllocation(new PageRun(tablesStart, tablesStart + report.TablePages), PageUse.PageTable);
            report.Problem = database->Initialize(view, report.Pages, TMode.PageShift, map, taken);
            if (!report.Problem.IsOk)
                return report.Fail(PfnBuildError.Database, 0, 0);
            report.Problem = Account(ref memory, table, database);
            if (!report.Problem.IsOk)
                return report.Fail(PfnBuildError.Accounting, 0, 0);
            report.Problem = database->Validate();
            if (!report.Problem.IsOk)
                return report.Fail(PfnBuildError.Database, 0, 0);
            return report;
        }

        /// <summary>
        /// An upper bound of the tables mapping <paramref name="backing"/> can need: for each run, at every
        /// level below the root, the tables its span touches.
        /// </summary>
        public static ulong TableBound(VirtualAddress region, ReadOnlySpan<PageRun> backing)
        {
            ulong tables = 0;
            for (int r = 0; r < backing.Length; r++)
            {
                ulong first = region.Value + (backing[r].Start << TMode.PageShift);
                ulong last = region.Value + (backing[r].End << TMode.PageShift) - 1;
                for (int level = 1; level < TMode.LevelCount; level++)
                {
                    int span = TMode.LevelShift(level - 1);
                    tables += ((last >> span) - (first >> span)) + 1;
                }
            }
            return tables;
        }

        /// <summary>
        /// Picks frames for <paramref name="pages"/> pages: the largest free run of the map that holds them,
        /// the pages at its start. False when no free run is big enough.
        /// </summary>
        public static bool FindFrames(ReadOnlySpan<LoaderMemoryDescriptor> map, ulong pages, out ulong firstPage)
        {
            firstPage = 0;
            ulong best = 0;
            for (int i = 0; i < map.Length; i++)
            {
                if (LoaderMemoryDescriptor.IsFree(map[i].Type) && map[i].PageCount >= pages && map[i].PageCount > best
                    && TMode.CanHoldPage(Leaf, new PhysicalAddress((map[i].EndPage - 1) << TMode.PageShift)))
                {
                    best = map[i].PageCount;
                    firstPage = map[i].BasePage;
                }
            }
            return best != 0;
        }

        /// <summary>
        /// Maps each backing run at its place in the database region, writable and not executable, on
        /// consecutive frames from <paramref name="frames"/>; tables come from <paramref name="tables"/>.
        /// The addresses were not mapped before, so no translation needs flushing.
        /// </summary>
        public static MapStatus MapBacking<TMemory, TTables>(ref TMemory memory, PageTable<TMode> table, VirtualAddress region, ReadOnlySpan<PageRun> backing, ref RunAllocator frames, ref TTables tables)
            where TMemory : struct, IPhysicalMemory
            where TTables : struct, IFrameAllocator
        {
            for (int r = 0; r < backing.Length; r++)
            {
                ulong count = backing[r].Count;
                PhysicalAddress first = new PhysicalAddress(frames.Next);
                for (ulong i = 0; i < count; i++)
                {
                    if (!frames.TryAllocate(out _))
                        return MapStatus.OutOfMemory;
                }
                MapStatus status = table.MapRange(ref memory, ref tables, region + (backing[r].Start << TMode.PageShift), first, count, Leaf, PageProtection.Writable, out _);
                if (status != MapStatus.Done)
                    return status;
            }
            return MapStatus.Done;
        }

        /// <summary>
        /// Walks the tables and tells the database of every table frame and every mapped frame, with the
        /// self-map address of the entry that maps it (ExectOS #25: page tables and loader allocations
        /// accounted). Stops at the first problem.
        /// </summary>
        public static PfnProblem Account<TMemory>(ref TMemory memory, PageTable<TMode> table, PfnDatabase* database)
            where TMemory : struct, IPhysicalMemory
        {
            var tables = new TableAccounting { Database = database };
            table.VisitTables(ref memory, ref tables);
            if (!tables.Problem.IsOk)
                return tables.Problem;
            var pages = new PageAccounting { Database = database };
            table.VisitPages(ref memory, ref pages);
            return pages.Problem;
        }

        /// <summary>The entry that maps a frame at <paramref name="level"/> covering <paramref name="address"/>, where the self-map reaches it (else 0).</summary>
        public static ulong EntryOf(VirtualAddress address, int level)
            => SelfMap<TMode>.Reaches(address, level) ? SelfMap<TMode>.EntryAddress(address, level).Value : 0;

        private struct TableAccounting : ITableVisitor
        {
            public PfnDatabase* Database;
            public PfnProblem Problem;

            public bool VisitTable(PhysicalAddress table, int level, VirtualAddress firstAddress)
            {
                Problem = Database->AccountMapping(PageFrameNumber.Of(table, TMode.PageShift), EntryOf(firstAddress, level - 1), true);
                return Problem.IsOk;
            }
        }

        private struct PageAccounting : IPageVisitor
        {
            public PfnDatabase* Database;
            public PfnProblem Problem;

            public bool Visit(VirtualAddress address, PhysicalAddress frame, int level, PageProtection protection)
            {
                ulong frames = 1UL << (TMode.LevelShift(level) - TMode.PageShift);
                ulong entry = EntryOf(address, level);
                for (ulong i = 0; i < frames; i++)
                {
                    Problem = Database->AccountMapping(PageFrameNumber.Of(frame, TMode.PageShift) + i, entry, false);
                    if (!Problem.IsOk)
                        return false;
                }
                return true;
            }
        }

        [System.Runtime.CompilerServices.InlineArray(PfnDatabase.MaxRuns)]
        private struct BackingArray
        {
            public PageRun First;
        }

        [System.Runtime.CompilerServices.InlineArray(2)]
        private struct EarlyArray
        {
            public EarlyAllocation First;
        }
    }

    /// <summary>Where a PFN database build stopped; the kernel's MEMORY_MANAGEMENT parameter 1 is <c>MemoryManagementCheck.PfnBuild</c> + this.</summary>
    public enum PfnBuildError
    {
        None = 0,
        /// <summary>The layout's database region cannot hold an entry per frame (detail: frames, region bytes).</summary>
        RegionTooSmall = 1,
        /// <summary>The map has more separate runs than the database keeps (detail: descriptors).</summary>
        TooManyRuns = 2,
        /// <summary>No free run holds the backing pages and their tables (detail: backing pages, table bound).</summary>
        NoFrames = 3,
        /// <summary>Mapping the backing pages failed (detail: the map status, tables given back).</summary>
        MapFailed = 4,
        /// <summary>Filling or validating the entries failed (see the problem).</summary>
        Database = 5,
        /// <summary>A mapped frame contradicts the database (see the problem).</summary>
        Accounting = 6,
    }

    /// <summary>What a build did, or where it stopped.</summary>
    public struct PfnBuildReport
    {
        public PfnBuildError Error;
        public ulong Detail;
        public ulong Extra;
        public PfnProblem Problem;
        /// <summary>Frames described: the top of RAM, in pages.</summary>
        public ulong Pages;
        /// <summary>Pages of the region that hold entries of described frames.</summary>
        public ulong BackingPages;
        public ulong TableBound;
        /// <summary>Tables the backing needed.</summary>
        public ulong TablePages;
        public ulong FirstFrame;

        public readonly bool IsOk => Error == PfnBuildError.None;

        internal PfnBuildReport Fail(PfnBuildError error, ulong detail, ulong extra)
        {
            Error = error;
            Detail = detail;
            Extra = extra;
            return this;
        }
    }
}
