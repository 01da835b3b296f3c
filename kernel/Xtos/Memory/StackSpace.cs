using System.Runtime.CompilerServices;
using ExectOS.Threading;

namespace ExectOS.Memory
{
    /// <summary>What a kernel stack is for; the boot prints its accounting per kind.</summary>
    public enum StackKind : byte
    {
        /// <summary>A stack whose reservation is its commit (a thread's ordinary kernel stack).</summary>
        Kernel = 0,
        /// <summary>A stack that reserves more than it commits and grows on request (NT's large stacks).</summary>
        Large = 1,
        /// <summary>A stack segment a callout runs on when the current stack cannot give it the room it asked for.</summary>
        Segment = 2,
        /// <summary>The stack double faults run on.</summary>
        DoubleFault = 3,
        /// <summary>The stack non-maskable interrupts run on.</summary>
        Nmi = 4,
    }

    /// <summary>What a stack asks for: pages committed now, pages reserved for growth (at least the commit).</summary>
    public struct StackRequest
    {
        public ulong CommitBytes;
        public ulong ReserveBytes;
        public StackKind Kind;

        /// <summary>A stack that never grows: all of <paramref name="bytes"/> committed.</summary>
        public static StackRequest Fixed(ulong bytes, StackKind kind = StackKind.Kernel)
            => new StackRequest { CommitBytes = bytes, ReserveBytes = bytes, Kind = kind };

        /// <summary>A large stack: <paramref name="commitBytes"/> committed, growth up to <paramref name="reserveBytes"/>.</summary>
        public static StackRequest Growable(ulong commitBytes, ulong reserveBytes)
            => new StackRequest { CommitBytes = commitBytes, ReserveBytes = reserveBytes, Kind = StackKind.Large };
    }

    public enum StackState : byte
    {
        Unused = 0,
        Live = 1,
        /// <summary>Freed and kept for reuse: its initial commit stays mapped, the guard below it unmapped.</summary>
        Cached = 2,
    }

    /// <summary>
    /// One stack's run of system PTE slots: the lowest slot is never mapped (the last guard page, when the
    /// stack has grown to its whole reservation); above it <see cref="ReservedPages"/> pages, of which the top
    /// <see cref="CommittedPages"/> are mapped. The page just below the committed part is the guard page.
    /// </summary>
    public struct StackRecord
    {
        public ulong GuardSlot;
        public ulong ReservedPages;
        public ulong CommittedPages;
        /// <summary>The commit it was created with: shrinking never goes below it.</summary>
        public ulong InitialPages;
        /// <summary>How deep the stack has been used, in bytes, as last measured.</summary>
        public ulong DeepestUse;
        /// <summary>For a segment: the stack its callout was made from (-1: the boot stack).</summary>
        public int Previous;
        public StackKind Kind;
        public StackState State;
    }

    /// <summary>One kind's stacks, as the boot line prints them.</summary>
    public struct StackUsage
    {
        public ulong Live;
        public ulong Committed;
        public ulong Reserved;
        public ulong Cached;
        public ulong DeepestUse;

        public void Add(in StackUsage other)
        {
            Live += other.Live;
            Committed += other.Committed;
            Reserved += other.Reserved;
            Cached += other.Cached;
            if (other.DeepestUse > DeepestUse)
                DeepestUse = other.DeepestUse;
        }
    }

