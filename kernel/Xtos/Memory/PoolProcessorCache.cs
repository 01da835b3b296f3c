using System.Runtime.CompilerServices;
using ExectOS.Diagnostics;

namespace ExectOS.Memory
{
    /// <summary>
    /// One processor's part of a pool (NT's per-processor lookaside lists): a list of parked small blocks per hot size,
    /// which only that processor pushes and pops, so its common allocate and free take no shared lock. Each list keeps
    /// its share of the pool's counts (<see cref="Lookaside"/>), and up to four tags' counts are kept here apart; both
    /// are added in whenever the counts are read.
    /// </summary>
    public unsafe struct PoolProcessorCache
    {
        /// <summary>Tags whose counts a processor keeps apart at once; a fifth tag goes through the pool's lock.</summary>
        public const int TagSlots = 4;

        // The tag slots first and the lists right after them, where FirstSlot and ListsOf find them by address alone (no
        // field access, so no null check on the lean paths); PoolProcessorCacheTests checks the layout.
#pragma warning disable CS0649 // written through pointers to its elements
        internal TagDeltas Tags;
#pragma warning restore CS0649
        internal ProcessorLists Lists;

        /// <summary>The first tag slot of <paramref name="part"/>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static TagDelta* FirstSlot(PoolProcessorCache* part) => (TagDelta*)part;

        /// <summary>The lists of <paramref name="part"/>, indexed by block size in units.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static Lookaside* ListsOf(PoolProcessorCache* part) => (Lookaside*)((TagDelta*)part + TagSlots);

        [InlineArray((int)Pool.ProcessorMaxUnits + 1)]
        internal struct ProcessorLists
        {
            private Lookaside _element;
        }

        [InlineArray(TagSlots)]
        internal struct TagDeltas
        {
            private TagDelta _element;
        }
    }

    /// <summary>
    /// A processor's part of one tag's counts; <see cref="Entry"/> is the tag's slot in the pool's table. The counts are
    /// side by side as in <see cref="PoolTagStats"/>, so the fast path updates either through one pointer.
    /// </summary>
    internal unsafe struct TagDelta
    {
        public PoolTagStats* Entry;
        public uint Tag;
        public ulong Allocations, Frees, BytesInUse;

        /// <summary>A block of <paramref name="bytes"/> handed out from one of the processor's lists.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void CountAllocation(ulong bytes)
        {
            Allocations++;
            BytesInUse += bytes;
        }

        /// <summary>A block of <paramref name="requested"/> bytes parked on one of the processor's lists.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void CountFree(ulong requested)
        {
            Frees++;
            BytesInUse -= requested;
        }
    }

    public unsafe partial struct Pool
    {
        /// <summary>The first depth of a processor's list up to 512 bytes; it doubles up to <see cref="LookasideDepthMax"/> as the shared ones do.</summary>
        public const uint ProcessorListDepth = 32;

        /// <summary>The most bytes a processor's list above <see cref="LookasideMaxUnits"/> holds (its blocks' sizes added).</summary>
        public const ulong ProcessorListBytesMax = 16384;

        /// <summary>The most bytes a request served by a processor's own lists has: its largest block less the header.</summary>
        public const ulong ProcessorMaxBytes = (ProcessorMaxUnits - 1) << UnitShift;

        /// <summary>The first depth of a processor's list of <paramref name="units"/>: <see cref="ProcessorListDepth"/>, less where that would pass the list's bytes.</summary>
        public static uint ProcessorListDepthFor(uint units) => units <= LookasideMaxUnits ? ProcessorListDepth : ProcessorDepthMax(units) < ProcessorListDepth ? ProcessorDepthMax(units) : ProcessorListDepth;

        /// <summary>The most a processor's list of <paramref name="units"/> grows to: <see cref="LookasideDepthMax"/> up to 512 bytes, what <see cref="ProcessorListBytesMax"/> holds above.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static uint ProcessorDepthMax(ulong units) => units <= LookasideMaxUnits ? LookasideDepthMax : (uint)(ProcessorListBytesMax / (units << UnitShift));

        /// <summary>Bytes <see cref="AttachProcessorCaches"/> needs for <paramref name="processors"/> processors.</summary>
        public static ulong ProcessorCacheBytes(uint processors) => (ulong)processors * (ulong)sizeof(PoolProcessorCache);

