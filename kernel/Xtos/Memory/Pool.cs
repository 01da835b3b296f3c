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
    /// <para>
    /// One concept a file: this one holds the fields, the configuration and the entry points; PoolSmallBlocks.cs,
    /// PoolLookaside.cs (the lookaside fast path and its counts), PoolRegionPages.cs, PoolBigAllocations.cs,
    /// PoolSpecial.cs, PoolTags.cs, PoolValidation.cs and PoolProcessorCache.cs (each processor's own lists) the rest.
    /// </para>
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
        /// <summary>Block sizes (in units, header included) with a shared lookaside list: up to 512 bytes.</summary>
        public const uint LookasideMaxUnits = 32;
        /// <summary>
        /// Block sizes (in units) with a list on each processor: up to 4 KiB, beyond NT's 512 bytes, so the common sizes of
        /// kernel structures up to a page take no lock. Lists above <see cref="LookasideMaxUnits"/> hold at most
        /// <see cref="ProcessorListBytesMax"/> bytes each.
        /// </summary>
        public const uint ProcessorMaxUnits = 256;
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

        // First, so the lean paths' first reads are near the pool's address (the compiler then needs no null check of it):
        // each processor's own lists and part of the counts (PoolProcessorCache.cs), outside the pool (null: none), and
        // the processors whose lists serve allocations and frees: all of them, or none while a special tag is set.
        private PoolProcessorCache* _processors;
        private uint _processorCount;
        private uint _fastProcessors;
        private PoolType _type;
        private int _pageShift;
        private ulong _pageSize;
        private uint _pageUnits;
        private ulong _cookie;
        // The cookie's halves swapped: the key of a parked block's link check (PoolLookaside.cs).
        private ulong _linkKey;
        private long _displacement;
        private uint _specialTag;
        private bool _demand;
        // Derived once for the hot paths: the page offset mask, and the pool type where it sits in a header's first word.
        private ulong _pageMask;
        private ulong _typeBits;
        // Bits 32 to 47 of an allocated block's first header word: its state and this pool's type.
        private ulong _allocatedShape;
        // Bits 16 to 47 of a parked block's first header word but its size: the parked state and this pool's type.
        private ulong _parkedShape;
        // A block's canary is its data address's bits 4 to 11 under this key (see CanaryOf).
        private ulong _canaryKey;
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
            _linkKey = _cookie << 32 | _cookie >> 32;
            _displacement = config.Displacement;
            _specialTag = config.SpecialTag;
            _demand = config.DemandCommit;
            _pageMask = _pageSize - 1;
            _typeBits = (ulong)_type << 40;
            _allocatedShape = (ulong)PoolBlockState.Allocated | (ulong)_type << 8;
            _parkedShape = (ulong)PoolBlockState.Lookaside << 16 | (ulong)_type << 24;
            _canaryKey = (_cookie >> 24) ^ 0x5A;
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
            // The common case inline: a hot size for an ordinary tag while its lookaside list holds a block.
            if (bytes <= LookasideMaxBytes && tag != 0 && alignment <= UnitSize && (alignment & (alignment - 1)) == 0 && _specialTag == 0)
            {
                uint units = UnitsFor(bytes);
                ref Lookaside list = ref SharedList(units);
                if (list.Head != 0)
                    return PopShared(ref list, units, bytes, tag, ref problem);
            }
            return AllocateAny(ref pages, bytes, tag, alignment, ref problem);
        }

        /// <summary>Everything <see cref="Allocate"/> does but its inline case.</summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private void* AllocateAny<TPages>(ref TPages pages, ulong bytes, uint tag, ulong alignment, ref PoolProblem problem)
            where TPages : struct, IPoolPages
        {
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
            // The common case inline: a hot size that passes every check, parked on its shared lookaside list.
            PoolHeader* header = ParkableBlock(address, tag, sealedNext: true, LookasideMaxUnits, out ulong first, out ulong second);
            if (header != null)
            {
                ref Lookaside list = ref SharedList((ushort)(first >> 16));
                if (CanPark(ref list, LookasideDepthMax))
                {
                    ParkShared(ref list, header, first, second);
                    return default;
                }
            }
            return FreeAny(ref pages, address, tag);
        }

        /// <summary>Everything <see cref="Free"/> does but its inline case, and every problem named.</summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private PoolProblem FreeAny<TPages>(ref TPages pages, void* address, uint tag)
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
            if ((virtualAddress & _pageMask) == 0)
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
        private readonly bool IsPageEnd(PoolHeader* header) => OffsetInPage(header) == 0;

        /// <summary>A header's byte offset in its page (of the pool's virtual addresses).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly ulong OffsetInPage(PoolHeader* header) => ((ulong)header - (ulong)_displacement) & _pageMask;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly ulong Encode(void* node) => (ulong)node ^ _cookie;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly PoolLinks* Decode(ulong link) => (PoolLinks*)(link ^ _cookie);

        /// <summary>The shared lookaside list of <paramref name="units"/> (2 to <see cref="LookasideMaxUnits"/>, the caller's check).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private ref Lookaside SharedList(uint units) => ref Unsafe.AsRef<Lookaside>((Lookaside*)Unsafe.AsPointer(ref _lookaside[0]) + units);

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
        //
        // Who writes what. The previous size (bits 0 to 15) is the neighbour's field: the lock holder rewrites it when the
        // block before is split or merged (SetPrevious), whoever owns this block at the time, so it is outside the seal
        // and the link check, and it is stored alone. Everything else is the owner's: the lock holder's for a free block
        // or one it hands out or takes back, a processor's on its own lists, without the lock, for a block it parks, pops
        // or frees. Those lock-free writes cover the upper half of the first word (state, type, seal; SetUpper) and the
        // second word, never the previous size, so no write of the lock holder's is lost to them. Headers are otherwise
        // written whole, from registers; the lock-free paths read the first word's parts apart (ReadFirst, or the size and
        // the upper half), so a load never straddles the narrower store before it (which would stall store forwarding on
        // every operation).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly ulong Fields(uint previous, uint size, PoolBlockState state)
            => previous | (ulong)size << 16 | (ulong)state << 32 | _typeBits;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static ulong Tail(uint tag, uint requested) => tag | (ulong)requested << 32;

        /// <summary>A header written whole (the block is the lock holder's: free, or being handed out or taken back under the lock).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly void Store(PoolHeader* header, ulong fields, ulong tail)
        {
            ((ulong*)header)[1] = tail;
            *(ulong*)header = fields | (ulong)CheckOf(header, fields, tail) << 48;
        }

        /// <summary>A header resealed by its owner, wherever it runs: the second word and the first word's upper half, not the previous size.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly void StoreOwned(PoolHeader* header, ulong fields, ulong tail)
        {
            ((ulong*)header)[1] = tail;
            SetUpper(header, (uint)((fields | (ulong)CheckOf(header, fields, tail) << 48) >> 32));
        }

        /// <summary>The upper half of the first word (state, pool type, seal), in one store: what the owner's lock-free writes of the first word are.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void SetUpper(PoolHeader* header, uint upper) => ((uint*)header)[1] = upper;

        /// <summary>A header's first word as its owner reads it, its halves apart (see the note on headers).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static ulong ReadFirst(PoolHeader* header) => (ulong)((uint*)header)[1] << 32 | *(uint*)header;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly void StoreFree(PoolHeader* header, uint previous, uint size, uint tag)
            => Store(header, Fields(previous, size, PoolBlockState.Free), Tail(tag, 0));

        /// <summary>
        /// Points a header's previous size at a new neighbour (under the pool's lock): one 16-bit store, no new seal or
        /// link check (neither covers it). The block may be another processor's, parked on its list or being freed by
        /// it; that processor's writes never cover this field, and nothing here writes the fields it owns.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void SetPrevious(PoolHeader* header, uint previous) => header->PreviousSize = (ushort)previous;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly bool IsSealed(PoolHeader* header) => SealOf(header, *(ulong*)header, ((ulong*)header)[1]);

        /// <summary>
        /// A neighbour's header as the lock holder may check it: at least two units, and sealed if it is free or if no
        /// processor has a lean path into the pool. Otherwise a block that is not free may be another processor's,
        /// rewritten on its lean path at this moment (the seal and the second word are two stores), so its seal is its
        /// owner's to check, when it frees or pops it; its size does not change while it is not free, and its previous
        /// size is checked against the block before by the callers (an overrun from that block reaches it first).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly bool IsSoundNeighbour(PoolHeader* header)
            => header->BlockSize >= 2 && ((header->State != PoolBlockState.Free && _fastProcessors != 0) || IsSealed(header));

        /// <summary>Whether a header's two words, as read, are sealed for its address.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly bool SealOf(PoolHeader* header, ulong first, ulong second)
        {
            // CheckOf's hash, compared in place: the seal (bits 48 to 63) against the hash's top 16 bits with the state
            // and type bytes (bits 32 to 47, shifted up to meet them) laid over them.
            ulong x = SealHash(header, first, second);
            return (x ^ first ^ (first << 16)) >> 48 == 0;
        }

        /// <summary>
        /// A 16-bit hash of the header's size and second word, its address and the cookie, with the state and pool type
        /// bytes laid over it unhashed: an overrun or a stray write shows, a changed state or type always. A block parked
        /// or handed back changes its state and its seal by the same bits, with no new hash (see <see cref="ParkFlip"/>).
        /// The previous size is not in it (see <see cref="SetPrevious"/>); it is checked against the block before.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly ushort CheckOf(PoolHeader* header, ulong fields, ulong tail)
            => (ushort)((SealHash(header, fields, tail) >> 48) ^ (fields >> 32));

        /// <summary>
        /// The seal's hash, of which <see cref="CheckOf"/> keeps the top 16 bits: the first word's size (bits 16 to 31,
        /// hashed from bit 0) and the second word, folded with the header's address and the cookie. One multiply by an
        /// odd constant carries any changed bit of either word into bits at or above its own, and so into the top 16: a
        /// change there always shows, one lower nearly always.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly ulong SealHash(PoolHeader* header, ulong first, ulong tail)
            => (((ulong)(ushort)(first >> 16) ^ _cookie ^ (ulong)header) + ((tail << 23) | (tail >> 41))) * 0xBF58476D1CE4E5B9UL;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly byte CanaryOf(byte* data) => (byte)(_canaryKey ^ ((ulong)data >> 4));

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