    /// <summary>
    /// The kernel stacks' state: the system PTE slots they take, a record per stack (live or cached), the
    /// dead-stack cache's bounds, which stack the processor runs on, and the deepest use seen per kind.
    /// The operations that map and unmap are in <see cref="KernelStacks{TMode, TCache}"/>.
    /// </summary>
    public unsafe struct StackSpace
    {
        /// <summary>Stacks tracked at once, live and cached.</summary>
        public const int Capacity = 512;
        /// <summary>Cached stacks at most, and at most this many of one size.</summary>
        public const int CacheLimit = 16, CacheLimitPerSize = 4;
        /// <summary>Callout segments at most in one chain (NT limits its stack expansion the same way).</summary>
        public const int NestingLimit = 8;
        /// <summary>Growth commits at least this many bytes at a time (rounded up to pages).</summary>
        public const ulong GrowStepBytes = 16 * 1024;
        public const int KindCount = 5;
        /// <summary>The record number of the stack the loader handed over, which is not in this space.</summary>
        public const int BootStack = -1;
        /// <summary>Processors whose current stack is kept (a processor's number indexes it).</summary>
        public const int MaxProcessors = 64;

        /// <summary>The stack lock: held for every change of the records and the slots (see <see cref="LockedStacks{TMode, TCache, TLocks}"/>).</summary>
        public QueuedSpinLock Lock;

        public SystemPteSpace Ptes;
        private Records _records;
        private Deepest _deepest;
        private CurrentStacks _current;
        private int _pageShift;

        /// <summary>The loader's stack (the boot processor's first): [BootBase, BootTop).</summary>
        public VirtualAddress BootBase, BootTop;
        public ulong CacheHits;
        public ulong PagesGrown;
        public ulong PagesShrunk;
        public ulong SegmentsMade;

        public readonly int PageShift => _pageShift;

        public StackError Initialize(VirtualAddress start, ulong pages, int pageShift)
        {
            StackError error = Ptes.Initialize(start, pages, pageShift);
            if (error != StackError.None)
                return error;
            _pageShift = pageShift;
            _records = default;
            _deepest = default;
            for (int processor = 0; processor < MaxProcessors; processor++)
                _current[processor] = BootStack;
            BootBase = BootTop = default;
            CacheHits = PagesGrown = PagesShrunk = SegmentsMade = 0;
            return StackError.None;
        }

        public StackRecord* Record(int id) => (StackRecord*)Unsafe.AsPointer(ref _records[id]);

        /// <summary>The lowest address a stack can grow to (just above its last guard slot).</summary>
        public readonly VirtualAddress Limit(in StackRecord record) => Ptes.AddressOf(record.GuardSlot + 1);

        public readonly VirtualAddress Top(in StackRecord record) => Ptes.AddressOf(record.GuardSlot + 1 + record.ReservedPages);

        /// <summary>The lowest committed address.</summary>
        public readonly VirtualAddress Base(in StackRecord record) => Ptes.AddressOf(record.GuardSlot + 1 + record.ReservedPages - record.CommittedPages);

        public KernelStack Handle(int id)
        {
            StackRecord* record = Record(id);
            return new KernelStack
            {
                Base = Base(*record),
                Top = Top(*record),
                Pages = record->CommittedPages,
                Limit = Limit(*record),
                ReservedPages = record->ReservedPages,
                Id = id,
                Kind = record->Kind,
            };
        }

        /// <summary>The live stack whose top is <paramref name="top"/>, or -1.</summary>
        public int FindLive(VirtualAddress top)
        {
            int id = FindContaining(top + ~0UL);
            return id >= 0 && Record(id)->State == StackState.Live && Top(*Record(id)) == top ? id : -1;
        }

        /// <summary>The stack (live or cached) whose slots, guard included, hold <paramref name="address"/>, or -1.</summary>
        public int FindContaining(VirtualAddress address)
        {
            ulong slot = Ptes.SlotOf(address);
            if (slot == ulong.MaxValue || !Ptes.Find(slot, out ulong first, out _))
                return -1;
            for (int id = 0; id < Capacity; id++)
            {
                if (_records[id].State != StackState.Unused && _records[id].GuardSlot == first)
                    return id;
            }
            return -1;
        }

        /// <summary>A record for a new stack, or -1 when all are taken.</summary>
        public int NewRecord()
        {
            for (int id = 0; id < Capacity; id++)
            {
                if (_records[id].State == StackState.Unused)
                    return id;
            }
            return -1;
        }