        /// <summary>
        /// Gives processors 0 to <paramref name="processors"/> - 1 a part of their own, in <paramref name="memory"/>
        /// (<see cref="ProcessorCacheBytes"/> bytes, outside this pool). Before any processor uses the pool's fast paths.
        /// </summary>
        public void AttachProcessorCaches(void* memory, uint processors)
        {
            new System.Span<byte>(memory, (int)ProcessorCacheBytes(processors)).Clear();
            _processors = (PoolProcessorCache*)memory;
            for (uint p = 0; p < processors; p++)
            {
                for (uint units = 0; units <= ProcessorMaxUnits; units++)
                    _processors[p].Lists[(int)units].MaxDepth = ProcessorListDepthFor(units);
            }
            _processorCount = processors;
            // With a special tag every allocation is first the special pool's to take: no processor's lean path serves one.
            _fastProcessors = _specialTag != 0 ? 0 : processors;
        }

        /// <summary>
        /// The pool's counts with every processor's part added: its lists' blocks, and its tag slots' allocations, frees
        /// and bytes (every operation on a processor's own lists is counted in one of its slots). Exact when no processor
        /// is in the pool; while some are, each part is a value it had a moment ago.
        /// </summary>
        public readonly PoolCounters Counters
        {
            get
            {
                PoolCounters total = _counters;
                for (int units = 2; units <= LookasideMaxUnits; units++)
                    AddList(ref total, in _lookaside[units]);
                for (uint p = 0; p < _processorCount; p++)
                {
                    for (int units = 2; units <= ProcessorMaxUnits; units++)
                        AddList(ref total, in _processors[p].Lists[units]);
                    for (int i = 0; i < PoolProcessorCache.TagSlots; i++)
                    {
                        TagDelta slot = _processors[p].Tags[i];
                        total.Allocations += slot.Allocations;
                        total.Frees += slot.Frees;
                        total.BytesInUse += slot.BytesInUse;
                    }
                }
                return total;
            }
        }

        /// <summary>
        /// The lean allocate, inline in callers: a block of <paramref name="bytes"/> for <paramref name="tag"/> from the top
        /// of processor <paramref name="processor"/>'s own list when everything is as usual: a part, a hot size, the tag
        /// in the first counted slot, the list not empty, its top block and link intact. Null otherwise, with nothing
        /// changed and nothing said: the caller then calls <see cref="TryAllocateFast"/> (out of line), which decides and
        /// names any problem. It is the same pop as the full path's, with the head known to be one the pool wrote and the
        /// top block's header and link known to be as they were parked (see <see cref="LinkCheck"/>), so it needs no
        /// new hash of the header.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void* TryPop(uint processor, ulong bytes, uint tag)
        {
            if (processor >= _fastProcessors || bytes - 1 >= ProcessorMaxBytes)
                return null;
            PoolProcessorCache* part = _processors + processor;
            TagDelta* slot = PoolProcessorCache.FirstSlot(part);
            if (slot->Tag != tag || tag == 0)
                return null;
            ulong units = (bytes + 2 * UnitSize - 1) >> UnitShift;
            Lookaside* list = PoolProcessorCache.ListsOf(part) + units;
            ulong head = list->Head;
            PoolLinks* node = Decode(head);
            PoolHeader* header = (PoolHeader*)node - 1;
            if (head == 0)
                return null;
            // The first word's upper half and the size apart, not the previous size (the lock holder's to change).
            ulong upper = ((uint*)header)[1];
            ulong link = node->Flink;
            // Parked, of the list's size, and as it was parked: its header (sealed then) and its link (see LinkCheck).
            if (((uint)upper << 16 | header->BlockSize) != (uint)ParkedShape((uint)units) || node->Blink != LinkCheck(node, link, upper, ((ulong*)header)[1]))
                return null;
            list->Head = link;
            list->Pops++;
            slot->CountAllocation(bytes);
            return Stamp(header, (uint)upper, (uint)units, bytes, tag);
        }

        /// <summary>
        /// The lean free, inline in callers: the block at <paramref name="address"/> parked on processor
        /// <paramref name="processor"/>'s own list when it passes every check of <see cref="TryFreeFast"/> and everything
        /// is as usual (the list has room, the block's tag in the first counted slot). False otherwise, with nothing
        /// changed: the caller then calls <see cref="TryFreeFast"/> and the locked free (out of line).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public bool TryPark(uint processor, void* address, uint tag)
        {
            if (processor >= _fastProcessors)
                return false;
            PoolHeader* header = ParkableBlock(address, tag, sealedNext: false, ProcessorMaxUnits, out ulong first, out ulong second);
            if (header == null)
                return false;
            ulong size = (ushort)(first >> 16);
            PoolProcessorCache* part = _processors + processor;
            TagDelta* slot = PoolProcessorCache.FirstSlot(part);
            Lookaside* list = PoolProcessorCache.ListsOf(part) + size;
            if (slot->Tag != (uint)second || list->Depth >= list->MaxDepth)
                return false;
            Park(ref *list, header, first, second);
            slot->CountFree(second >> 32);
            return true;
        }

