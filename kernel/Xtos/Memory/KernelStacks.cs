using System;
using System.Runtime.CompilerServices;

// The table allocator points at the caller's physical-memory struct (it must share its state: the kernel's
// hyperspace window caches which frame it shows). Hosted tests' memory holds a class reference, which
// makes the struct "managed" to the compiler; it lives on the caller's stack for the whole call.
#pragma warning disable CS8500

namespace ExectOS.Memory
{
    /// <summary>What went wrong with a stack request; every error changed nothing.</summary>
    public enum StackError : uint
    {
        None = 0,
        /// <summary>Zero bytes, or more pages than the system PTE region has.</summary>
        BadSize = 1,
        /// <summary>No run of free system PTEs is long enough.</summary>
        NoAddressSpace = 2,
        /// <summary>The PFN database has no page left for the stack or its tables.</summary>
        NoPages = 3,
        /// <summary>A free names an address where no stack starts.</summary>
        NotAStack = 4,
        /// <summary>A free gives another size than the stack was allocated with.</summary>
        WrongSize = 5,
        /// <summary>A stack page's mapping or PFN entry is not what the allocation made (see the PFN problem).</summary>
        Corrupt = 6,
        /// <summary>The region is larger than the allocator can track.</summary>
        RegionTooLarge = 7,
        /// <summary>Growth past the stack's reservation: NT's STATUS_STACK_OVERFLOW (0xC00000FD).</summary>
        Overflow = 8,
        /// <summary>Every stack record is taken (see <see cref="StackSpace.Capacity"/>).</summary>
        TooManyStacks = 9,
        /// <summary>A callout would need more nested stack segments than <see cref="StackSpace.NestingLimit"/>.</summary>
        NestingLimit = 10,
        /// <summary>The stack named is one a processor runs on (a free), or not the one this processor runs on (the end of a callout).</summary>
        Current = 11,
    }

    /// <summary>
    /// A kernel stack as its owner sees it: committed pages [Base, Top), the not-present guard page just below
    /// Base, growth possible down to Limit (a large stack; Limit == Base for the others).
    /// </summary>
    public struct KernelStack
    {
        public VirtualAddress Base;
        public VirtualAddress Top;
        /// <summary>Committed pages.</summary>
        public ulong Pages;
        public VirtualAddress Limit;
        public ulong ReservedPages;
        /// <summary>Its record in the <see cref="StackSpace"/>.</summary>
        public int Id;
        public StackKind Kind;
    }

    /// <summary>How a callout got its stack (see <see cref="KernelStacks{TMode, TCache}.BeginCallout"/>).</summary>
    public enum CalloutKind : byte
    {
        /// <summary>The current stack had the room: call the function where we are.</summary>
        Direct = 0,
        /// <summary>The current stack grew within its reservation: call where we are.</summary>
        Grown = 1,
        /// <summary>A new segment: switch to <see cref="Callout.Top"/>, call, and end the callout.</summary>
        Segment = 2,
    }

    public struct Callout
    {
        public CalloutKind Kind;
        /// <summary>The segment's record (a segment callout).</summary>
        public int Segment;
        /// <summary>The stack the callout was made from.</summary>
        public int Previous;
        /// <summary>Where the function's stack starts (a segment callout).</summary>
        public VirtualAddress Top;
    }

    /// <summary>What the stacks know about a faulting address below a live stack's committed pages.</summary>
    public struct StackOverflow
    {
        public int Stack;
        public StackKind Kind;
        public VirtualAddress Base;
        public VirtualAddress Top;
        /// <summary>The address is the guard page itself (else it is deeper in the uncommitted reserve).</summary>
        public bool InGuardPage;
        public ulong CommittedPages;
        public ulong ReservedPages;
    }

    /// <summary>Page tables for kernel mappings from the PFN database: zeroed pages of use PageTable.</summary>
    public unsafe struct PfnTableAllocator<TMemory> : IFrameAllocator where TMemory : struct, IPhysicalMemory
    {
        public PfnDatabase* Database;
        public TMemory* Memory;
        public PfnProblem Problem;

        public bool TryAllocate(out PhysicalAddress frame)
        {
            PfnProblem problem = Database->AllocatePage(ref *Memory, PageUse.PageTable, true, out PageFrameNumber page);
            frame = page.ToAddress(Database->PageShift);
            if (problem.IsCorruption)
                Problem = problem;
            return problem.IsOk;
        }