        /// <summary>A cached stack of exactly this shape, made live again; -1 when none is cached.</summary>
        public int TakeCached(ulong reservedPages, ulong initialPages, StackKind kind)
        {
            for (int id = 0; id < Capacity; id++)
            {
                ref StackRecord record = ref _records[id];
                if (record.State == StackState.Cached && record.ReservedPages == reservedPages && record.InitialPages == initialPages && record.Kind == kind)
                {
                    record.State = StackState.Live;
                    record.Previous = BootStack;
                    CacheHits++;
                    return id;
                }
            }
            return -1;
        }

        /// <summary>Whether a freed stack of this shape may be kept: double-fault and NMI stacks never are.</summary>
        public readonly bool MayCache(in StackRecord stack)
        {
            if (stack.Kind is StackKind.DoubleFault or StackKind.Nmi)
                return false;
            int all = 0, same = 0;
            for (int id = 0; id < Capacity; id++)
            {
                if (_records[id].State != StackState.Cached)
                    continue;
                all++;
                if (_records[id].ReservedPages == stack.ReservedPages && _records[id].InitialPages == stack.InitialPages && _records[id].Kind == stack.Kind)
                    same++;
            }
            return all < CacheLimit && same < CacheLimitPerSize;
        }

        /// <summary>Cached stacks, or -1 for the first cached record from <paramref name="from"/> on.</summary>
        public int NextCached(int from)
        {
            for (int id = from; id < Capacity; id++)
            {
                if (_records[id].State == StackState.Cached)
                    return id;
            }
            return -1;
        }

        /// <summary>The stack <paramref name="processor"/> runs on: a record, or <see cref="BootStack"/> (the loader's, or one not from this space).</summary>
        public readonly int CurrentOn(uint processor) => processor < MaxProcessors ? _current[(int)processor] : BootStack;

        public void SetCurrent(uint processor, int id)
        {
            if (processor < MaxProcessors)
                _current[(int)processor] = id;
        }

        /// <summary>Whether some processor runs on the stack.</summary>
        public readonly bool IsCurrentAnywhere(int id)
        {
            for (int processor = 0; processor < MaxProcessors; processor++)
            {
                if (_current[processor] == id)
                    return true;
            }
            return false;
        }

        /// <summary>How many segments lie between <paramref name="processor"/>'s current stack and the first stack that is not one.</summary>
        public int SegmentDepth(uint processor)
        {
            int depth = 0;
            for (int id = CurrentOn(processor); id >= 0 && _records[id].Kind == StackKind.Segment && depth <= Capacity; id = _records[id].Previous)
                depth++;
            return depth;
        }

        public void NoteUse(StackKind kind, ulong bytes)
        {
            if (bytes > _deepest[(int)kind])
                _deepest[(int)kind] = bytes;
        }

        /// <summary>One kind's stacks (deepest use as last measured; see <see cref="KernelStacks{TMode, TCache}.Measure"/>).</summary>
        public StackUsage Usage(StackKind kind)
        {
            StackUsage usage = default;
            for (int id = 0; id < Capacity; id++)
            {
                ref StackRecord record = ref _records[id];
                if (record.Kind != kind || record.State == StackState.Unused)
                    continue;
                if (record.State == StackState.Cached)
                {
                    usage.Cached++;
                    continue;
                }
                usage.Live++;
                usage.Committed += record.CommittedPages;
                usage.Reserved += record.ReservedPages;
            }
            usage.DeepestUse = _deepest[(int)kind];
            return usage;
        }

        [InlineArray(Capacity)]
        private struct Records
        {
            private StackRecord _element;
        }

        [InlineArray(MaxProcessors)]
        private struct CurrentStacks
        {
            private int _element;
        }

        [InlineArray(KindCount)]
        private struct Deepest
        {
            private ulong _element;
        }
    }
}
