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

        internal ProcessorLists Lists;
#pragma warning disable CS0649 // written through pointers to its elements
        internal TagDeltas Tags;
#pragma warning restore CS0649

        [InlineArray((int)Pool.LookasideMaxUnits + 1)]
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
    }

    public unsafe partial struct Pool
    {
        /// <summary>The first depth of a processor's list; it doubles up to <see cref="LookasideDepthMax"/> as the shared ones do.</summary>
        public const uint ProcessorListDepth = 32;

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
                for (int units = 0; units <= LookasideMaxUnits; units++)
                    _processors[p].Lists[units].MaxDepth = ProcessorListDepth;
            }
            _processorCount = processors;
        }

        /// <summary>
        /// The pool's counts with every processor's part added. Exact when no processor is in the pool; while some are,
        /// each part is a value it had a moment ago.
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
                    for (int units = 2; units <= LookasideMaxUnits; units++)
                        AddList(ref total, in _processors[p].Lists[units]);
                }
                return total;
            }
        }

        /// <summary>
        /// The fast allocate: a block of <paramref name="bytes"/> for <paramref name="tag"/> from processor
        /// <paramref name="processor"/>'s own list, without the pool's lock. Null when it cannot serve the request (no
        /// part, not a small hot size, its list empty, the tag not among its counted ones): the caller then takes the lock
        /// and calls <see cref="Allocate"/>. A list found corrupt is null with <paramref name="problem"/> set (it is
        /// written only then: the caller cleared it).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void* TryAllocateFast(uint processor, ulong bytes, uint tag, ref PoolProblem problem)
        {
            if (processor >= _processorCount || bytes > LookasideMaxBytes || tag == 0 || _specialTag != 0)
                return null;
            uint units = UnitsFor(bytes);
            PoolProcessorCache* part = _processors + processor;
            ref Lookaside list = ref Unsafe.Add(ref part->Lists[0], (int)units);
            if (list.Head == 0)
            {
                list.Misses++;
                return null;
            }
            ulong* counts = CountedTag(part, tag);
            if (counts == null)
                return null;
            return PopParked(ref list, units, bytes, tag, counts, ref problem);
        }

        /// <summary>
        /// The fast free: a small block of a hot size parked on processor <paramref name="processor"/>'s own list, without
        /// the pool's lock, after the checks on the block itself (sealed, allocated, its size and place, its tag, the
        /// canary) and on the one field of the next header no other processor changes while this block is allocated (its
        /// previous size). False when anything is not so, or the list is full: the caller then takes the lock and calls
        /// <see cref="Free"/>, which checks everything again and says what is wrong.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public bool TryFreeFast(uint processor, void* address, uint tag)
        {
            if (processor >= _processorCount)
                return false;
            PoolHeader* header = ParkableBlock(address, tag, sealedNext: false, out ulong first, out ulong second);
            if (header == null)
                return false;
            uint size = (ushort)(first >> 16);
            PoolProcessorCache* part = _processors + processor;
            ref Lookaside list = ref Unsafe.Add(ref part->Lists[0], (int)size);
            if (!CanPark(ref list))
                return false;
            ulong* counts = CountedTag(part, (uint)second);
            if (counts == null)
                return false;
            Park(ref list, header, first, second >> 32, counts);
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
                for (uint units = 2; units <= LookasideMaxUnits && problem.IsOk; units++)
                {
                    ref Lookaside list = ref part->Lists[(int)units];
                    while (list.Head != 0 && problem.IsOk)
                    {
                        PoolHeader* header = DrainParked(ref list, units, ref problem);
                        if (header != null)
                            Coalesce(ref pages, header, ref problem);
                    }
                    list.MaxDepth = ProcessorListDepth;
                    list.Misses = 0;
                }
                Fold(part);
            }
            return problem;
        }

        /// <summary>Adds a processor's part of the tags' counts into the pool's table and clears it (under the lock, the part idle).</summary>
        private static void Fold(PoolProcessorCache* part)
        {
            for (int i = 0; i < PoolProcessorCache.TagSlots; i++)
            {
                TagDelta* slot = (TagDelta*)Unsafe.AsPointer(ref part->Tags[i]);
                FoldTag(slot);
                *slot = default;
            }
        }

        private static void FoldTag(TagDelta* slot)
        {
            if (slot->Entry == null)
                return;
            slot->Entry->Allocations += slot->Allocations;
            slot->Entry->Frees += slot->Frees;
            slot->Entry->BytesInUse += slot->BytesInUse;
            slot->Allocations = slot->Frees = slot->BytesInUse = 0;
        }

        /// <summary>
        /// The counts (allocations, frees, bytes in use) processor part <paramref name="part"/> keeps for
        /// <paramref name="tag"/>, or null when the tag is not among its counted ones. The slot used last is first.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static ulong* CountedTag(PoolProcessorCache* part, uint tag)
        {
            TagDelta* slot = (TagDelta*)Unsafe.AsPointer(ref part->Tags[0]);
            if (slot->Tag == tag && slot->Entry != null)
                return &slot->Allocations;
            return CountedTagAfterFirst(part, tag);
        }

        /// <summary>The other slots of <see cref="CountedTag"/>; the one found moves to the front.</summary>
        private static ulong* CountedTagAfterFirst(PoolProcessorCache* part, uint tag)
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
                    return &front->Allocations;
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
                for (uint units = 2; units <= LookasideMaxUnits; units++)
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
