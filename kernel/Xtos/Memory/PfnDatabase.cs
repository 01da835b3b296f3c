using System;
using System.Runtime.CompilerServices;
using ExectOS.Boot;
using ExectOS.Threading;

namespace ExectOS.Memory
{
    /// <summary>Where a page frame is in its life; the free, zeroed and bad states each have a list.</summary>
    public enum PageState : byte
    {
        /// <summary>No memory-map run describes the frame (a hole that shares a database page with described frames).</summary>
        Undescribed = 0,
        Free = 1,
        Zeroed = 2,
        Bad = 3,
        /// <summary>In use: see <see cref="PageUse"/>.</summary>
        Active = 4,
        /// <summary>The firmware's for good (ROM, MMIO below the top of RAM, ACPI, runtime services): never allocated.</summary>
        Reserved = 5,
    }

    /// <summary>What an active or reserved frame is used for.</summary>
    public enum PageUse : byte
    {
        None = 0,
        /// <summary>Given out by the allocator to a caller that said nothing more.</summary>
        Allocated = 1,
        KernelImage = 2,
        /// <summary>The stack the loader started the kernel on.</summary>
        BootStack = 3,
        KernelStack = 4,
        PageTable = 5,
        PfnDatabase = 6,
        /// <summary>Loader block, memory map, mapping list, hand-off and hyperspace pages.</summary>
        LoaderData = 7,
        /// <summary>Taken before the database existed, not yet claimed by the walk that accounts for mappings.</summary>
        EarlyAllocation = 8,
        Pool = 9,
        Firmware = 10,
        FirmwareRuntime = 11,
        /// <summary>ACPI tables and NVS, persistent memory: the firmware's, with contents the OS reads.</summary>
        Special = 12,
    }

    /// <summary>
    /// One page frame's record: 32 bytes on every architecture (NT's MMPFN is 48 on amd64, Linux's
    /// struct page 64). Links are page numbers, so the same layout serves 32- and 64-bit kernels.
    /// </summary>
    public struct PfnEntry
    {
        /// <summary>Next page on the frame's list, or <see cref="PfnDatabase.NoPage"/>.</summary>
        public ulong Next;

        /// <summary>Previous page on the frame's list, or <see cref="PfnDatabase.NoPage"/>.</summary>
        public ulong Previous;

        /// <summary>Virtual address of the entry that maps the frame (through the self-map); 0 when none is known.</summary>
        public ulong PteAddress;

        /// <summary>Users of an active frame; 1 when allocated. The allocator frees only frames at 1.</summary>
        public uint ReferenceCount;

        public PageState State;
        public PageUse Use;

        /// <summary>The loader type of the run that described the frame.</summary>
        public LoaderMemoryType LoaderType => (LoaderMemoryType)_loaderType;

        internal byte _loaderType;

        /// <summary>Bit 0: the firmware's runtime services need the frame. Bit 1 (<see cref="PfnDatabase.PageableAttribute"/>): it backs pageable memory.</summary>
        public byte Attributes;
    }

    /// <summary>A run of page numbers (or of virtual pages): [Start, End).</summary>
    public struct PageRun
    {
        public ulong Start;
        public ulong End;

        public PageRun(ulong start, ulong end)
        {
            Start = start;
            End = end;
        }

        public readonly ulong Count => End - Start;
    }

    /// <summary>A doubly linked list of frames threaded through their entries, with its length.</summary>
    public struct PageList
    {
        public ulong First;
        public ulong Last;
        public ulong Count;

        internal static PageList Empty => new PageList { First = PfnDatabase.NoPage, Last = PfnDatabase.NoPage };
    }

    /// <summary>
    /// What broke. The value is parameter 1 of the bug check the kernel raises for corruption and misuse
    /// (PFN_LIST_CORRUPT, 0x4E; see ExectOS.Diagnostics.BugCheckCode).
    /// </summary>
    public enum PfnError : uint
    {
        None = 0,
        /// <summary>A list's head, tail or count disagrees with its entries (parameter 2: list, 3: page).</summary>
        ListCorrupt = 0x01,
        /// <summary>An entry on a list is in another state, or its links do not point back (2: page, 3: state).</summary>
        EntryCorrupt = 0x02,
        /// <summary>A free of a page that is already free or zeroed: a double free (2: page, 3: state).</summary>
        DoubleFree = 0x07,
        /// <summary>A free of a page that is not active: reserved, bad or undescribed (2: page, 3: state).</summary>
        FreeOfPageNotActive = 0x08,
        /// <summary>A free of a page still referenced more than once (2: page, 3: references).</summary>
        ReferenceCount = 0x09,
        /// <summary>A free of a page allocated for another use (2: page, 3: its use, 4: the use given).</summary>
        WrongUse = 0x0A,
        /// <summary>A page number outside every described run (2: page).</summary>
        PageNotDescribed = 0x0B,
        /// <summary>A mapped page the database has as free or zeroed (2: page, 3: state, 4: the mapping's entry).</summary>
        MappedFreePage = 0x0C,
        /// <summary>The state counts disagree with a scan of the entries (2: which count, 3: counted, 4: recorded).</summary>
        CountMismatch = 0x0D,
        /// <summary>A request the allocator cannot take: zero pages, an alignment not a power of two (2: count, 3: alignment).</summary>
        BadRequest = 0x0E,

