using System.Runtime.CompilerServices;
using ExectOS.Diagnostics;

namespace ExectOS.Memory
{
    /// <summary>
    /// A lookaside list: parked small blocks of one size, pushed and popped at the top, carrying its own share of the
    /// pool's counts (the shared lists and each processor's alike). Pops and pushes only grow (wrapping) and bytes move
    /// both ways, so a reader of the counts adds every list in (<see cref="Pool.Counters"/>); nothing is folded back.
    /// </summary>
    internal struct Lookaside
    {
        /// <summary>The top block's link field, encoded with the cookie; 0 when the list is empty.</summary>
        public ulong Head;
        /// <summary>Blocks handed out from the list: each an allocation and a lookaside hit.</summary>
        public ulong Pops;
        /// <summary>Blocks parked on it by frees: each a free.</summary>
        public ulong Pushes;
        /// <summary>Blocks taken off it without an allocation (flushed back to the free lists).</summary>
        public ulong Drained;
        /// <summary>Bytes asked for by the blocks it handed out, less those of the blocks parked on it (wrapping).</summary>
        public ulong Bytes;
        public uint MaxDepth;
        /// <summary>Allocations that found the list empty since its depth last grew.</summary>
        public uint Misses;

        public readonly ulong Depth => Pushes - Pops - Drained;
    }

    /// <summary>
    /// The lookaside fast path, one for the shared lists and the processors' own: a pop checks the top block and stamps
    /// it allocated with one sealed header; a free that passed its checks parks the block with one store of its
    /// header's first word (its seal stays valid, see <see cref="ParkFlip"/>). The counts each operation changes are
    /// the list's and the tag's (<c>counts</c>: a tag's allocations, frees and bytes in use, side by side). Part of
    /// <see cref="Pool"/>; the fields are in Pool.cs.
    /// </summary>
    public unsafe partial struct Pool
    {
        /// <summary>The most bytes a lookaside size holds: its largest block less the header.</summary>
        public const ulong LookasideMaxBytes = (LookasideMaxUnits - 1) << UnitShift;

        // The first header word's state byte and its seal both change by the same bits from allocated to parked (the
        // seal takes the state and pool type in unhashed, see CheckOf), so parking needs no new hash.
        private const ulong StateFlip = (ulong)(PoolBlockState.Allocated ^ PoolBlockState.Lookaside);
        private const ulong ParkFlip = StateFlip << 32 | StateFlip << 48;

        /// <summary>Bits 16 to 47 of a parked block's first header word: its size, the parked state, the pool type.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly ulong ParkedShape(uint units) => units | (ulong)PoolBlockState.Lookaside << 16 | _typeBits >> 16;

        /// <summary>The top block of <paramref name="list"/> handed out for <paramref name="bytes"/> of <paramref name="tag"/>; null with a problem when the list is corrupt.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void* PopParked(ref Lookaside list, uint units, ulong bytes, uint tag, ulong* counts, ref PoolProblem problem)
        {
            PoolHeader* header = TopParked(ref list, units, out ulong first, ref problem);
            if (header == null)
                return null;
            list.Head = ((PoolLinks*)(header + 1))->Flink;
            list.Pops++;
            list.Bytes += bytes;
            counts[0]++;
            counts[2] += bytes;
            Store(header, (first & 0xFFFF) | Fields(0, units, PoolBlockState.Allocated), Tail(tag, (uint)bytes));
            byte* data = (byte*)(header + 1);
            if (bytes < ((ulong)units - 1) << UnitShift)
                data[bytes] = CanaryOf(data);
            return data;
        }

        /// <summary>
        /// The top block of <paramref name="list"/>, checked before its link is followed: in a small-block page of the
        /// pool, parked, of the list's size, sealed (an overrun into a parked block shows here, before a new header
        /// would hide it). <paramref name="first"/> is its header's first word.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly PoolHeader* TopParked(ref Lookaside list, uint units, out ulong first, ref PoolProblem problem)
        {
            PoolLinks* node = Decode(list.Head);
            PoolHeader* header = (PoolHeader*)node - 1;
            if (IsLive(node))
            {
                first = *(ulong*)header;
                if (((first >> 16) & 0xFFFFFFFF) == ParkedShape(units) && SealOf(header, first, ((ulong*)header)[1]))
                    return header;
            }
            first = 0;
            problem = ListCorrupt(list.Head, units);
            return null;
        }

        /// <summary>BAD_POOL_HEADER 3 for a lookaside list whose top is no parked block of its size (out of line: never on the fast path).</summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private readonly PoolProblem ListCorrupt(ulong head, uint units) => PoolProblem.Of(BadPoolHeaderCheck.ListCorrupt, (ulong)Decode(head), head, units);

        /// <summary>The top block of <paramref name="list"/> taken off to go back to the free lists (checked as a pop is).</summary>
        private PoolHeader* DrainParked(ref Lookaside list, uint units, ref PoolProblem problem)
        {
            PoolHeader* header = TopParked(ref list, units, out _, ref problem);
            if (header == null)
                return null;
            list.Head = ((PoolLinks*)(header + 1))->Flink;
            list.Drained++;
            return header;
        }

        /// <summary>
        /// Whether <paramref name="list"/> takes one more block. A list full on frees while allocations keep missing it
        /// (the working set is larger than the list) doubles its depth up to <see cref="LookasideDepthMax"/>, as NT's do.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static bool CanPark(ref Lookaside list)
        {
            if (list.Depth < list.MaxDepth)
                return true;
            if (list.MaxDepth >= LookasideDepthMax || list.Misses < list.MaxDepth / 2)
                return false;
            list.MaxDepth *= 2;
            list.Misses = 0;
            return true;
        }

        /// <summary>
        /// Parks an allocated block on <paramref name="list"/>, still carved out (no neighbour is touched). The caller
        /// checked everything; <paramref name="first"/> is the header's first word as checked.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void Park(ref Lookaside list, PoolHeader* header, ulong first, ulong requested, ulong* counts)
        {
            *(ulong*)header = first ^ ParkFlip;
            var node = (PoolLinks*)(header + 1);
            node->Flink = list.Head;
            list.Head = Encode(node);
            list.Pushes++;
            list.Bytes -= requested;
            counts[1]++;
            counts[2] -= requested;
        }

        /// <summary>A list's share of the pool's counts added into <paramref name="counters"/>.</summary>
        private static void AddList(ref PoolCounters counters, in Lookaside list)
        {
            counters.Allocations += list.Pops;
            counters.LookasideHits += list.Pops;
            counters.Frees += list.Pushes;
            counters.SmallBlocks += list.Pops - list.Pushes;
            counters.LookasideBlocks += list.Depth;
            counters.BytesInUse += list.Bytes;
        }

        /// <summary>A tag's allocations, frees and bytes in use in the pool's table (the three side by side).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private ulong* TagCounts(uint tag) => &TagEntry(tag)->Allocations;
    }
}
