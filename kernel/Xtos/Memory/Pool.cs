using System.Runtime.CompilerServices;
using ExectOS.Diagnostics;
using ExectOS.Threading;

namespace ExectOS.Memory
{
    /// <summary>Where a pool lives and how it behaves; everything the pool needs from the layout and the boot.</summary>
    public struct PoolConfig
    {
        public PoolType Type;
        public int PageShift;
        /// <summary>Per-boot random value: encodes the free-list links and keys the header checks.</summary>
        public ulong Cookie;
        /// <summary>The initial region (virtual addresses); pages are taken here first.</summary>
        public VirtualAddress InitialStart;
        public ulong InitialPages;
        /// <summary>Where the pool grows once the initial region is full (0 pages: nowhere).</summary>
        public VirtualAddress ExpansionStart;
        public ulong ExpansionPages;
        /// <summary>Special-pool slots (data page, guard page pairs); 0 pages: no special pool.</summary>
        public VirtualAddress SpecialStart;
        public ulong SpecialPages;
        /// <summary>Allocations with this tag go to the special pool (<see cref="Pool.AnyTag"/>: all that fit); 0: none.</summary>
        public uint SpecialTag;
        /// <summary>Data address minus virtual address: 0 in the kernel; hosted tests keep the data elsewhere.</summary>
        public long Displacement;
        /// <summary>
        /// Big allocations only reserve their pages; each is committed when first touched (the page fault
        /// handler calls <see cref="Pool.ResolveFault"/>). The paged pool's way; small-block pages, which
        /// hold headers, are always committed at once.
        /// </summary>
        public bool DemandCommit;
    }

    /// <summary>Pool-wide counts. Block and byte counts are live ones; the rest add up.</summary>
    public struct PoolCounters
    {
        public ulong CommittedPages;
        public ulong CachedPages;
        public ulong SmallBlocks;
        public ulong BigAllocations;
        public ulong BigPages;
        public ulong SpecialAllocations;
        public ulong FreeBlocks;
        public ulong LookasideBlocks;
        /// <summary>Bytes callers asked for, over every live allocation.</summary>
        public ulong BytesInUse;
        public ulong Allocations;
        public ulong Frees;
        public ulong LookasideHits;
        public ulong Failures;
        /// <summary>Pages of big allocations committed on first touch (<see cref="PoolConfig.DemandCommit"/>).</summary>
        public ulong DemandFaults;
    }

    /// <summary>
    /// One NT-style pool (non-paged or paged): small blocks with 16-byte headers carved from pages,
    /// free lists per size in 16-byte units with split and coalesce, a lookaside list per hot size,
    /// page-granular big allocations in a hash table, optional special pool with guard pages, and
    /// statistics per tag. Pages come from an <see cref="IPoolPages"/>; the pool only takes virtual
    /// pages from its regions and calls it. Every free is checked before anything changes: a problem
    /// comes back as a bug check code with parameters, and the pool is left as it was.
    /// <para>Not synchronised: callers on several processors go through <see cref="LockedPool{TLocks}"/>, which holds <see cref="Lock"/>.</para>
    /// </summary>
    public unsafe partial struct Pool
    {
        /// <summary>
        /// Page sizes up to the largest of the build's modes (generated from the descriptors: 64 KiB where AArch64's granules
        /// are compiled), and at least 16 KiB: 1024 units per page or more.
        /// </summary>
        public const int MaxPageShift = ExectOS.Paging.PagingLimits.MaxPageShift > 14 ? ExectOS.Paging.PagingLimits.MaxPageShift : 14;
        public const int UnitShift = 4;
        public const ulong UnitSize = 1UL << UnitShift;
        /// <summary>Free lists, indexed by block size in units (2 up to a page).</summary>
        public const int ListCount = (1 << (MaxPageShift - UnitShift)) + 1;
        /// <summary>Block sizes (in units, header included) with a lookaside list: up to 512 bytes.</summary>
        public const uint LookasideMaxUnits = 32;
        /// <summary>Blocks a lookaside list holds at first before frees go back to the free lists.</summary>
        public const uint LookasideDepth = 64;
        /// <summary>
        /// The most a lookaside list grows to: a list that keeps overflowing on frees while allocations keep
        /// missing it doubles its depth up to this (NT adjusts its lookaside depths the same way).
        /// </summary>
        public const uint LookasideDepthMax = 1024;
        public const int TagCapacity = 256;
        public const int BigCapacity = 4096;
        /// <summary>Big allocations tracked at most (three quarters of the table, to keep probes short).</summary>
        public const int BigLimit = BigCapacity * 3 / 4;
        /// <summary>Wholly free small-block pages kept mapped before pages go back to the PFN database.</summary>
        public const int PageCacheCapacity = 8;
        /// <summary>A special tag that sends every allocation that fits to the special pool.</summary>
        public const uint AnyTag = 0x2A; // '*'
        /// <summary>
        /// Freed special-pool allocations kept unmapped and reserved before their address space is reused,
        /// so a use after free faults (PAGE_FAULT_IN_FREED_SPECIAL_POOL) for the next this-many frees.
        /// </summary>
        public const int SpecialQuarantine = 32;
        /// <summary>The tag the per-tag table counts in once its 256 entries are taken.</summary>
        public const uint OverflowTag = 0x6C66764F; // "Ovfl"

        private PoolType _type;
        private int _pageShift;
        private ulong _pageSize;
        private uint _pageUnits;
        private ulong _cookie;
        private long _displacement;
        private uint _specialTag;
        private bool _demand;
        // The regions' bounds (virtual), for one-compare range checks on the hot paths.
        private ulong _initialStart, _initialBytes, _expansionStart, _expansionBytes, _specialStart, _specialBytes;
        // The last tag accounted and its entry: most runs of operations use one tag.
        private uint _lastTag;
        private PoolTagStats* _lastTagEntry;
        private SystemPteSpace _initial;
        private SystemPteSpace _expansion;
        private SystemPteSpace _special;
        private QuarantineRing _quarantine;
        private int _quarantineNext;
#pragma warning disable CS0649 // written through pointers to their elements
        private ListHeads _lists;
        private ListBitmap _nonEmpty;
        private Lookasides _lookaside;
        private TagTable _tags;
#pragma warning restore CS0649
        private PoolTagStats _overflow;
        private BigTable _big;
        private PageCache _cache;
        private int _bigCount;
        // The pool's own counts; with processor caches attached, each processor keeps its part apart (see Counters).
        private PoolCounters _counters;
        // Each processor's own lists and part of the counts (PoolProcessorCache.cs), outside the pool; null: none.
        private PoolProcessorCache* _processors;
        private uint _processorCount;

        /// <summary>The pool's lock: held for every operation from any processor (see <see cref="LockedPool{TLocks}"/>).</summary>
        public QueuedSpinLock Lock;

        public readonly PoolType Type => _type;

        public readonly ulong PageSize => _pageSize;

        public readonly int BigCount => _bigCount;

        /// <summary>Bytes a small allocation can have: a page less its header.</summary>
        public readonly ulong SmallLimit => _pageSize - UnitSize;