        /// <summary>Not a corruption: nothing fits the request.</summary>
        OutOfPages = 0x100,

        /// <summary>Building: the map has more separate runs than the database keeps (2: runs).</summary>
        TooManyRuns = 0x201,
        /// <summary>Building: an early allocation lies outside free memory (2: page).</summary>
        EarlyAllocationNotFree = 0x202,
        /// <summary>Building: the map is not sorted or overlaps itself (2: descriptor index).</summary>
        MapNotNormalized = 0x203,
    }

    /// <summary>A PFN database error with the page and a detail that locate it.</summary>
    public struct PfnProblem
    {
        public PfnError Error;
        public ulong Page;
        public ulong Detail;
        public ulong Extra;

        public readonly bool IsOk => Error == PfnError.None;

        /// <summary>True for errors that mean the database or a caller is broken (everything but running out).</summary>
        public readonly bool IsCorruption => Error != PfnError.None && Error != PfnError.OutOfPages;

        public static PfnProblem Of(PfnError error, ulong page = 0, ulong detail = 0, ulong extra = 0)
            => new PfnProblem { Error = error, Page = page, Detail = detail, Extra = extra };

        /// <summary>A problem located at a frame (parameter 2 of the bug check is its number).</summary>
        public static PfnProblem Of(PfnError error, PageFrameNumber page, ulong detail = 0, ulong extra = 0)
            => Of(error, page.Value, detail, extra);

        public static PfnProblem Ok => default;

        public static string Describe(PfnError error) => error switch
        {
            PfnError.None => "no problem",
            PfnError.ListCorrupt => "a page list's head, tail or count is corrupt",
            PfnError.EntryCorrupt => "a page on a list is in another state or its links are broken",
            PfnError.DoubleFree => "a page was freed twice",
            PfnError.FreeOfPageNotActive => "a page that was never allocated was freed",
            PfnError.ReferenceCount => "a page still referenced was freed",
            PfnError.WrongUse => "a page was freed as another use than it was allocated for",
            PfnError.PageNotDescribed => "a page number outside the memory map",
            PfnError.MappedFreePage => "a mapped page is on a free list",
            PfnError.CountMismatch => "the page counts disagree with the entries",
            PfnError.BadRequest => "an allocation request with no pages or a bad alignment",
            PfnError.OutOfPages => "no free pages fit the request",
            PfnError.TooManyRuns => "the memory map has too many separate runs",
            PfnError.EarlyAllocationNotFree => "an early allocation lies outside free memory",
            PfnError.MapNotNormalized => "the memory map is not sorted or overlaps",
            _ => "unknown PFN database error",
        };
    }

    /// <summary>
    /// The page frame database: one <see cref="PfnEntry"/> per frame from 0 to the top of RAM, in a
    /// virtually contiguous array of which only the pages covering described runs need to exist
    /// (<see cref="BackingRuns"/>). Free, zeroed and bad frames are on lists; active and reserved frames
    /// are counted. Allocation takes single frames or aligned contiguous runs and zeroes on request;
    /// every free is checked (state, use, references) and a failed check corrupts nothing.
    /// The same code runs in the kernel and in the hosted tests, over a caller-provided entry array.
    /// </summary>
    public unsafe struct PfnDatabase
    {
        public const ulong NoPage = ulong.MaxValue;

        /// <summary><see cref="NoPage"/> as a frame number: what a failed allocation hands back.</summary>
        public static PageFrameNumber NoFrame => new PageFrameNumber(NoPage);

        /// <summary>A limit for <see cref="AllocateContiguous{TMemory}"/> that every frame is below.</summary>
        public static PageFrameNumber NoLimit => new PageFrameNumber(ulong.MaxValue);

        /// <summary>Separate described runs kept (adjacent descriptors merge into one run).</summary>
        public const int MaxRuns = 128;

        private const byte RuntimeAttribute = 1;

        /// <summary>Attribute bit 1: the frame backs pageable memory (the paged pool); a pager could take it.</summary>
        public const byte PageableAttribute = 2;

        private PfnEntry* _entries;
        private ulong _pageCount;
        private int _pageShift;
        private RunArray _runs;
        private int _runCount;