        /// <summary>
        /// The fast allocate: a block of <paramref name="bytes"/> for <paramref name="tag"/> from processor
        /// <paramref name="processor"/>'s own list, without the pool's lock. Null when it cannot serve the request (no
        /// part, not a small hot size, its list empty, the tag not among its counted ones): the caller then takes the lock
        /// and calls <see cref="Allocate"/>. A list found corrupt is null with <paramref name="problem"/> set (it is
        /// written only then: the caller cleared it).
        /// </summary>
        public void* TryAllocateFast(uint processor, ulong bytes, uint tag, ref PoolProblem problem)
        {
            if (processor >= _fastProcessors || bytes > ProcessorMaxBytes || tag == 0)
                return null;
            uint units = UnitsFor(bytes);
            PoolProcessorCache* part = _processors + processor;
            ref Lookaside list = ref Unsafe.Add(ref part->Lists[0], (int)units);
            if (list.Head == 0)
            {
                list.Misses++;
                return null;
            }
            TagDelta* slot = CountedTag(part, tag);
            if (slot == null)
                return null;
            void* data = PopParked(ref list, units, bytes, tag, ref problem);
            if (data != null)
                slot->CountAllocation(bytes);
            return data;
        }

        /// <summary>
        /// The fast free: a small block of a hot size parked on processor <paramref name="processor"/>'s own list, without
        /// the pool's lock, after the checks on the block itself (sealed, allocated, its size and place, its tag, the
        /// canary) and on the one field of the next header no other processor changes while this block is allocated (its
        /// previous size). False when anything is not so, or the list is full: the caller then takes the lock and calls
        /// <see cref="Free"/>, which checks everything again and says what is wrong.
        /// </summary>
        public bool TryFreeFast(uint processor, void* address, uint tag)
        {
            if (processor >= _fastProcessors)
                return false;
            PoolHeader* header = ParkableBlock(address, tag, sealedNext: false, ProcessorMaxUnits, out ulong first, out ulong second);
            if (header == null)
                return false;
            uint size = (ushort)(first >> 16);
            PoolProcessorCache* part = _processors + processor;
            ref Lookaside list = ref Unsafe.Add(ref part->Lists[0], (int)size);
            if (!CanPark(ref list, ProcessorDepthMax(size)))
                return false;
            TagDelta* slot = CountedTag(part, (uint)second);
            if (slot == null)
                return false;
            Park(ref list, header, first, second);
            slot->CountFree(second >> 32);
            return true;
        }

        /// <summary>
        /// Under the pool's lock, on processor <paramref name="processor"/>: gives <paramref name="tag"/> a slot among
        /// the processor's counted tags (the least used one's counts added into the pool's table when all are taken), so
        /// its next fast operations for that tag can count it.
        /// </summary>
        public void CountTagOn(uint processor, uint tag)
        {
            if (processor >= _processorCount || tag == 0)
                return;
            PoolProcessorCache* part = _processors + processor;
            if (CountedTag(part, tag) != null)
                return;
            int victim = 0;
            for (int i = 0; i < PoolProcessorCache.TagSlots; i++)
            {
                TagDelta* slot = (TagDelta*)Unsafe.AsPointer(ref part->Tags[i]);
                if (slot->Entry == null)
                {
                    victim = i;
                    break;
                }
                if (slot->Allocations + slot->Frees < part->Tags[victim].Allocations + part->Tags[victim].Frees)
                    victim = i;
            }
            TagDelta* target = (TagDelta*)Unsafe.AsPointer(ref part->Tags[victim]);
            FoldTag(target);
            target->Entry = TagEntry(tag);
            target->Tag = target->Entry->Tag;
        }