        /// <summary>Sets the pool up empty. False when the page size is not supported or a region is too large to track.</summary>
        public bool Initialize(in PoolConfig config)
        {
            new System.Span<byte>(Unsafe.AsPointer(ref this), sizeof(Pool)).Clear();
            if (config.PageShift < 12 || config.PageShift > MaxPageShift || config.Cookie == 0)
                return false;
            _type = config.Type;
            _pageShift = config.PageShift;
            _pageSize = 1UL << config.PageShift;
            _pageUnits = (uint)(_pageSize >> UnitShift);
            _cookie = config.Cookie;
            _displacement = config.Displacement;
            _specialTag = config.SpecialTag;
            _demand = config.DemandCommit;
            // A region larger than the slot bitmaps can track is used up to what they track.
            if (_initial.Initialize(config.InitialStart, Min(config.InitialPages, SystemPteSpace.Capacity), _pageShift) != StackError.None
                || _expansion.Initialize(config.ExpansionStart, Min(config.ExpansionPages, SystemPteSpace.Capacity), _pageShift) != StackError.None
                || _special.Initialize(config.SpecialStart, Min(config.SpecialPages, SystemPteSpace.Capacity) & ~1UL, _pageShift) != StackError.None)
                return false;
            for (uint i = 0; i < ListCount; i++)
            {
                PoolLinks* head = Head(i);
                head->Flink = head->Blink = Encode(head);
            }
            for (int i = 0; i <= (int)LookasideMaxUnits; i++)
                _lookaside[i].MaxDepth = LookasideDepth;
            _initialStart = _initial.Base.Value;
            _initialBytes = _initial.Count << _pageShift;
            _expansionStart = _expansion.Base.Value;
            _expansionBytes = _expansion.Count << _pageShift;
            _specialStart = _special.Base.Value;
            _specialBytes = _special.Count << _pageShift;
            return true;
        }

        /// <summary>
        /// <paramref name="bytes"/> from the pool for <paramref name="tag"/>: 16-byte aligned, or aligned to
        /// <paramref name="alignment"/> (a power of two up to a page; above 16 the allocation takes whole pages).
        /// Null when the pool's regions or memory ran out (problem clear) or the request is wrong (problem set).
        /// </summary>
        public void* Allocate<TPages>(ref TPages pages, ulong bytes, uint tag, ulong alignment, out PoolProblem problem)
            where TPages : struct, IPoolPages
        {
            problem = default;
            if (tag == 0)
            {
                problem = PoolProblem.Of(BadPoolCallerCheck.ZeroTag, 0, bytes, (ulong)_type);
                return null;
            }
            if (alignment > _pageSize || (alignment & (alignment - 1)) != 0)
            {
                problem = PoolProblem.Of(BadPoolCallerCheck.BadAlignment, alignment, bytes, (ulong)_type);
                return null;
            }
            void* result = null;
            if (_specialTag != 0 && (_specialTag == tag || _specialTag == AnyTag) && alignment <= UnitSize && Round(bytes) + 2 * UnitSize <= _pageSize && _special.Count >= 2)
            {
                result = AllocateSpecial(ref pages, bytes, tag, ref problem);
                if (result != null || !problem.IsOk)
                    return result;
            }
            if (bytes > SmallLimit || alignment > UnitSize)
                result = AllocateBig(ref pages, bytes, tag, ref problem);
            else
                result = AllocateSmall(ref pages, bytes, tag, ref problem);
            if (result == null && problem.IsOk)
                _counters.Failures++;
            return result;
        }

        /// <summary>
        /// Frees what <see cref="Allocate"/> returned. <paramref name="tag"/> must be the allocation's (0: not
        /// checked, as NT's ExFreePool). Everything is checked first; a problem leaves the pool unchanged.
        /// </summary>
        public PoolProblem Free<TPages>(ref TPages pages, void* address, uint tag)
            where TPages : struct, IPoolPages
        {
            PoolProblem problem = default;
            ulong virtualAddress = (ulong)address - (ulong)_displacement;
            if (virtualAddress - _specialStart < _specialBytes)
                return FreeSpecial(ref pages, (byte*)address, tag);
            if (!Locate(virtualAddress, out SystemPteSpace* space, out ulong slot))
                return PoolProblem.Of(BadPoolCallerCheck.OutsidePool, (ulong)address, (ulong)_type);
            if (!space->IsUsed(slot))
                return PoolProblem.Of(BadPoolCallerCheck.PageNotAllocated, (ulong)address, (ulong)_type);
            if ((virtualAddress & (_pageSize - 1)) == 0)
                return FreeBig(ref pages, space, slot, (byte*)address, tag);
            if ((virtualAddress & (UnitSize - 1)) != 0)
                return PoolProblem.Of(BadPoolCallerCheck.NotABlock, (ulong)address, 0, (ulong)_type);
            FreeSmall(ref pages, (PoolHeader*)address - 1, tag, ref problem);
            return problem;
        }

        /// <summary>Whether <paramref name="address"/> (data side) is inside this pool's regions.</summary>
        public readonly bool Contains(void* address)
        {
            ulong va = (ulong)address - (ulong)_displacement;
            return va - _initialStart < _initialBytes || va - _expansionStart < _expansionBytes || va - _specialStart < _specialBytes;
        }

        /// <summary>
        /// What a fault at <paramref name="address"/> (virtual) means for the special pool: 0 not special pool,
        /// <see cref="BugCheckCode.PageFaultBeyondEndOfAllocation"/> in the guard page after a live allocation,
        /// <see cref="BugCheckCode.PageFaultInFreedSpecialPool"/> in a page with no allocation.
        /// </summary>
        public readonly BugCheckCode ClassifySpecialFault(VirtualAddress address)
        {
            ulong slot = _special.SlotOf(address);
            if (slot == ulong.MaxValue)
                return 0;
            ulong first = slot & ~1UL;
            if ((slot & 1) == 1 && _special.IsUsed(first) && !IsQuarantined(first))
                return BugCheckCode.PageFaultBeyondEndOfAllocation;
            return BugCheckCode.PageFaultInFreedSpecialPool;
        }

        // ---- Small blocks -------------------------------------------------------------------------

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void* AllocateSmall<TPages>(ref TPages pages, ulong bytes, uint tag, ref PoolProblem problem) where TPages : struct, IPoolPages
        {
            uint units = UnitsFor(bytes);
            if (units <= LookasideMaxUnits)
            {
                ref Lookaside list = ref _lookaside[(int)units];
                if (list.Head != 0)
                {
                    PoolHeader* parked = PopLookaside(units, ref problem);
                    if (parked == null)
                        return null;
                    _counters.LookasideHits++;
                    return Hand(parked, units, bytes, tag);
                }
                list.Misses++;
            }

            PoolHeader* block;
            uint index = FirstList(units);
            if (index != 0)
            {
                PoolLinks* node = Decode(Head(index)->Flink);
                if (!CheckFreeNode(node, index, ref problem))
                    return null;
                Unlink(node, index);
                block = (PoolHeader*)node - 1;
                _counters.FreeBlocks--;
            }
            else
            {
                byte* page = NewPage(ref pages, ref problem);
                if (page == null)
                    return null;
                block = (PoolHeader*)page;
                StoreFree(block, 0, _pageUnits, 0);
            }

            uint size = block->BlockSize;
            if (size - units >= 2)
            {
                // The front is the allocation; the rest goes back as a free block.
                PoolHeader* rest = block + units;
                StoreFree(rest, units, size - units, 0);
                PoolHeader* after = rest + (size - units);
                if (!IsPageEnd(after))
                    SetPrevious(after, size - units);
                Insert(rest, size - units);
                size = units;
            }
            return Hand(block, size, bytes, tag);
        }