        /// <summary>NT's PFN lock: held for every change of the database and every edit or walk of the kernel's tables (see <see cref="LockedPfn{TLocks}"/>).</summary>
        public QueuedSpinLock Lock;

        public PageList FreeList;
        public PageList ZeroedList;
        public PageList BadList;
        public ulong ActivePages;
        public ulong ReservedPages;
        public ulong DescribedPages;

        /// <summary>Frames the database spans: the highest described page below the top of RAM, plus one.</summary>
        public readonly ulong PageCount => _pageCount;

        public readonly int RunCount => _runCount;

        /// <summary>log2 of the page size the database was built for.</summary>
        public readonly int PageShift => _pageShift;

        public readonly PageRun Run(int index) => _runs[index];

        /// <summary>Free and zeroed frames: what can still be allocated.</summary>
        public readonly ulong AvailablePages => FreeList.Count + ZeroedList.Count;

        /// <summary>
        /// The database's pages that hold entries of described frames, as page indices from the start of
        /// the database (merged, ascending). Only these need memory behind them. Returns the run count,
        /// or -1 when <paramref name="output"/> is too small.
        /// </summary>
        public static int BackingRuns(ReadOnlySpan<LoaderMemoryDescriptor> map, ulong pageCount, int pageShift, Span<PageRun> output)
        {
            int count = 0;
            ulong entryBytes = (ulong)sizeof(PfnEntry);
            for (int i = 0; i < map.Length; i++)
            {
                ulong start = map[i].BasePage, end = Min(map[i].EndPage, pageCount);
                if (start >= end)
                    continue;
                ulong first = start * entryBytes >> pageShift;
                ulong last = ((end * entryBytes) + (1UL << pageShift) - 1) >> pageShift;
                if (count > 0 && first <= output[count - 1].End)
                {
                    if (last > output[count - 1].End)
                        output[count - 1].End = last;
                    continue;
                }
                if (count == output.Length)
                    return -1;
                output[count++] = new PageRun(first, last);
            }
            return count;
        }

        /// <summary>
        /// Builds the database over <paramref name="entries"/> (whose backing runs must be writable) from a
        /// normalized memory map. Frames of free runs go on the free list, highest first so that low memory
        /// lasts; bad frames on the bad list; the rest are active or reserved by their loader type. Frames in
        /// <paramref name="early"/> (taken from free runs before the database existed) are active with their use.
        /// </summary>
        public PfnProblem Initialize(PfnEntry* entries, ulong pageCount, int pageShift, ReadOnlySpan<LoaderMemoryDescriptor> map, ReadOnlySpan<EarlyAllocation> early)
        {
            _entries = entries;
            _pageCount = pageCount;
            _pageShift = pageShift;
            _runCount = 0;
            FreeList = PageList.Empty;
            ZeroedList = PageList.Empty;
            BadList = PageList.Empty;
            ActivePages = ReservedPages = DescribedPages = 0;

            for (int i = 0; i < map.Length; i++)
            {
                if (i > 0 && map[i].BasePage < map[i - 1].EndPage)
                    return PfnProblem.Of(PfnError.MapNotNormalized, map[i].BasePage, (ulong)i);
                ulong start = map[i].BasePage, end = Min(map[i].EndPage, pageCount);
                if (start >= end)
                    continue;
                if (_runCount > 0 && _runs[_runCount - 1].End == start)
                    _runs[_runCount - 1].End = end;
                else if (_runCount == MaxRuns)
                    return PfnProblem.Of(PfnError.TooManyRuns, start, (ulong)map.Length);
                else
                    _runs[_runCount++] = new PageRun(start, end);
            }
            for (int e = 0; e < early.Length; e++)
            {
                if (early[e].Pages.Count != 0 && !IsFreeRange(map, early[e].Pages))
                    return PfnProblem.Of(PfnError.EarlyAllocationNotFree, early[e].Pages.Start, early[e].Pages.Count);
            }

            // Entries of holes that share a database page with described frames read as undescribed: the
            // slack before and after each run, up to its neighbours, is cleared; described entries are all written below.
            ulong perPage = (1UL << pageShift) / (ulong)sizeof(PfnEntry);
            for (int r = 0; r < _runCount; r++)
            {
                ulong before = _runs[r].Start / perPage * perPage;
                if (r > 0 && before < _runs[r - 1].End)
                    before = _runs[r - 1].End;
                ulong after = Min((_runs[r].End + perPage - 1) / perPage * perPage, pageCount);
                if (r + 1 < _runCount && after > _runs[r + 1].Start)
                    after = _runs[r + 1].Start;
                for (ulong page = before; page < _runs[r].Start; page++)
                    entries[page] = default;
                for (ulong page = _runs[r].End; page < after; page++)
                    entries[page] = default;
            }

            // One pass in ascending order, a run at a time: every entry of a run is the same template with links
            // computed from its page number, so the free and bad lists (highest page first, as one push per frame
            // in ascending order would leave them) are threaded as they are written.
            for (int i = 0; i < map.Length; i++)
            {
                ulong start = map[i].BasePage, end = Min(map[i].EndPage, pageCount);
                if (start >= end)
                    continue;
                LoaderMemoryType type = map[i].Type;
                byte attributes = (map[i].Flags & LoaderMemoryFlags.Runtime) != 0 ? RuntimeAttribute : (byte)0;
                DescribedPages += end - start;
                if (LoaderMemoryDescriptor.IsFree(type))
                    FillFree(start, end, type, attributes, early);
                else if (type == LoaderMemoryType.LoaderBad)
                    FillListed(ref BadList, start, end, Tail(PageState.Bad, PageUse.None, 0, type, attributes));
                else if (IsReservedUse(UseOf(type, attributes)))
                {
                    FillUnlisted(start, end, Tail(PageState.Reserved, UseOf(type, attributes), 0, type, attributes));
                    ReservedPages += end - start;
                }
                else
                {
                    FillUnlisted(start, end, Tail(PageState.Active, UseOf(type, attributes), 1, type, attributes));
                    ActivePages += end - start;
                }
            }
            return PfnProblem.Ok;
        }