        /// <summary>
        /// Every processor's lists back into the pool (coalesced, as <see cref="Flush"/> does with the shared ones) and
        /// every part's counts into the pool's own. Only when no processor is in the pool (under its lock, others idle).
        /// </summary>
        public PoolProblem DrainProcessorCaches<TPages>(ref TPages pages) where TPages : struct, IPoolPages
        {
            PoolProblem problem = default;
            for (uint p = 0; p < _processorCount && problem.IsOk; p++)
            {
                PoolProcessorCache* part = _processors + p;
                for (uint units = 2; units <= ProcessorMaxUnits && problem.IsOk; units++)
                {
                    ref Lookaside list = ref part->Lists[(int)units];
                    while (list.Head != 0 && problem.IsOk)
                    {
                        PoolHeader* header = DrainParked(ref list, units, ref problem);
                        if (header != null)
                            Coalesce(ref pages, header, ref problem);
                    }
                    list.MaxDepth = ProcessorListDepthFor(units);
                    list.Misses = 0;
                }
                Fold(part);
            }
            return problem;
        }

        /// <summary>Adds a processor's part of the tags' counts into the pool's table and clears it (under the lock, the part idle).</summary>
        private void Fold(PoolProcessorCache* part)
        {
            for (int i = 0; i < PoolProcessorCache.TagSlots; i++)
            {
                TagDelta* slot = (TagDelta*)Unsafe.AsPointer(ref part->Tags[i]);
                FoldTag(slot);
                *slot = default;
            }
        }

        /// <summary>A slot's counts moved into its tag's entry and the pool's own counts (under the lock).</summary>
        private void FoldTag(TagDelta* slot)
        {
            if (slot->Entry == null)
                return;
            slot->Entry->Allocations += slot->Allocations;
            slot->Entry->Frees += slot->Frees;
            slot->Entry->BytesInUse += slot->BytesInUse;
            _counters.Allocations += slot->Allocations;
            _counters.Frees += slot->Frees;
            _counters.BytesInUse += slot->BytesInUse;
            slot->Allocations = slot->Frees = slot->BytesInUse = 0;
        }

        /// <summary>
        /// The counts (allocations, frees, bytes in use) processor part <paramref name="part"/> keeps for
        /// <paramref name="tag"/>, or null when the tag is not among its counted ones. The slot used last is first.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static TagDelta* CountedTag(PoolProcessorCache* part, uint tag)
        {
            TagDelta* slot = (TagDelta*)Unsafe.AsPointer(ref part->Tags[0]);
            if (slot->Tag == tag && slot->Entry != null)
                return slot;
            return CountedTagAfterFirst(part, tag);
        }

        /// <summary>The other slots of <see cref="CountedTag"/>; the one found moves to the front.</summary>
        private static TagDelta* CountedTagAfterFirst(PoolProcessorCache* part, uint tag)
        {
            for (int i = 1; i < PoolProcessorCache.TagSlots; i++)
            {
                TagDelta* slot = (TagDelta*)Unsafe.AsPointer(ref part->Tags[i]);
                if (slot->Tag == tag && slot->Entry != null)
                {
                    TagDelta* front = (TagDelta*)Unsafe.AsPointer(ref part->Tags[0]);
                    TagDelta found = *slot;
                    *slot = *front;
                    *front = found;
                    return front;
                }
            }
            return null;
        }

        /// <summary>A tag's counts with every processor's part added (what <see cref="TagAt"/> and <see cref="TryGetTag"/> return).</summary>
        private readonly PoolTagStats WithParts(PoolTagStats stats, PoolTagStats* entry)
        {
            for (uint p = 0; p < _processorCount; p++)
            {
                for (int i = 0; i < PoolProcessorCache.TagSlots; i++)
                {
                    TagDelta slot = _processors[p].Tags[i];
                    if (slot.Entry == entry)
                    {
                        stats.Allocations += slot.Allocations;
                        stats.Frees += slot.Frees;
                        stats.BytesInUse += slot.BytesInUse;
                    }
                }
            }
            return stats;
        }

        /// <summary>The parked blocks on every processor's lists, for <see cref="Validate"/>: each checked, counted per list.</summary>
        private readonly PoolProblem ValidateProcessorLists(ref ulong parked)
        {
            for (uint p = 0; p < _processorCount; p++)
            {
                for (uint units = 2; units <= ProcessorMaxUnits; units++)
                {
                    PoolProblem problem = ValidateParked(_processors[p].Lists[(int)units].Head, _processors[p].Lists[(int)units].Depth, units, ref parked);
                    if (!problem.IsOk)
                        return problem;
                }
            }
            return default;
        }
    }
}