        /// <summary>The top block of a lookaside list, checked (in the pool, parked, its size, sealed) before its link is followed.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private PoolHeader* PopLookaside(uint units, ref PoolProblem problem)
        {
            ref Lookaside list = ref _lookaside[(int)units];
            PoolLinks* node = Decode(list.Head);
            PoolHeader* header = (PoolHeader*)node - 1;
            if (!IsLive(node) || header->State != PoolBlockState.Lookaside || header->BlockSize != units || !IsSealed(header))
            {
                problem = PoolProblem.Of(BadPoolHeaderCheck.ListCorrupt, (ulong)node, list.Head, units);
                return null;
            }
            list.Head = node->Flink;
            list.Depth--;
            _counters.LookasideBlocks--;
            return header;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void* Hand(PoolHeader* header, uint size, ulong bytes, uint tag)
        {
            Store(header, Fields(header->PreviousSize, size, PoolBlockState.Allocated), Tail(tag, (uint)bytes));
            byte* data = (byte*)(header + 1);
            if (bytes < ((ulong)size - 1) << UnitShift)
                data[bytes] = CanaryOf(data);
            _counters.SmallBlocks++;
            Account(tag, bytes);
            return data;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void FreeSmall<TPages>(ref TPages pages, PoolHeader* header, uint tag, ref PoolProblem problem) where TPages : struct, IPoolPages
        {
            byte* data = (byte*)(header + 1);
            ulong offset = ((ulong)header - (ulong)_displacement) & (_pageSize - 1);
            if (!IsSealed(header))
            {
                problem = PoolProblem.Of(BadPoolCallerCheck.NotABlock, (ulong)data, *(ulong*)header, (ulong)_type);
                return;
            }
            if (header->State != PoolBlockState.Allocated)
            {
                problem = PoolProblem.Of(BadPoolCallerCheck.DoubleFree, 0, *(ulong*)header, (ulong)data);
                return;
            }
            uint size = header->BlockSize;
            if (header->PoolType != _type || size < 2 || offset + ((ulong)size << UnitShift) > _pageSize
                || (ulong)header->PreviousSize << UnitShift > offset || header->Requested > Capacity(header))
            {
                problem = PoolProblem.Of(BadPoolHeaderCheck.HeaderCorrupt, (ulong)header, 0, size);
                return;
            }
            if (tag != 0 && header->Tag != tag)
            {
                problem = PoolProblem.Of(BadPoolCallerCheck.WrongTag, (ulong)data, tag, header->Tag);
                return;
            }
            ulong requested = header->Requested;
            if (requested < Capacity(header) && data[requested] != CanaryOf(data))
            {
                problem = PoolProblem.Of(BadPoolHeaderCheck.DataAfterBlockCorrupt, (ulong)data, requested, data[requested]);
                return;
            }
            if (!CheckNext(header, ref problem))
                return;

            // A hot size goes to its lookaside list, still carved out: no neighbour is touched.
            if (size <= LookasideMaxUnits)
            {
                ref Lookaside list = ref _lookaside[(int)size];
                if (list.Depth >= list.MaxDepth && list.MaxDepth < LookasideDepthMax && list.Misses >= list.MaxDepth / 2)
                {
                    // Full on frees while allocations keep missing it: the working set is larger than the list.
                    list.MaxDepth *= 2;
                    list.Misses = 0;
                }
                if (list.Depth < list.MaxDepth)
                {
                    Store(header, Fields(header->PreviousSize, size, PoolBlockState.Lookaside), Tail(header->Tag, 0));
                    PoolLinks* node = (PoolLinks*)data;
                    node->Flink = list.Head;
                    node->Blink = 0;
                    list.Head = Encode(node);
                    list.Depth++;
                    _counters.LookasideBlocks++;
                    _counters.SmallBlocks--;
                    Release(header->Tag, requested);
                    return;
                }
            }
            uint owner = header->Tag;
            if (!Coalesce(ref pages, header, ref problem))
                return;
            _counters.SmallBlocks--;
            Release(owner, requested);
        }

        /// <summary>The block after <paramref name="header"/> in its page (if any) is sealed and names it as its previous block.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly bool CheckNext(PoolHeader* header, ref PoolProblem problem)
        {
            uint size = header->BlockSize;
            PoolHeader* next = header + size;
            if (IsPageEnd(next))
                return true;
            if (!IsSealed(next) || next->BlockSize < 2)
            {
                problem = PoolProblem.Of(BadPoolHeaderCheck.HeaderCorrupt, (ulong)header, (ulong)next, size);
                return false;
            }
            if (next->PreviousSize != size)
            {
                problem = PoolProblem.Of(BadPoolHeaderCheck.NeighboursDisagree, (ulong)header, 0, (ulong)next);
                return false;
            }
            return true;
        }

        /// <summary>
        /// Returns a carved block to the free lists, merged with a free neighbour on either side; a wholly free
        /// page goes to the page cache or back to the PFN database. Neighbours and links are checked first.
        /// </summary>
        private bool Coalesce<TPages>(ref TPages pages, PoolHeader* header, ref PoolProblem problem) where TPages : struct, IPoolPages
        {
            uint size = header->BlockSize;
            if (!CheckNext(header, ref problem))
                return false;
            PoolHeader* next = header + size;
            bool hasNext = !IsPageEnd(next);
            PoolHeader* previous = null;
            if (header->PreviousSize != 0)
            {
                previous = header - header->PreviousSize;
                if (!IsSealed(previous) || previous->BlockSize != header->PreviousSize)
                {
                    problem = PoolProblem.Of(BadPoolHeaderCheck.NeighboursDisagree, (ulong)header, 0, (ulong)previous);
                    return false;
                }
            }
            bool mergeNext = hasNext && next->State == PoolBlockState.Free;
            bool mergePrevious = previous != null && previous->State == PoolBlockState.Free;
            if (mergeNext && !CheckFreeNode((PoolLinks*)(next + 1), next->BlockSize, ref problem))
                return false;
            if (mergePrevious && !CheckFreeNode((PoolLinks*)(previous + 1), previous->BlockSize, ref problem))
                return false;

            // Checked: now change things. The absorbed headers stay behind marked free, so a second free of
            // the same address is still seen as one.
            uint tag = header->Tag;
            StoreFree(header, header->PreviousSize, size, tag);
            PoolHeader* block = header;
            if (mergeNext)
            {
                Unlink((PoolLinks*)(next + 1), next->BlockSize);
                _counters.FreeBlocks--;
                size += next->BlockSize;
            }
            if (mergePrevious)
            {
                Unlink((PoolLinks*)(previous + 1), previous->BlockSize);
                _counters.FreeBlocks--;
                size += previous->BlockSize;
                block = previous;
            }
            StoreFree(block, block->PreviousSize, size, tag);
            PoolHeader* after = block + size;
            if (!IsPageEnd(after))
                SetPrevious(after, size);
            if (size == _pageUnits)
                ReleasePage(ref pages, (byte*)block, ref problem);
            else
                Insert(block, size);
            return true;
        }

        /// <summary>A free-list node is a sealed free block of the list's size whose neighbours point back at it.</summary>
        private bool CheckFreeNode(PoolLinks* node, uint size, ref PoolProblem problem)
        {
            PoolHeader* header = (PoolHeader*)node - 1;
            if (IsLive(node) && header->State == PoolBlockState.Free && header->BlockSize == size && IsSealed(header))
            {
                PoolLinks* flink = Decode(node->Flink);
                PoolLinks* blink = Decode(node->Blink);
                if ((IsLive(flink) || IsHead(flink)) && (IsLive(blink) || IsHead(blink)) && Decode(flink->Blink) == node && Decode(blink->Flink) == node)
                    return true;
            }
            problem = ListProblem(node);
            return false;
        }

        /// <summary>BAD_POOL_HEADER 3 for a list node: its decoded links when it is a block in the pool (never read through a forged pointer).</summary>
        private readonly PoolProblem ListProblem(PoolLinks* node)
            => IsLive(node)
                ? PoolProblem.Of(BadPoolHeaderCheck.ListCorrupt, (ulong)node, node->Flink ^ _cookie, node->Blink ^ _cookie)
                : PoolProblem.Of(BadPoolHeaderCheck.ListCorrupt, (ulong)node, 0, 0);

        private void Insert(PoolHeader* block, uint size)
        {
            PoolLinks* head = Head(size);
            PoolLinks* node = (PoolLinks*)(block + 1);
            PoolLinks* first = Decode(head->Flink);
            node->Flink = head->Flink;
            node->Blink = Encode(head);
            first->Blink = Encode(node);
            head->Flink = Encode(node);
            _nonEmpty[(int)(size >> 6)] |= 1UL << (int)(size & 63);
            _counters.FreeBlocks++;
        }

        private void Unlink(PoolLinks* node, uint size)
        {
            PoolLinks* flink = Decode(node->Flink);
            PoolLinks* blink = Decode(node->Blink);
            blink->Flink = node->Flink;
            flink->Blink = node->Blink;
            if (flink == blink)
                _nonEmpty[(int)(size >> 6)] &= ~(1UL << (int)(size & 63));
        }

        /// <summary>The smallest non-empty list of at least <paramref name="units"/>, or 0.</summary>
        private readonly uint FirstList(uint units)
        {
            int word = (int)(units >> 6);
            ulong bits = _nonEmpty[word] & (ulong.MaxValue << (int)(units & 63));
            int words = (int)(_pageUnits >> 6) + 1;
            while (true)
            {
                if (bits != 0)
                {
                    uint index = (uint)(word << 6) + (uint)TrailingZeros(bits);
                    return index <= _pageUnits ? index : 0;
                }
                if (++word >= words)
                    return 0;
                bits = _nonEmpty[word];
            }
        }

        // ---- Pages --------------------------------------------------------------------------------

        private byte* NewPage<TPages>(ref TPages pages, ref PoolProblem problem) where TPages : struct, IPoolPages
        {
            if (_counters.CachedPages != 0)
            {
                _counters.CachedPages--;
                return (byte*)_cache[(int)_counters.CachedPages];
            }
            if (!Reserve(ref pages, 1, true, out ulong address, ref problem))
                return null;
            return (byte*)address;
        }

        /// <summary>
        /// Takes <paramref name="count"/> pages of address space (initial region first) and commits them, unless
        /// <paramref name="commit"/> is false (demand commit); the data address.
        /// </summary>
        private bool Reserve<TPages>(ref TPages pages, ulong count, bool commit, out ulong address, ref PoolProblem problem) where TPages : struct, IPoolPages
        {
            address = 0;
            SystemPteSpace* space = Space(0);
            if (space->Reserve(count, out ulong slot) != StackError.None)
            {
                space = Space(1);
                if (space->Reserve(count, out slot) != StackError.None)
                    return false;
            }
            VirtualAddress va = space->AddressOf(slot);
            if (commit)
            {
                if (!pages.Commit(va, count, _type == PoolType.Paged, ref problem))
                {
                    space->Release(slot, count);
                    return false;
                }
                _counters.CommittedPages += count;
            }
            address = va.Value + (ulong)_displacement;
            return true;
        }

        /// <summary>Decommits and releases pages; with <paramref name="sparse"/>, pages never committed (demand commit) are skipped.</summary>
        private void Unreserve<TPages>(ref TPages pages, ulong address, ulong count, bool sparse, ref PoolProblem problem) where TPages : struct, IPoolPages
        {
            var va = new VirtualAddress(address - (ulong)_displacement);
            Locate(va.Value, out SystemPteSpace* space, out ulong slot);
            _counters.CommittedPages -= pages.Decommit(va, count, sparse, ref problem);
            space->Release(slot, count);
        }

        /// <summary>
        /// A fault at <paramref name="address"/> (virtual) in a page of a live big allocation of a demand-commit
        /// pool that is not committed yet: commits it, so the faulting instruction can run again. Any other
        /// address (a committed page included) is not the pool's to resolve: the fault is someone's bug.
        /// <see cref="PoolFault.NoMemory"/> when no frame was left (there is no commit charge yet: a reservation
        /// does not guarantee its pages); a refusal from the PFN database is a problem.
        /// </summary>
        public PoolFault ResolveFault<TPages>(ref TPages pages, VirtualAddress address, out PoolProblem problem) where TPages : struct, IPoolPages
        {
            problem = default;
            if (!_demand || !Locate(address.Value, out SystemPteSpace* space, out ulong slot) || !space->Find(slot, out ulong first, out _))
                return PoolFault.NotPool;
            VirtualAddress page = space->AddressOf(slot);
            if (FindBig(space->AddressOf(first).Value + (ulong)_displacement) < 0 || pages.IsCommitted(page))
                return PoolFault.NotPool;
            if (!pages.Commit(page, 1, _type == PoolType.Paged, ref problem))
                return PoolFault.NoMemory;
            _counters.CommittedPages++;
            _counters.DemandFaults++;
            return PoolFault.Committed;
        }

        private void ReleasePage<TPages>(ref TPages pages, byte* page, ref PoolProblem problem) where TPages : struct, IPoolPages
        {
            if (_counters.CachedPages < PageCacheCapacity)
            {
                _cache[(int)_counters.CachedPages] = (ulong)page;
                _counters.CachedPages++;
                return;
            }
            Unreserve(ref pages, (ulong)page, 1, false, ref problem);
        }

        /// <summary>Gives the cached free pages back (the self-test's baseline, a low-memory trim).</summary>
        public PoolProblem Trim<TPages>(ref TPages pages) where TPages : struct, IPoolPages
        {
            PoolProblem problem = default;
            while (_counters.CachedPages != 0)
            {
                _counters.CachedPages--;
                Unreserve(ref pages, _cache[(int)_counters.CachedPages], 1, false, ref problem);
            }
            return problem;
        }

        /// <summary>
        /// Empties the lookaside lists back into the free lists (coalescing), every processor's own lists too (so only
        /// when no processor is in the pool), then trims.
        /// </summary>
        public PoolProblem Flush<TPages>(ref TPages pages) where TPages : struct, IPoolPages
        {
            PoolProblem problem = DrainProcessorCaches(ref pages);
            for (uint units = 2; units <= LookasideMaxUnits && problem.IsOk; units++)
            {
                while (_lookaside[(int)units].Head != 0 && problem.IsOk)
                {
                    PoolHeader* header = PopLookaside(units, ref problem);
                    if (header != null)
                        Coalesce(ref pages, header, ref problem);
                }
                _lookaside[(int)units].MaxDepth = LookasideDepth;
                _lookaside[(int)units].Misses = 0;
            }
            if (problem.IsOk)
                problem = Trim(ref pages);
            return problem;
        }

        // ---- Big allocations ----------------------------------------------------------------------

        private void* AllocateBig<TPages>(ref TPages pages, ulong bytes, uint tag, ref PoolProblem problem) where TPages : struct, IPoolPages
        {
            ulong count = (bytes + _pageSize - 1) >> _pageShift;
            if (count == 0)
                count = 1;
            if (_bigCount >= BigLimit || count > uint.MaxValue)
                return null;
            if (!Reserve(ref pages, count, !_demand, out ulong address, ref problem))
                return null;
            int index = BigHome(address);
            while (_big[index].Address != 0)
                index = (index + 1) & (BigCapacity - 1);
            _big[index] = new PoolBigEntry { Address = address, Pages = (uint)count, Tag = tag, Requested = bytes };
            _bigCount++;
            _counters.BigAllocations++;
            _counters.BigPages += count;
            Account(tag, bytes);
            return (void*)address;
        }

        private PoolProblem FreeBig<TPages>(ref TPages pages, SystemPteSpace* space, ulong slot, byte* address, uint tag) where TPages : struct, IPoolPages
        {
            int index = FindBig((ulong)address);
            if (index < 0)
            {
                // A small-block page, or the middle of a big allocation.
                return PoolProblem.Of(BadPoolCallerCheck.NotABigAllocation, (ulong)address, (ulong)_type, space->IsStart(slot) ? 1UL : 0);
            }
            PoolBigEntry entry = _big[index];
            if (tag != 0 && entry.Tag != tag)
                return PoolProblem.Of(BadPoolCallerCheck.WrongTag, (ulong)address, tag, entry.Tag);
            if (space->LengthAt(slot) != entry.Pages)
                return PoolProblem.Of(BadPoolHeaderCheck.HeaderCorrupt, (ulong)address, space->LengthAt(slot), entry.Pages);
            PoolProblem problem = default;
            RemoveBig(index);
            Unreserve(ref pages, (ulong)address, entry.Pages, _demand, ref problem);
            _counters.BigAllocations--;
            _counters.BigPages -= entry.Pages;
            Release(entry.Tag, entry.Requested);
            return problem;
        }

        /// <summary>The big allocation starting at <paramref name="address"/> (data side): pages and tag; false when none does.</summary>
        public readonly bool FindBigAllocation(void* address, out PoolBigEntry entry)
        {
            int index = FindBig((ulong)address);
            entry = index >= 0 ? _big[index] : default;
            return index >= 0;
        }

        private readonly int BigHome(ulong address) => (int)(((address >> _pageShift) * 0x9E3779B97F4A7C15UL) >> 52);

        private readonly int FindBig(ulong address)
        {
            int index = BigHome(address);
            while (_big[index].Address != 0)
            {
                if (_big[index].Address == address)
                    return index;
                index = (index + 1) & (BigCapacity - 1);
            }
            return -1;
        }

        /// <summary>Linear-probing removal by backward shift: no tombstones, probes stay short.</summary>
        private void RemoveBig(int hole)
        {
            int next = hole;
            while (true)
            {
                next = (next + 1) & (BigCapacity - 1);
                if (_big[next].Address == 0)
                    break;
                int home = BigHome(_big[next].Address);
                // Move the entry into the hole unless its home lies cyclically in (hole, next].
                bool between = hole <= next ? home > hole && home <= next : home > hole || home <= next;
                if (!between)
                {
                    _big[hole] = _big[next];
                    hole = next;
                }
            }
            _big[hole] = default;
            _bigCount--;
        }

        // ---- Special pool -------------------------------------------------------------------------

        private void* AllocateSpecial<TPages>(ref TPages pages, ulong bytes, uint tag, ref PoolProblem problem) where TPages : struct, IPoolPages
        {
            // A data page and the guard page after it, which is never mapped. When the range is full, the
            // oldest quarantined pair is given up first; when that is not enough either, the caller falls back
            // to the ordinary pool (as NT's special pool does).
            ulong slot;
            while (_special.Reserve(2, out slot) != StackError.None)
            {
                if (!ReleaseOldestQuarantined())
                    return null;
            }
            VirtualAddress va = _special.AddressOf(slot);
            if (!pages.Commit(va, 1, _type == PoolType.Paged, ref problem))
            {
                _special.Release(slot, 2);
                return null;
            }
            _counters.CommittedPages++;
            byte* page = (byte*)(va.Value + (ulong)_displacement);
            byte* data = page + _pageSize - SpecialRound(bytes);
            var header = (SpecialHeader*)page;
            header->Tag = tag;
            header->Requested = (uint)bytes;
            header->Magic = SpecialMagic(page, tag, bytes);
            byte pattern = SpecialPattern(page);
            for (byte* p = page + sizeof(SpecialHeader); p < data; p++)
                *p = pattern;
            for (byte* p = data + bytes; p < page + _pageSize; p++)
                *p = pattern;
            _counters.SpecialAllocations++;
            Account(tag, bytes);
            return data;
        }

        private PoolProblem FreeSpecial<TPages>(ref TPages pages, byte* address, uint tag) where TPages : struct, IPoolPages
        {
            ulong slot = _special.SlotOf(new VirtualAddress((ulong)address - (ulong)_displacement));
            ulong first = slot & ~1UL;
            if ((slot & 1) != 0 || _special.LengthAt(first) != 2 || IsQuarantined(first))
                return PoolProblem.SpecialPool((ulong)address, 0, 0, SpecialPoolCheck.NotAllocated);
            byte* page = (byte*)(_special.AddressOf(first).Value + (ulong)_displacement);
            var header = (SpecialHeader*)page;
            if (header->Magic != SpecialMagic(page, header->Tag, header->Requested))
                return PoolProblem.SpecialPool((ulong)address, (ulong)page, 0, SpecialPoolCheck.NotAllocated);
            ulong bytes = header->Requested;
            byte* data = page + _pageSize - SpecialRound(bytes);
            if (address != data)
                return PoolProblem.SpecialPool((ulong)address, bytes, (ulong)data, SpecialPoolCheck.BadAddress);
            if (tag != 0 && header->Tag != tag)
                return PoolProblem.Of(BadPoolCallerCheck.WrongTag, (ulong)address, tag, header->Tag);
            byte pattern = SpecialPattern(page);
            for (byte* p = page + sizeof(SpecialHeader); p < data; p++)
            {
                if (*p != pattern)
                    return PoolProblem.SpecialPool((ulong)address, (ulong)p, 0, SpecialPoolCheck.BytesBeforeCorrupt);
            }
            for (byte* p = data + bytes; p < page + _pageSize; p++)
            {
                if (*p != pattern)
                    return PoolProblem.SpecialPool((ulong)address, (ulong)p, 0, SpecialPoolCheck.BytesAfterCorrupt);
            }
            PoolProblem problem = default;
            uint owner = header->Tag;
            header->Magic = 0;
            pages.Decommit(_special.AddressOf(first), 1, false, ref problem);
            // Kept reserved (unmapped) for a while; the oldest quarantined pair is released instead.
            ulong oldest = _quarantine[_quarantineNext];
            if (oldest != 0)
                _special.Release(oldest - 1, 2);
            _quarantine[_quarantineNext] = first + 1;
            _quarantineNext = (_quarantineNext + 1) % SpecialQuarantine;
            _counters.CommittedPages--;
            _counters.SpecialAllocations--;
            Release(owner, bytes);
            return problem;
        }

        /// <summary>Room a special allocation takes at its page's end: its bytes rounded to 16, at least 16 (a zero-byte one is still inside its page).</summary>
        private static ulong SpecialRound(ulong bytes) => bytes == 0 ? UnitSize : Round(bytes);

        private bool ReleaseOldestQuarantined()
        {
            for (int i = 0; i < SpecialQuarantine; i++)
            {
                int index = (_quarantineNext + i) % SpecialQuarantine;
                if (_quarantine[index] != 0)
                {
                    _special.Release(_quarantine[index] - 1, 2);
                    _quarantine[index] = 0;
                    return true;
                }
            }
            return false;
        }

        private readonly bool IsQuarantined(ulong first)
        {
            for (int i = 0; i < SpecialQuarantine; i++)
            {
                if (_quarantine[i] == first + 1)
                    return true;
            }
            return false;
        }

        private readonly ulong SpecialMagic(byte* page, uint tag, ulong bytes) => (((ulong)page ^ _cookie) * 0x9E3779B97F4A7C15UL) ^ ((ulong)tag << 32 | bytes) ^ 0x5370634C;

        private readonly byte SpecialPattern(byte* page) => (byte)(0xA5 ^ (byte)(_cookie >> 40) ^ (byte)((ulong)page >> _pageShift));

        private struct SpecialHeader
        {
            public ulong Magic;
            public uint Tag;
            public uint Requested;
        }

        // ---- Tags ---------------------------------------------------------------------------------

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void Account(uint tag, ulong bytes)
        {
            PoolTagStats* stats = TagEntry(tag);
            stats->Allocations++;
            stats->BytesInUse += bytes;
            _counters.Allocations++;
            _counters.BytesInUse += bytes;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void Release(uint tag, ulong bytes)
        {
            PoolTagStats* stats = TagEntry(tag);
            stats->Frees++;
            stats->BytesInUse -= bytes;
            _counters.Frees++;
            _counters.BytesInUse -= bytes;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private PoolTagStats* TagEntry(uint tag)
        {
            if (tag == _lastTag && _lastTagEntry != null)
                return _lastTagEntry;
            PoolTagStats* entry = FindTag(tag);
            _lastTag = tag;
            _lastTagEntry = entry;
            return entry;
        }

        private PoolTagStats* FindTag(uint tag)
        {
            int index = (int)((tag * 0x9E3779B1u) >> 24);
            for (int probe = 0; probe < TagCapacity; probe++)
            {
                PoolTagStats* entry = (PoolTagStats*)Unsafe.AsPointer(ref _tags[(index + probe) & (TagCapacity - 1)]);
                if (entry->Tag == tag)
                    return entry;
                if (entry->Tag == 0)
                {
                    entry->Tag = tag;
                    return entry;
                }
            }
            _overflow.Tag = OverflowTag;
            return (PoolTagStats*)Unsafe.AsPointer(ref _overflow);
        }

        /// <summary>The statistics of one tag; false when the tag never allocated here.</summary>
        public readonly bool TryGetTag(uint tag, out PoolTagStats stats)
        {
            int index = (int)((tag * 0x9E3779B1u) >> 24);
            for (int probe = 0; probe < TagCapacity; probe++)
            {
                int slot = (index + probe) & (TagCapacity - 1);
                PoolTagStats entry = _tags[slot];
                if (entry.Tag == tag)
                {
                    stats = WithParts(entry, TagSlot(slot));
                    return true;
                }
                if (entry.Tag == 0)
                    break;
            }
            stats = default;
            return false;
        }

        /// <summary>Tag table slot <paramref name="index"/> (0 to <see cref="TagCapacity"/>, the last being the overflow entry); Tag 0 when empty.</summary>
        public readonly PoolTagStats TagAt(int index) => WithParts(index < TagCapacity ? _tags[index] : _overflow, TagSlot(index));

        /// <summary>The address of tag table slot <paramref name="index"/> (the overflow entry past the last).</summary>
        private readonly PoolTagStats* TagSlot(int index)
            => index < TagCapacity ? (PoolTagStats*)Unsafe.AsPointer(ref Unsafe.AsRef(in _tags[index])) : (PoolTagStats*)Unsafe.AsPointer(ref Unsafe.AsRef(in _overflow));

        // ---- Validation ---------------------------------------------------------------------------

        /// <summary>
        /// Walks the whole pool: every small-block page block by block (sealed headers, sizes that add up to
        /// the page, neighbours that agree, no two free blocks side by side), every free list and lookaside
        /// list (links, sizes, states), the big table against the regions, and every count against what the
        /// walk found. For tests and the boot self-test; O(pool).
        /// </summary>
        public readonly PoolProblem Validate()
        {
            // Every processor's part included: the caller makes sure no processor is in the pool meanwhile.
            PoolCounters totals = Counters;
            ulong freeBlocks = 0, allocated = 0, lookaside = 0, bytes = 0, bigPages = 0, pagesUsed = 0;
            for (int s = 0; s < 2; s++)
            {
                SystemPteSpace* space = s == 0 ? (SystemPteSpace*)Unsafe.AsPointer(ref Unsafe.AsRef(in _initial)) : (SystemPteSpace*)Unsafe.AsPointer(ref Unsafe.AsRef(in _expansion));
                for (ulong slot = 0; slot < space->Count; slot++)
                {
                    if (!space->IsUsed(slot))
                        continue;
                    pagesUsed++;
                    ulong address = space->AddressOf(slot).Value + (ulong)_displacement;
                    int big = FindBig(address);
                    if (big >= 0)
                    {
                        if (space->LengthAt(slot) != _big[big].Pages)
                            return PoolProblem.Of(BadPoolHeaderCheck.HeaderCorrupt, address, space->LengthAt(slot), _big[big].Pages);
                        bigPages += _big[big].Pages;
                        bytes += _big[big].Requested;
                        pagesUsed += _big[big].Pages - 1;
                        slot += _big[big].Pages - 1;
                        continue;
                    }
                    if (space->LengthAt(slot) != 1)
                        return PoolProblem.Of(BadPoolHeaderCheck.HeaderCorrupt, address, space->LengthAt(slot), 1);
                    if (IsCached(address))
                        continue;
                    PoolProblem problem = ValidatePage((PoolHeader*)address, ref freeBlocks, ref allocated, ref lookaside, ref bytes);
                    if (!problem.IsOk)
                        return problem;
                }
            }
            // Every small-block page is committed; big allocations' pages are too, unless committed on demand.
            ulong committedFloor = pagesUsed - bigPages + totals.SpecialAllocations, committedCeiling = pagesUsed + totals.SpecialAllocations;
            if (bigPages != totals.BigPages || totals.CommittedPages > committedCeiling || totals.CommittedPages < (_demand ? committedFloor : committedCeiling))
                return PoolProblem.Of(MemoryManagementCheck.PoolPagesMismatch, pagesUsed, totals.CommittedPages, bigPages);
            if (freeBlocks != totals.FreeBlocks || allocated != totals.SmallBlocks || lookaside != totals.LookasideBlocks)
                return PoolProblem.Of(MemoryManagementCheck.PoolBlocksMismatch, freeBlocks, allocated, lookaside);

            // The lists hold exactly the free blocks, each once, with links that agree.
            ulong listed = 0;
            for (uint size = 2; size <= _pageUnits; size++)
            {
                PoolLinks* head = HeadAt(size);
                PoolLinks* previous = head;
                PoolLinks* node = Decode(head->Flink);
                ulong count = 0;
                while (node != head)
                {
                    PoolHeader* header = (PoolHeader*)node - 1;
                    if (!IsLive(node) || header->State != PoolBlockState.Free || header->BlockSize != size || !IsSealed(header) || Decode(node->Blink) != previous || ++count > freeBlocks)
                        return ListProblem(node);
                    previous = node;
                    node = Decode(node->Flink);
                }
                bool marked = (_nonEmpty[(int)(size >> 6)] & (1UL << (int)(size & 63))) != 0;
                if (Decode(head->Blink) != previous || marked != (count != 0))
                    return PoolProblem.Of(BadPoolHeaderCheck.ListCorrupt, (ulong)head, head->Flink ^ _cookie, head->Blink ^ _cookie);
                listed += count;
            }
            ulong parked = 0;
            for (uint units = 2; units <= LookasideMaxUnits; units++)
            {
                PoolProblem parkedProblem = ValidateParked(_lookaside[(int)units].Head, _lookaside[(int)units].Depth, units, ref parked);
                if (!parkedProblem.IsOk)
                    return parkedProblem;
            }
            // And those parked on each processor's own lists.
            PoolProblem processorLists = ValidateProcessorLists(ref parked);
            if (!processorLists.IsOk)
                return processorLists;
            if (listed != freeBlocks || parked != lookaside)
                return PoolProblem.Of(MemoryManagementCheck.PoolListsMismatch, listed, freeBlocks, parked);

            // Special pool allocations: each a live pair.
            ulong special = 0;
            for (ulong slot = 0; slot + 1 < _special.Count; slot += 2)
            {
                if (!_special.IsUsed(slot) || IsQuarantined(slot))
                    continue;
                if (_special.LengthAt(slot) != 2)
                    return PoolProblem.SpecialPool(_special.AddressOf(slot).Value, 0, 0, SpecialPoolCheck.NotAllocated);
                var header = (SpecialHeader*)(_special.AddressOf(slot).Value + (ulong)_displacement);
                if (header->Magic != SpecialMagic((byte*)header, header->Tag, header->Requested))
                    return PoolProblem.SpecialPool((ulong)header, 0, 0, SpecialPoolCheck.NotAllocated);
                bytes += header->Requested;
                special++;
            }
            if (special != totals.SpecialAllocations || bytes != totals.BytesInUse)
                return PoolProblem.Of(MemoryManagementCheck.PoolBytesMismatch, special, bytes, totals.BytesInUse);

            // The tag table adds up to the pool's counts.
            ulong tagBytes = 0, tagLive = 0;
            for (int i = 0; i <= TagCapacity; i++)
            {
                PoolTagStats stats = TagAt(i);
                tagBytes += stats.BytesInUse;
                tagLive += stats.Live;
            }
            if (tagBytes != totals.BytesInUse || tagLive != totals.SmallBlocks + totals.BigAllocations + totals.SpecialAllocations)
                return PoolProblem.Of(MemoryManagementCheck.PoolTagsMismatch, tagBytes, tagLive, totals.BytesInUse);
            return default;
        }

        /// <summary>A list of parked blocks of <paramref name="units"/> (a lookaside list, shared or a processor's): each checked, <paramref name="depth"/> of them.</summary>
        private readonly PoolProblem ValidateParked(ulong head, uint depth, uint units, ref ulong parked)
        {
            ulong count = 0;
            for (ulong link = head; link != 0; link = Decode(link)->Flink)
            {
                PoolLinks* node = Decode(link);
                PoolHeader* header = (PoolHeader*)node - 1;
                if (!IsLive(node) || header->State != PoolBlockState.Lookaside || header->BlockSize != units || !IsSealed(header) || ++count > depth)
                    return PoolProblem.Of(BadPoolHeaderCheck.ListCorrupt, (ulong)node, link, units);
            }
            if (count != depth)
                return PoolProblem.Of(BadPoolHeaderCheck.ListCorrupt, units, count, depth);
            parked += count;
            return default;
        }

        private readonly PoolProblem ValidatePage(PoolHeader* page, ref ulong freeBlocks, ref ulong allocated, ref ulong lookaside, ref ulong bytes)
        {
            uint offset = 0;
            uint previousSize = 0;
            bool previousFree = false;
            while (offset < _pageUnits)
            {
                PoolHeader* header = page + offset;
                uint size = header->BlockSize;
                if (!IsSealed(header) || header->PreviousSize != previousSize || size < 2 || offset + size > _pageUnits || header->PoolType != _type)
                    return PoolProblem.Of(BadPoolHeaderCheck.HeaderCorrupt, (ulong)header, previousSize, size);
                switch (header->State)
                {
                    case PoolBlockState.Free:
                        if (previousFree)
                            return PoolProblem.Of(BadPoolHeaderCheck.NeighboursDisagree, (ulong)header, 0, (ulong)(header - previousSize));
                        freeBlocks++;
                        break;
                    case PoolBlockState.Allocated:
                        allocated++;
                        bytes += header->Requested;
                        byte* data = (byte*)(header + 1);
                        if (header->Requested < Capacity(header) && data[header->Requested] != CanaryOf(data))
                            return PoolProblem.Of(BadPoolHeaderCheck.DataAfterBlockCorrupt, (ulong)data, header->Requested, data[header->Requested]);
                        break;
                    case PoolBlockState.Lookaside:
                        lookaside++;
                        break;
                    default:
                        return PoolProblem.Of(BadPoolHeaderCheck.HeaderCorrupt, (ulong)header, previousSize, size);
                }
                previousFree = header->State == PoolBlockState.Free;
                previousSize = size;
                offset += size;
            }
            return default;
        }

        // ---- Helpers ------------------------------------------------------------------------------

        private static ulong Min(ulong a, ulong b) => a < b ? a : b;

        private static ulong Round(ulong bytes) => (bytes + UnitSize - 1) & ~(UnitSize - 1);

        /// <summary>Units of a small block for <paramref name="bytes"/>: the header plus the bytes, at least two (room for the free links).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static uint UnitsFor(ulong bytes)
        {
            uint units = (uint)((bytes + UnitSize + UnitSize - 1) >> UnitShift);
            return units < 2 ? 2 : units;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static ulong Capacity(PoolHeader* header) => ((ulong)header->BlockSize - 1) << UnitShift;

        private static int TrailingZeros(ulong value)
        {
            int count = 0;
            for (int width = 32; width != 0; width >>= 1)
            {
                ulong mask = (1UL << width) - 1;
                if ((value & mask) == 0)
                {
                    value >>= width;
                    count += width;
                }
            }
            return count;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly bool IsPageEnd(PoolHeader* header) => (((ulong)header - (ulong)_displacement) & (_pageSize - 1)) == 0;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly ulong Encode(void* node) => (ulong)node ^ _cookie;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly PoolLinks* Decode(ulong link) => (PoolLinks*)(link ^ _cookie);

        private PoolLinks* Head(uint size) => (PoolLinks*)Unsafe.AsPointer(ref _lists[(int)size]);

        private readonly PoolLinks* HeadAt(uint size) => (PoolLinks*)Unsafe.AsPointer(ref Unsafe.AsRef(in _lists[(int)size]));

        private readonly bool IsHead(PoolLinks* node)
        {
            ulong first = (ulong)HeadAt(0);
            return (ulong)node >= first && (ulong)node < first + (ulong)ListCount * (ulong)sizeof(PoolLinks) && ((ulong)node - first) % (ulong)sizeof(PoolLinks) == 0;
        }

        /// <summary>Whether a block address is in a small-block page this pool holds (a forged link fails here).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly bool IsLive(void* node)
        {
            ulong va = (ulong)node - (ulong)_displacement;
            if ((va & (UnitSize - 1)) != 0)
                return false;
            ulong offset = va - _initialStart;
            if (offset < _initialBytes)
                return _initial.IsUsed(offset >> _pageShift);
            offset = va - _expansionStart;
            return offset < _expansionBytes && _expansion.IsUsed(offset >> _pageShift);
        }

        private readonly bool IsCached(ulong address)
        {
            for (int i = 0; i < (int)_counters.CachedPages; i++)
            {
                if (_cache[i] == address)
                    return true;
            }
            return false;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private bool Locate(ulong virtualAddress, out SystemPteSpace* space, out ulong slot)
        {
            ulong offset = virtualAddress - _initialStart;
            if (offset < _initialBytes)
            {
                space = Space(0);
                slot = offset >> _pageShift;
                return true;
            }
            offset = virtualAddress - _expansionStart;
            space = Space(1);
            slot = offset >> _pageShift;
            return offset < _expansionBytes;
        }

        private SystemPteSpace* Space(int which)
            => which == 0 ? (SystemPteSpace*)Unsafe.AsPointer(ref _initial) : (SystemPteSpace*)Unsafe.AsPointer(ref _expansion);

        // A header is two 8-byte words: sizes, state, pool type and check; then tag and bytes requested.
        // Headers are written whole, from registers, never field by field: a narrow store followed by the
        // 8-byte load of the check would stall store forwarding on every operation.
        private const ulong FieldsMask = 0x0000FFFFFFFFFFFFUL;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly ulong Fields(uint previous, uint size, PoolBlockState state)
            => previous | (ulong)size << 16 | (ulong)state << 32 | (ulong)_type << 40;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static ulong Tail(uint tag, uint requested) => tag | (ulong)requested << 32;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly void Store(PoolHeader* header, ulong fields, ulong tail)
        {
            ((ulong*)header)[1] = tail;
            *(ulong*)header = fields | (ulong)CheckOf(header, fields, tail) << 48;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly void StoreFree(PoolHeader* header, uint previous, uint size, uint tag)
            => Store(header, Fields(previous, size, PoolBlockState.Free), Tail(tag, 0));

        /// <summary>Points a header's previous size at a new neighbour, resealing it.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly void SetPrevious(PoolHeader* header, uint previous)
            => Store(header, (*(ulong*)header & FieldsMask & ~0xFFFFUL) | previous, ((ulong*)header)[1]);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly bool IsSealed(PoolHeader* header)
        {
            ulong first = *(ulong*)header;
            return (ushort)(first >> 48) == CheckOf(header, first & FieldsMask, ((ulong*)header)[1]);
        }

        /// <summary>A 16-bit hash of the header's other fields, its address and the cookie: an overrun or a stray write shows.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly ushort CheckOf(PoolHeader* header, ulong fields, ulong tail)
        {
            // One multiply spreads any changed bit of either word (folded with the address and cookie) into the top 16.
            ulong x = (fields ^ _cookie ^ (ulong)header) + ((tail << 23) | (tail >> 41));
            x ^= x >> 29;
            x *= 0xBF58476D1CE4E5B9UL;
            return (ushort)(x >> 48);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly byte CanaryOf(byte* data) => (byte)((_cookie >> 24) ^ ((ulong)data >> 4) ^ 0x5A);

        private struct Lookaside
        {
            public ulong Head;
            public uint Depth;
            public uint MaxDepth;
            /// <summary>Allocations that found the list empty since its depth last grew.</summary>
            public uint Misses;
            public uint Reserved;
        }

        [InlineArray(ListCount)]
        private struct ListHeads
        {
            private PoolLinks _element;
        }

        [InlineArray(ListCount / 64 + 1)]
        private struct ListBitmap
        {
            private ulong _element;
        }

        [InlineArray((int)LookasideMaxUnits + 1)]
        private struct Lookasides
        {
            private Lookaside _element;
        }

        [InlineArray(TagCapacity)]
        private struct TagTable
        {
            private PoolTagStats _element;
        }

        [InlineArray(BigCapacity)]
        private struct BigTable
        {
            private PoolBigEntry _element;
        }

        [InlineArray(SpecialQuarantine)]
        private struct QuarantineRing
        {
            private ulong _element;
        }

        [InlineArray(PageCacheCapacity)]
        private struct PageCache
        {
            private ulong _element;
        }
    }
}