        /// <summary>
        /// A free run's frames: those of an early allocation are active with its use (the first allocation that
        /// holds a frame decides), the rest go on the free list. Split where an
        /// allocation starts or ends, so each piece is one template.
        /// </summary>
        private void FillFree(ulong start, ulong end, LoaderMemoryType type, byte attributes, ReadOnlySpan<EarlyAllocation> early)
        {
            ulong free = Tail(PageState.Free, PageUse.None, 0, type, attributes);
            for (ulong page = start; page < end;)
            {
                ulong boundary = end;
                PageUse use = PageUse.None;
                bool held = false;
                for (int e = 0; e < early.Length; e++)
                {
                    ulong first = early[e].Pages.Start, last = early[e].Pages.End;
                    if (first > page && first < boundary)
                        boundary = first;
                    else if (first <= page && page < last)
                    {
                        if (!held)
                        {
                            use = early[e].Use;
                            held = true;
                        }
                        if (last < boundary)
                            boundary = last;
                    }
                }
                if (use != PageUse.None)
                {
                    FillUnlisted(page, boundary, Tail(PageState.Active, use, 1, type, attributes));
                    ActivePages += boundary - page;
                }
                else
                    FillListed(ref FreeList, page, boundary, free);
                page = boundary;
            }
        }

        /// <summary>
        /// Writes [<paramref name="start"/>, <paramref name="end"/>) as the new front of <paramref name="list"/>: each
        /// frame's next is the frame below it, the lowest frame's next the list's old front (the highest frame below
        /// the run), whose previous becomes the run's lowest frame.
        /// </summary>
        private void FillListed(ref PageList list, ulong start, ulong end, ulong tail)
        {
            // The links differ per frame; the entry's second half (no mapping entry, the tail) is the same for the run: the
            // first frame's is written and copied to the others as one 16-byte block (a single vector or pair store
            // where the processor has one, where four word stores would be the path's bound).
            ulong* word = (ulong*)(_entries + start);
            word[2] = 0;
            word[3] = tail;
            var rest = (EntryHalf*)(word + 2);
            for (ulong page = start; page < end; page++, word += 4)
            {
                word[0] = page - 1;
                word[1] = page + 1;
                *(EntryHalf*)(word + 2) = *rest;
            }
            _entries[start].Next = list.First;
            _entries[end - 1].Previous = NoPage;
            if (list.First != NoPage)
                _entries[list.First].Previous = start;
            else
                list.Last = start;
            list.First = end - 1;
            list.Count += end - start;
        }

        /// <summary>Writes [<paramref name="start"/>, <paramref name="end"/>) as frames on no list: no links, no mapping entry known.</summary>
        private void FillUnlisted(ulong start, ulong end, ulong tail)
        {
            // Every entry of the run is the same: the first is written and copied to the others as two 16-byte blocks.
            ulong* word = (ulong*)(_entries + start);
            word[0] = word[1] = NoPage;
            word[2] = 0;
            word[3] = tail;
            var template = (EntryHalf*)word;
            for (ulong page = start + 1; page < end; page++)
            {
                word += 4;
                *(EntryHalf*)word = template[0];
                *(EntryHalf*)(word + 2) = template[1];
            }
        }

        /// <summary>Half an entry, 16 bytes, which the compiler copies as one block (only ever copied through pointers).</summary>
        private struct EntryHalf
        {
#pragma warning disable CS0649
            public ulong First;
            public ulong Second;
#pragma warning restore CS0649
        }