        public void Free(PhysicalAddress frame)
        {
            PfnProblem problem = Database->FreePage(PageFrameNumber.Of(frame, Database->PageShift), PageUse.PageTable);
            if (!problem.IsOk)
                Problem = problem;
        }
    }

    /// <summary>
    /// Kernel stacks in the system PTE region. Each is a run of slots: the lowest never mapped, the reservation
    /// above it, the committed pages at the top (from the PFN database, zeroed, writable, not executable) with
    /// the guard page right below them. Large stacks grow on request (<see cref="Grow"/>) and shrink back
    /// (<see cref="Shrink"/>); a callout that needs more than the current stack can give runs on a segment
    /// (<see cref="BeginCallout"/>); freed stacks of common shapes are cached and handed out again before new
    /// frames and PTEs are taken. A free must give the reservation the stack was allocated with. Same code in
    /// the kernel (live tables, TLB flushed through <typeparamref name="TCache"/>) and in hosted tests.
    /// </summary>
    public static unsafe class KernelStacks<TMode, TCache>
        where TMode : struct, IPagingMode
        where TCache : struct, ITranslationCache
    {
        /// <summary>
        /// Bytes a callout keeps beyond what it asks for: its own frames between the check and the call, and room for
        /// the next callout's growth code (table walk, frame allocation) to run on the same stack.
        /// </summary>
        public const ulong CalloutSlack = 4096;

        private static int Leaf => TMode.LevelCount - 1;

        private static ulong PageBytes => 1UL << TMode.PageShift;

        public static ulong PagesFor(ulong bytes) => (bytes + PageBytes - 1) >> TMode.PageShift;

        /// <summary>A fixed kernel stack of <paramref name="bytes"/>.</summary>
        public static StackError Allocate<TMemory>(ref TMemory memory, PageTable<TMode> table, StackSpace* space, PfnDatabase* pfn, ulong bytes, out KernelStack stack, out PfnProblem problem)
            where TMemory : struct, IPhysicalMemory
            => Allocate(ref memory, table, space, pfn, StackRequest.Fixed(bytes), out stack, out problem);

        /// <summary>
        /// A stack as requested: a cached one of the same shape if there is one; else new slots and pages. When
        /// pages, slots or records run out while stacks are cached, the cache is given back and it is tried again.
        /// </summary>
        public static StackError Allocate<TMemory>(ref TMemory memory, PageTable<TMode> table, StackSpace* space, PfnDatabase* pfn, in StackRequest request, out KernelStack stack, out PfnProblem problem)
            where TMemory : struct, IPhysicalMemory
        {
            stack = default;
            problem = default;
            ulong commit = PagesFor(request.CommitBytes);
            ulong reserve = PagesFor(request.ReserveBytes > request.CommitBytes ? request.ReserveBytes : request.CommitBytes);
            if (request.CommitBytes == 0 || reserve >= space->Ptes.Count || (int)request.Kind >= StackSpace.KindCount)
                return StackError.BadSize;
            int id = space->TakeCached(reserve, commit, request.Kind);
            if (id < 0)
            {
                StackError error = Create(ref memory, table, space, pfn, reserve, commit, request.Kind, out id, out problem);
                if (error is StackError.NoPages or StackError.NoAddressSpace or StackError.TooManyStacks && space->NextCached(0) >= 0)
                {
                    error = DropCache(ref memory, table, space, pfn, out problem);
                    if (error == StackError.None)
                        error = Create(ref memory, table, space, pfn, reserve, commit, request.Kind, out id, out problem);
                }
                if (error != StackError.None)
                    return error;
            }
            stack = space->Handle(id);
            return StackError.None;
        }

        /// <summary>
        /// Commits pages below the stack until <paramref name="lowest"/> is committed, at least
        /// <see cref="StackSpace.GrowStepBytes"/> at a time but never past the reservation; the guard page moves
        /// down with the committed part. Past the reservation: <see cref="StackError.Overflow"/>, nothing changed.
        /// </summary>
        public static StackError Grow<TMemory>(ref TMemory memory, PageTable<TMode> table, StackSpace* space, PfnDatabase* pfn, ref KernelStack stack, VirtualAddress lowest, out PfnProblem problem)
            where TMemory : struct, IPhysicalMemory
        {
            problem = default;
            StackRecord* record = LiveRecord(space, in stack);
            if (record == null)
                return StackError.NotAStack;
            VirtualAddress bottom = space->Base(*record);
            if (lowest.Value >= bottom.Value)
            {
                stack = space->Handle(stack.Id);
                return StackError.None;
            }
            if (lowest.Value < space->Limit(*record).Value)
                return StackError.Overflow;
            ulong pages = (bottom.Value - (lowest.Value & ~(PageBytes - 1))) >> TMode.PageShift;
            ulong step = PagesFor(StackSpace.GrowStepBytes), room = record->ReservedPages - record->CommittedPages;
            pages = pages < step ? step : pages;
            pages = pages > room ? room : pages;
            StackError error = Commit(ref memory, table, pfn, new VirtualAddress(bottom.Value - (pages << TMode.PageShift)), pages, out problem);
            if (error != StackError.None)
                return error;
            record->CommittedPages += pages;
            space->PagesGrown += pages;
            stack = space->Handle(stack.Id);
            return StackError.None;
        }

        /// <summary>
        /// Releases the committed pages wholly below <paramref name="inUse"/> (the lowest address still in use;
        /// 0 for none), never below the commit the stack was created with; the guard page moves up with them.
        /// </summary>
        public static StackError Shrink<TMemory>(ref TMemory memory, PageTable<TMode> table, StackSpace* space, PfnDatabase* pfn, ref KernelStack stack, VirtualAddress inUse, out ulong released, out PfnProblem problem)
            where TMemory : struct, IPhysicalMemory
        {
            released = 0;
            problem = default;
            StackRecord* record = LiveRecord(space, in stack);
            if (record == null)
                return StackError.NotAStack;
            StackError error = ShrinkRecord(ref memory, table, space, pfn, record, inUse, out released, out problem);
            stack = space->Handle(stack.Id);
            return error;
        }

        /// <summary>
        /// Frees the stack whose top is <paramref name="top"/>, reserved with <paramref name="bytes"/>: checked against
        /// its record (top, reservation, every committed page) before anything changes. A stack the cache may keep
        /// is measured, shrunk to its first commit, its used part zeroed, and kept; any other is unmapped.
        /// </summary>
        public static StackError Free<TMemory>(ref TMemory memory, PageTable<TMode> table, StackSpace* space, PfnDatabase* pfn, VirtualAddress top, ulong bytes, out PfnProblem problem)
            where TMemory : struct, IPhysicalMemory
        {
            problem = default;
            if (bytes == 0 || !top.IsAligned(TMode.PageShift))
                return StackError.NotAStack;
            int id = space->FindLive(top);
            if (id < 0)
                return StackError.NotAStack;
            StackRecord* record = space->Record(id);
            if (record->ReservedPages != PagesFor(bytes))
                return StackError.WrongSize;
            if (space->IsCurrentAnywhere(id))
                return StackError.Current;
            StackError error = CheckPages(ref memory, table, pfn, space->Base(*record), record->CommittedPages, out problem);
            if (error != StackError.None)
                return error;
            ulong used = Measure(ref memory, table, space, id);
            if (!space->MayCache(*record))
                return Destroy(ref memory, table, space, pfn, id, out problem);
            error = ShrinkRecord(ref memory, table, space, pfn, record, default, out _, out problem);
            if (error != StackError.None)
                return error;
            // The next owner finds the stack as a new one: zeroed, so its use can be measured again.
            ulong committed = record->CommittedPages << TMode.PageShift;
            used = used > committed ? committed : used;
            for (ulong done = 0; done < used;)
            {
                VirtualAddress at = new VirtualAddress(top.Value - used + done);
                ulong chunk = PageBytes - (at.Value & (PageBytes - 1));
                chunk = chunk > used - done ? used - done : chunk;
                if (!table.Translate(ref memory, at, out Translation translation))
                    return StackError.Corrupt;
                memory.Zero(translation.Address, chunk);
                done += chunk;
            }
            record->State = StackState.Cached;
            record->DeepestUse = 0;
            return StackError.None;
        }

        /// <summary>Unmaps every cached stack and gives its pages and slots back.</summary>
        public static StackError DropCache<TMemory>(ref TMemory memory, PageTable<TMode> table, StackSpace* space, PfnDatabase* pfn, out PfnProblem problem)
            where TMemory : struct, IPhysicalMemory
        {
            problem = default;
            for (int id = space->NextCached(0); id >= 0; id = space->NextCached(id + 1))
            {
                StackError error = Destroy(ref memory, table, space, pfn, id, out problem);
                if (error != StackError.None)
                    return error;
            }
            return StackError.None;
        }

        /// <summary>
        /// How deep the stack has been used: the distance from its top to the lowest word that is not zero (its
        /// pages come zeroed, and a cached stack is zeroed as deep as it was used). Kept per stack and per kind.
        /// </summary>
        public static ulong Measure<TMemory>(ref TMemory memory, PageTable<TMode> table, StackSpace* space, int id)
            where TMemory : struct, IPhysicalMemory
        {
            StackRecord* record = space->Record(id);
            VirtualAddress bottom = space->Base(*record), top = space->Top(*record);
            ulong used = 0;
            for (ulong page = 0; page < record->CommittedPages && used == 0; page++)
            {
                VirtualAddress address = bottom + (page << TMode.PageShift);
                if (!table.Translate(ref memory, address, out Translation translation))
                    continue;
                for (ulong offset = 0; offset < PageBytes; offset += 8)
                {
                    if (memory.Read64(translation.Address + offset) != 0)
                    {
                        used = top.Value - address.Value - offset;
                        break;
                    }
                }
            }
            if (used > record->DeepestUse)
                record->DeepestUse = used;
            space->NoteUse(record->Kind, record->DeepestUse);
            return record->DeepestUse;
        }

        /// <summary>
        /// Finds at least <paramref name="bytes"/> of stack for a function about to be called from a stack pointer
        /// of <paramref name="stackPointer"/>: the current stack when it has the room (<see cref="CalloutKind.Direct"/>),
        /// after growing it when its reservation allows (<see cref="CalloutKind.Grown"/>), else a new segment
        /// linked to the current stack, which becomes current (<see cref="CalloutKind.Segment"/>: run the function
        /// on <see cref="Callout.Top"/>, then <see cref="EndCallout"/>). Refused past <see cref="StackSpace.NestingLimit"/> segments.
        /// </summary>
        public static StackError BeginCallout<TMemory>(ref TMemory memory, PageTable<TMode> table, StackSpace* space, PfnDatabase* pfn, uint processor, VirtualAddress stackPointer, ulong bytes, out Callout callout, out PfnProblem problem)
            where TMemory : struct, IPhysicalMemory
        {
            problem = default;
            int current = space->CurrentOn(processor);
            callout = new Callout { Kind = CalloutKind.Direct, Segment = -1, Previous = current };
            ulong need = bytes + CalloutSlack;
            if (need < bytes || PagesFor(need) >= space->Ptes.Count)
                return StackError.BadSize;
            ulong lowest = stackPointer.Value >= need ? stackPointer.Value - need : 0;
            if (current >= 0)
            {
                StackRecord* record = space->Record(current);
                if (record->State != StackState.Live)
                    return StackError.Corrupt;
                bool onIt = stackPointer.Value >= space->Limit(*record).Value && stackPointer.Value <= space->Top(*record).Value;
                if (onIt && lowest >= space->Base(*record).Value)
                    return StackError.None;
                if (onIt && lowest != 0 && lowest >= space->Limit(*record).Value)
                {
                    KernelStack stack = space->Handle(current);
                    StackError grown = Grow(ref memory, table, space, pfn, ref stack, new VirtualAddress(lowest), out problem);
                    if (grown == StackError.None)
                        callout.Kind = CalloutKind.Grown;
                    if (grown != StackError.Overflow)
                        return grown;
                }
            }
            else if (processor == 0 && stackPointer.Value >= space->BootBase.Value && stackPointer.Value <= space->BootTop.Value && lowest != 0 && lowest >= space->BootBase.Value)
            {
                return StackError.None;
            }
            if (space->SegmentDepth(processor) >= StackSpace.NestingLimit)
                return StackError.NestingLimit;
            StackError error = Allocate(ref memory, table, space, pfn, StackRequest.Fixed(need, StackKind.Segment), out KernelStack segment, out problem);
            if (error != StackError.None)
                return error;
            space->Record(segment.Id)->Previous = current;
            space->SetCurrent(processor, segment.Id);
            space->SegmentsMade++;
            callout.Kind = CalloutKind.Segment;
            callout.Segment = segment.Id;
            callout.Top = segment.Top;
            return StackError.None;
        }

        /// <summary>After a segment callout: the stack it was made from is current again and the segment is freed (or cached).</summary>
        public static StackError EndCallout<TMemory>(ref TMemory memory, PageTable<TMode> table, StackSpace* space, PfnDatabase* pfn, uint processor, in Callout callout, out PfnProblem problem)
            where TMemory : struct, IPhysicalMemory
        {
            problem = default;
            if (callout.Kind != CalloutKind.Segment)
                return StackError.None;
            if (space->CurrentOn(processor) != callout.Segment)
                return StackError.Current;
            StackRecord* record = space->Record(callout.Segment);
            space->SetCurrent(processor, callout.Previous);
            return Free(ref memory, table, space, pfn, callout.Top, record->ReservedPages << TMode.PageShift, out problem);
        }

        /// <summary>True when <paramref name="address"/> lies below a live stack's committed pages: its guard page or the reserve below it.</summary>
        public static bool IsOverflow(StackSpace* space, VirtualAddress address, out StackOverflow overflow)
        {
            overflow = default;
            int id = space->FindContaining(address);
            if (id < 0)
                return false;
            StackRecord* record = space->Record(id);
            VirtualAddress bottom = space->Base(*record);
            if (record->State != StackState.Live || address.Value >= bottom.Value)
                return false;
            overflow = new StackOverflow
            {
                Stack = id,
                Kind = record->Kind,
                Base = bottom,
                Top = space->Top(*record),
                InGuardPage = address.Value >= bottom.Value - PageBytes,
                CommittedPages = record->CommittedPages,
                ReservedPages = record->ReservedPages,
            };
            return true;
        }

        private static StackRecord* LiveRecord(StackSpace* space, in KernelStack stack)
        {
            if (stack.Id < 0 || stack.Id >= StackSpace.Capacity)
                return null;
            StackRecord* record = space->Record(stack.Id);
            return record->State == StackState.Live && space->Top(*record) == stack.Top ? record : null;
        }

        private static StackError Create<TMemory>(ref TMemory memory, PageTable<TMode> table, StackSpace* space, PfnDatabase* pfn, ulong reserve, ulong commit, StackKind kind, out int id, out PfnProblem problem)
            where TMemory : struct, IPhysicalMemory
        {
            problem = default;
            id = space->NewRecord();
            if (id < 0)
                return StackError.TooManyStacks;
            StackError error = space->Ptes.Reserve(reserve + 1, out ulong guard);
            if (error != StackError.None)
                return error;
            VirtualAddress top = space->Ptes.AddressOf(guard + 1 + reserve);
            error = Commit(ref memory, table, pfn, new VirtualAddress(top.Value - (commit << TMode.PageShift)), commit, out problem);
            if (error != StackError.None)
            {
                space->Ptes.Release(guard, reserve + 1);
                return error;
            }
            *space->Record(id) = new StackRecord
            {
                GuardSlot = guard,
                ReservedPages = reserve,
                CommittedPages = commit,
                InitialPages = commit,
                Previous = StackSpace.BootStack,
                Kind = kind,
                State = StackState.Live,
            };
            return StackError.None;
        }

        /// <summary>Unmaps a stack's committed pages and gives its slots and record back.</summary>
        private static StackError Destroy<TMemory>(ref TMemory memory, PageTable<TMode> table, StackSpace* space, PfnDatabase* pfn, int id, out PfnProblem problem)
            where TMemory : struct, IPhysicalMemory
        {
            StackRecord* record = space->Record(id);
            problem = Decommit(ref memory, table, pfn, space->Base(*record), record->CommittedPages);
            space->Ptes.Release(record->GuardSlot, record->ReservedPages + 1);
            *record = default;
            return problem.IsOk ? StackError.None : StackError.Corrupt;
        }

        private static StackError ShrinkRecord<TMemory>(ref TMemory memory, PageTable<TMode> table, StackSpace* space, PfnDatabase* pfn, StackRecord* record, VirtualAddress inUse, out ulong released, out PfnProblem problem)
            where TMemory : struct, IPhysicalMemory
        {
            released = 0;
            problem = default;
            VirtualAddress bottom = space->Base(*record);
            // The lowest page kept: the one in use, or the first commit's lowest, whichever is lower.
            ulong keep = inUse.Value & ~(PageBytes - 1), initial = space->Top(*record).Value - (record->InitialPages << TMode.PageShift);
            keep = inUse.Value == 0 || keep > initial ? initial : keep;
            if (keep <= bottom.Value)
                return StackError.None;
            ulong pages = (keep - bottom.Value) >> TMode.PageShift;
            StackError error = CheckPages(ref memory, table, pfn, bottom, pages, out problem);
            if (error != StackError.None)
                return error;
            problem = Decommit(ref memory, table, pfn, bottom, pages);
            record->CommittedPages -= pages;
            space->PagesShrunk += pages;
            released = pages;
            return problem.IsOk ? StackError.None : StackError.Corrupt;
        }

        /// <summary>Maps <paramref name="count"/> zeroed stack pages from <paramref name="start"/> up; on failure none stays mapped.</summary>
        private static StackError Commit<TMemory>(ref TMemory memory, PageTable<TMode> table, PfnDatabase* pfn, VirtualAddress start, ulong count, out PfnProblem problem)
            where TMemory : struct, IPhysicalMemory
        {
            problem = default;
            // Consecutive pages share their tables: each map starts where the last one's walk left off.
            WalkCache walk = default;
            var tables = new PfnTableAllocator<TMemory> { Database = pfn, Memory = (TMemory*)Unsafe.AsPointer(ref memory) };
            for (ulong i = 0; i < count; i++)
            {
                VirtualAddress address = start + (i << TMode.PageShift);
                problem = pfn->AllocatePage(ref memory, PageUse.KernelStack, true, out PageFrameNumber page);
                MapStatus status = MapStatus.OutOfMemory;
                if (problem.IsOk)
                {
                    status = table.Map(ref memory, ref tables, ref walk, address, page.ToAddress(TMode.PageShift), Leaf, PageProtection.Writable, out TlbFlush flush);
                    flush.Flush<TCache>();
                    if (status == MapStatus.Done)
                        pfn->Entry(page)->PteAddress = PfnBuild<TMode>.EntryOf(address, Leaf);
                    else
                        pfn->FreePage(page, PageUse.KernelStack);
                }
                if (status != MapStatus.Done)
                {
                    if (!tables.Problem.IsOk)
                        problem = tables.Problem;
                    PfnProblem unwound = Decommit(ref memory, table, pfn, start, i);
                    if (!unwound.IsOk && !problem.IsCorruption)
                        problem = unwound;
                    return problem.IsCorruption ? StackError.Corrupt : StackError.NoPages;
                }
            }
            return StackError.None;
        }

        /// <summary>Every page in the range is mapped to an active kernel-stack frame.</summary>
        private static StackError CheckPages<TMemory>(ref TMemory memory, PageTable<TMode> table, PfnDatabase* pfn, VirtualAddress start, ulong count, out PfnProblem problem)
            where TMemory : struct, IPhysicalMemory
        {
            problem = default;
            for (ulong i = 0; i < count; i++)
            {
                if (!table.Translate(ref memory, start + (i << TMode.PageShift), out Translation translation))
                    return StackError.Corrupt;
                PageFrameNumber frame = PageFrameNumber.Of(translation.Address, TMode.PageShift);
                PfnEntry* entry = pfn->Entry(frame);
                if (entry->State != PageState.Active || entry->Use != PageUse.KernelStack)
                {
                    problem = PfnProblem.Of(PfnError.WrongUse, frame, (ulong)entry->Use, (ulong)PageUse.KernelStack);
                    return StackError.Corrupt;
                }
            }
            return StackError.None;
        }

        private static PfnProblem Decommit<TMemory>(ref TMemory memory, PageTable<TMode> table, PfnDatabase* pfn, VirtualAddress start, ulong count)
            where TMemory : struct, IPhysicalMemory
        {
            var tables = new PfnTableAllocator<TMemory> { Database = pfn, Memory = (TMemory*)Unsafe.AsPointer(ref memory) };
            for (ulong i = 0; i < count; i++)
            {
                VirtualAddress address = start + (i << TMode.PageShift);
                if (table.Unmap(ref memory, ref tables, address, out PhysicalAddress frame, out _, out TlbFlush flush) != MapStatus.Done)
                    continue;
                flush.Flush<TCache>();
                PfnProblem freed = pfn->FreePage(PageFrameNumber.Of(frame, TMode.PageShift), PageUse.KernelStack);
                if (!freed.IsOk && tables.Problem.IsOk)
                    tables.Problem = freed;
            }
            return tables.Problem;
        }
    }

    /// <summary>No translation cache to flush: tables that are not live (hosted tests, the loader).</summary>
    public struct NoTranslationCache : ITranslationCache
    {
        public static void Invalidate(VirtualAddress address) { }
    }
}