        /// <summary>
        /// The last eight bytes of an entry (reference count, state, use, loader type, attributes) as one word, so
        /// an entry is written as words (and copied as 16-byte halves) whatever the byte order.
        /// </summary>
        private static ulong Tail(PageState state, PageUse use, uint references, LoaderMemoryType type, byte attributes)
        {
            PfnEntry entry = default;
            entry.ReferenceCount = references;
            entry.State = state;
            entry.Use = use;
            entry._loaderType = (byte)type;
            entry.Attributes = attributes;
            return ((ulong*)&entry)[3];
        }

        /// <summary>The use a loader type gives its frames (for types that are not free or bad).</summary>
        public static PageUse UseOf(LoaderMemoryType type, byte attributes) => type switch
        {
            LoaderMemoryType.LoaderSystemCode or LoaderMemoryType.LoaderHalCode or LoaderMemoryType.LoaderBootDriver => PageUse.KernelImage,
            LoaderMemoryType.LoaderStartupKernelStack or LoaderMemoryType.LoaderStartupDpcStack or LoaderMemoryType.LoaderStartupPanicStack => PageUse.BootStack,
            LoaderMemoryType.LoaderSpecialMemory => PageUse.Special,
            LoaderMemoryType.LoaderFirmwarePermanent or LoaderMemoryType.LoaderXIPRom or LoaderMemoryType.LoaderReserve
                or LoaderMemoryType.LoaderBBTMemory or LoaderMemoryType.LoaderHardwareCachedMemory
                => (attributes & RuntimeAttribute) != 0 ? PageUse.FirmwareRuntime : PageUse.Firmware,
            _ => PageUse.LoaderData,
        };

        private static bool IsReservedUse(PageUse use) => use is PageUse.Firmware or PageUse.FirmwareRuntime or PageUse.Special;

        /// <summary>The entry of <paramref name="page"/>; the caller has checked <see cref="IsDescribed"/>.</summary>
        public readonly PfnEntry* Entry(PageFrameNumber page) => _entries + page.Value;

        /// <summary>True when a run of the memory map describes the frame (so its entry exists).</summary>
        public readonly bool IsDescribed(PageFrameNumber page) => Described(page.Value);

        private readonly bool Described(ulong page)
        {
            int low = 0, high = _runCount - 1;
            while (low <= high)
            {
                int middle = (low + high) >> 1;
                if (page < _runs[middle].Start)
                    high = middle - 1;
                else if (page >= _runs[middle].End)
                    low = middle + 1;
                else
                    return true;
            }
            return false;
        }

        /// <summary>
        /// Takes one frame for <paramref name="use"/>: with <paramref name="zero"/>, a zeroed one if any (else a
        /// free one, cleared through <paramref name="memory"/>); without, a free one if any (else a zeroed one).
        /// </summary>
        public PfnProblem AllocatePage<TMemory>(ref TMemory memory, PageUse use, bool zero, out PageFrameNumber page) where TMemory : struct, IPhysicalMemory
        {
            page = NoFrame;
            bool fromZeroed = zero ? ZeroedList.Count != 0 : FreeList.Count == 0;
            ref PageList from = ref fromZeroed ? ref ZeroedList : ref FreeList;
            if (from.Count == 0)
                return PfnProblem.Of(PfnError.OutOfPages, 0, 1);
            ulong candidate = from.First;
            PfnProblem problem = Unlink(ref from, candidate, fromZeroed ? PageState.Zeroed : PageState.Free);
            if (!problem.IsOk)
                return problem;
            if (zero && _entries[candidate].State == PageState.Free)
                memory.Zero(new PhysicalAddress(candidate << _pageShift), 1UL << _pageShift);
            Activate(_entries + candidate, use);
            page = new PageFrameNumber(candidate);
            return PfnProblem.Ok;
        }

        /// <summary>
        /// Takes <paramref name="count"/> physically contiguous frames whose first page number is a multiple of
        /// <paramref name="alignment"/> (a power of two) and which all lie below frame <paramref name="limit"/>.
        /// The lowest fitting run is taken.
        /// </summary>
        public PfnProblem AllocateContiguous<TMemory>(ref TMemory memory, ulong count, ulong alignment, PageFrameNumber limit, PageUse use, bool zero, out PageFrameNumber first)
            where TMemory : struct, IPhysicalMemory
        {
            first = NoFrame;
            if (count == 0 || alignment == 0 || (alignment & (alignment - 1)) != 0)
                return PfnProblem.Of(PfnError.BadRequest, 0, count, alignment);
            for (int r = 0; r < _runCount; r++)
            {
                ulong end = Min(_runs[r].End, limit.Value);
                ulong start = AlignUp(_runs[r].Start, alignment);
                while (start < end && end - start >= count)
                {
                    ulong blocker = NoPage;
                    for (ulong page = start + count; page > start; page--)
                    {
                        PageState state = _entries[page - 1].State;
                        if (state != PageState.Free && state != PageState.Zeroed)
                        {
                            blocker = page - 1;
                            break;
                        }
                    }
                    if (blocker == NoPage)
                        return TakeRun(ref memory, start, count, use, zero, out first);
                    start = AlignUp(blocker + 1, alignment);
                }
            }
            return PfnProblem.Of(PfnError.OutOfPages, 0, count, alignment);
        }

        private PfnProblem TakeRun<TMemory>(ref TMemory memory, ulong start, ulong count, PageUse use, bool zero, out PageFrameNumber first) where TMemory : struct, IPhysicalMemory
        {
            first = NoFrame;
            for (ulong page = start; page < start + count; page++)
            {
                PfnProblem problem = CheckLinks(page);
                if (!problem.IsOk)
                    return problem;
            }
            for (ulong page = start; page < start + count; page++)
            {
                PageState state = _entries[page].State;
                Unlink(ref state == PageState.Zeroed ? ref ZeroedList : ref FreeList, page, state);
                if (zero && state == PageState.Free)
                    memory.Zero(new PhysicalAddress(page << _pageShift), 1UL << _pageShift);
                Activate(_entries + page, use);
            }
            first = new PageFrameNumber(start);
            return PfnProblem.Ok;
        }

        /// <summary>Adds a reference to an active frame (a second mapping, a lock).</summary>
        public PfnProblem Reference(PageFrameNumber frame)
        {
            ulong page = frame.Value;
            PfnProblem problem = CheckActive(page, PageUse.None);
            if (!problem.IsOk)
                return problem;
            _entries[page].ReferenceCount++;
            return PfnProblem.Ok;
        }

        /// <summary>Drops a reference that <see cref="Reference"/> added; the last one is dropped by <see cref="FreePage"/>.</summary>
        public PfnProblem Dereference(PageFrameNumber frame)
        {
            ulong page = frame.Value;
            PfnProblem problem = CheckActive(page, PageUse.None);
            if (!problem.IsOk)
                return problem;
            if (_entries[page].ReferenceCount < 2)
                return PfnProblem.Of(PfnError.ReferenceCount, page, _entries[page].ReferenceCount);
            _entries[page].ReferenceCount--;
            return PfnProblem.Ok;
        }

        /// <summary>Returns an active frame allocated for <paramref name="use"/> to the free list; checked first.</summary>
        public PfnProblem FreePage(PageFrameNumber page, PageUse use)
        {
            PfnProblem problem = CheckFree(page.Value, use);
            if (!problem.IsOk)
                return problem;
            Deactivate(page.Value);
            return PfnProblem.Ok;
        }

        /// <summary>Frees a run from <see cref="AllocateContiguous{TMemory}"/>: every frame is checked before any is freed.</summary>
        public PfnProblem FreeContiguous(PageFrameNumber run, ulong count, PageUse use)
        {
            ulong first = run.Value;
            if (count == 0 || first + count < first)
                return PfnProblem.Of(PfnError.BadRequest, first, count);
            for (ulong page = first; page < first + count; page++)
            {
                PfnProblem problem = CheckFree(page, use);
                if (!problem.IsOk)
                    return problem;
            }
            for (ulong page = first; page < first + count; page++)
                Deactivate(page);
            return PfnProblem.Ok;
        }

        /// <summary>Clears up to <paramref name="limit"/> free frames and moves them to the zeroed list (the idle zeroing work). Returns how many.</summary>
        public ulong ZeroFreePages<TMemory>(ref TMemory memory, ulong limit) where TMemory : struct, IPhysicalMemory
        {
            ulong done = 0;
            while (done < limit && FreeList.Count != 0)
            {
                ulong page = FreeList.First;
                if (!Unlink(ref FreeList, page, PageState.Free).IsOk)
                    break;
                memory.Zero(new PhysicalAddress(page << _pageShift), 1UL << _pageShift);
                PushFront(ref ZeroedList, page, PageState.Zeroed);
                done++;
            }
            return done;
        }

        /// <summary>
        /// Records that <paramref name="frame"/> is mapped through the entry at <paramref name="pteAddress"/>;
        /// with <paramref name="isTable"/>, that it holds a page table. Frames outside the database (MMIO)
        /// are ignored. A mapped frame must be active or reserved; a table frame must be the loader's or an
        /// early allocation, or already a table.
        /// </summary>
        public PfnProblem AccountMapping(PageFrameNumber frame, ulong pteAddress, bool isTable)
        {
            ulong page = frame.Value;
            if (page >= _pageCount || !Described(page))
                return PfnProblem.Ok;
            PfnEntry* entry = _entries + page;
            if (entry->State != PageState.Active && entry->State != PageState.Reserved)
                return PfnProblem.Of(PfnError.MappedFreePage, page, (ulong)entry->State, pteAddress);
            if (isTable)
            {
                if (entry->State != PageState.Active || (entry->Use != PageUse.LoaderData && entry->Use != PageUse.EarlyAllocation && entry->Use != PageUse.PageTable))
                    return PfnProblem.Of(PfnError.WrongUse, page, (ulong)entry->Use, (ulong)PageUse.PageTable);
                entry->Use = PageUse.PageTable;
            }
            entry->PteAddress = pteAddress;
            return PfnProblem.Ok;
        }

        /// <summary>Gives an active frame another use (early allocations once their purpose is known).</summary>
        public PfnProblem Claim(PageFrameNumber frame, PageUse from, PageUse to)
        {
            ulong page = frame.Value;
            PfnProblem problem = CheckActive(page, from);
            if (!problem.IsOk)
                return problem;
            _entries[page].Use = to;
            return PfnProblem.Ok;
        }

        /// <summary>Active frames with <paramref name="use"/>, by a scan of every described entry.</summary>
        public readonly ulong CountUse(PageUse use)
        {
            ulong count = 0;
            for (int r = 0; r < _runCount; r++)
            {
                for (ulong page = _runs[r].Start; page < _runs[r].End; page++)
                {
                    if (_entries[page].State == PageState.Active && _entries[page].Use == use)
                        count++;
                }
            }
            return count;
        }

        /// <summary>
        /// Checks the whole database: every list walked both ways (states, links, counts), every described
        /// entry scanned and the state counts compared. O(frames); for tests and boot self-checks.
        /// </summary>
        public readonly PfnProblem Validate()
        {
            PfnProblem problem = ValidateList(in FreeList, PageState.Free, 1);
            if (problem.IsOk)
                problem = ValidateList(in ZeroedList, PageState.Zeroed, 2);
            if (problem.IsOk)
                problem = ValidateList(in BadList, PageState.Bad, 3);
            if (!problem.IsOk)
                return problem;

            ulong free = 0, zeroed = 0, bad = 0, active = 0, reserved = 0, described = 0;
            for (int r = 0; r < _runCount; r++)
            {
                for (ulong page = _runs[r].Start; page < _runs[r].End; page++)
                {
                    described++;
                    PfnEntry* entry = _entries + page;
                    switch (entry->State)
                    {
                        case PageState.Free: free++; break;
                        case PageState.Zeroed: zeroed++; break;
                        case PageState.Bad: bad++; break;
                        case PageState.Active:
                            active++;
                            if (entry->ReferenceCount == 0 || entry->Next != NoPage || entry->Previous != NoPage)
                                return PfnProblem.Of(PfnError.EntryCorrupt, page, (ulong)entry->State, entry->ReferenceCount);
                            break;
                        case PageState.Reserved: reserved++; break;
                        default:
                            return PfnProblem.Of(PfnError.EntryCorrupt, page, (ulong)entry->State);
                    }
                }
            }
            if (free != FreeList.Count)
                return PfnProblem.Of(PfnError.CountMismatch, 1, free, FreeList.Count);
            if (zeroed != ZeroedList.Count)
                return PfnProblem.Of(PfnError.CountMismatch, 2, zeroed, ZeroedList.Count);
            if (bad != BadList.Count)
                return PfnProblem.Of(PfnError.CountMismatch, 3, bad, BadList.Count);
            if (active != ActivePages)
                return PfnProblem.Of(PfnError.CountMismatch, 4, active, ActivePages);
            if (reserved != ReservedPages)
                return PfnProblem.Of(PfnError.CountMismatch, 5, reserved, ReservedPages);
            if (described != DescribedPages)
                return PfnProblem.Of(PfnError.CountMismatch, 6, described, DescribedPages);
            return PfnProblem.Ok;
        }

        private readonly PfnProblem ValidateList(in PageList list, PageState state, ulong which)
        {
            ulong count = 0, previous = NoPage;
            for (ulong page = list.First; page != NoPage; page = _entries[page].Next)
            {
                if (page >= _pageCount || !Described(page) || count == list.Count)
                    return PfnProblem.Of(PfnError.ListCorrupt, which, page, count);
                PfnEntry* entry = _entries + page;
                if (entry->State != state || entry->Previous != previous)
                    return PfnProblem.Of(PfnError.EntryCorrupt, page, (ulong)entry->State, entry->Previous);
                previous = page;
                count++;
            }
            if (count != list.Count || previous != list.Last)
                return PfnProblem.Of(PfnError.ListCorrupt, which, previous, count);
            return PfnProblem.Ok;
        }

        private readonly PfnProblem CheckActive(ulong page, PageUse use)
        {
            if (page >= _pageCount || !Described(page))
                return PfnProblem.Of(PfnError.PageNotDescribed, page);
            PfnEntry* entry = _entries + page;
            if (entry->State == PageState.Free || entry->State == PageState.Zeroed)
                return PfnProblem.Of(PfnError.DoubleFree, page, (ulong)entry->State);
            if (entry->State != PageState.Active)
                return PfnProblem.Of(PfnError.FreeOfPageNotActive, page, (ulong)entry->State);
            if (use != PageUse.None && entry->Use != use)
                return PfnProblem.Of(PfnError.WrongUse, page, (ulong)entry->Use, (ulong)use);
            return PfnProblem.Ok;
        }

        private readonly PfnProblem CheckFree(ulong page, PageUse use)
        {
            PfnProblem problem = CheckActive(page, use);
            if (!problem.IsOk)
                return problem;
            if (_entries[page].ReferenceCount != 1)
                return PfnProblem.Of(PfnError.ReferenceCount, page, _entries[page].ReferenceCount);
            return PfnProblem.Ok;
        }

        /// <summary>That a listed frame's neighbours point back at it, before it is unlinked.</summary>
        private readonly PfnProblem CheckLinks(ulong page)
        {
            PfnEntry* entry = _entries + page;
            ulong next = entry->Next, previous = entry->Previous;
            if ((next != NoPage && (next >= _pageCount || _entries[next].Previous != page))
                || (previous != NoPage && (previous >= _pageCount || _entries[previous].Next != page)))
                return PfnProblem.Of(PfnError.EntryCorrupt, page, (ulong)entry->State, next);
            return PfnProblem.Ok;
        }

        private PfnProblem Unlink(ref PageList list, ulong page, PageState state)
        {
            PfnEntry* entry = _entries + page;
            if (entry->State != state)
                return PfnProblem.Of(PfnError.EntryCorrupt, page, (ulong)entry->State, (ulong)state);
            PfnProblem problem = CheckLinks(page);
            if (!problem.IsOk)
                return problem;
            if ((entry->Previous == NoPage) != (list.First == page) || (entry->Next == NoPage) != (list.Last == page) || list.Count == 0)
                return PfnProblem.Of(PfnError.ListCorrupt, (ulong)state, page, list.Count);
            if (entry->Previous == NoPage)
                list.First = entry->Next;
            else
                _entries[entry->Previous].Next = entry->Next;
            if (entry->Next == NoPage)
                list.Last = entry->Previous;
            else
                _entries[entry->Next].Previous = entry->Previous;
            list.Count--;
            entry->Next = entry->Previous = NoPage;
            return PfnProblem.Ok;
        }

        private void PushFront(ref PageList list, ulong page, PageState state)
        {
            PfnEntry* entry = _entries + page;
            entry->State = state;
            entry->Use = PageUse.None;
            entry->ReferenceCount = 0;
            entry->PteAddress = 0;
            entry->Previous = NoPage;
            entry->Next = list.First;
            if (list.First != NoPage)
                _entries[list.First].Previous = page;
            else
                list.Last = page;
            list.First = page;
            list.Count++;
        }

        private void Activate(PfnEntry* entry, PageUse use)
        {
            entry->State = PageState.Active;
            entry->Use = use;
            entry->ReferenceCount = 1;
            entry->PteAddress = 0;
            entry->Next = entry->Previous = NoPage;
            ActivePages++;
        }

        private void Deactivate(ulong page)
        {
            ActivePages--;
            PushFront(ref FreeList, page, PageState.Free);
        }

        /// <summary>True when free descriptors of the map cover <paramref name="run"/> without a gap.</summary>
        internal static bool IsFreeRange(ReadOnlySpan<LoaderMemoryDescriptor> map, PageRun run)
        {
            ulong page = run.Start;
            for (int i = 0; i < map.Length && page < run.End; i++)
            {
                if (map[i].BasePage <= page && page < map[i].EndPage)
                {
                    if (!LoaderMemoryDescriptor.IsFree(map[i].Type))
                        return false;
                    page = map[i].EndPage;
                }
            }
            return page >= run.End;
        }

        private static ulong Min(ulong a, ulong b) => a < b ? a : b;

        private static ulong AlignUp(ulong value, ulong alignment) => (value + alignment - 1) & ~(alignment - 1);

        [InlineArray(MaxRuns)]
        private struct RunArray
        {
            private PageRun _element;
        }
    }

    /// <summary>Frames the memory manager took from free runs before the database existed, and what for.</summary>
    public struct EarlyAllocation
    {
        public PageRun Pages;
        public PageUse Use;

        public EarlyAllocation(PageRun pages, PageUse use)
        {
            Pages = pages;
            Use = use;
        }
    }
}
