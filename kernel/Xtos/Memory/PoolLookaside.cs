using System.Runtime.CompilerServices;
using ExectOS.Diagnostics;

namespace ExectOS.Memory
{
    /// <summary>
    /// A lookaside list: parked small blocks of one size, pushed and popped at the top, with the counts only it can keep:
    /// blocks parked on it and handed out from it (each one count a push or a pop), so its depth is two loads away; 32
    /// bytes. What the operations mean for the pool's and the tags' counts is kept where they are counted
    /// (<see cref="Pool.Counters"/>): the pool's own counts for the shared lists, under its lock, and a processor's tag
    /// slots for its own lists.
    /// </summary>
    internal struct Lookaside
    {
        /// <summary>The top block's link field, encoded with the cookie; 0 when the list is empty.</summary>
        public ulong Head;
        /// <summary>Blocks parked on it by frees (each a free), less those drained back to the free lists.</summary>
        public ulong Pushes;
        /// <summary>Blocks handed out from it: each an allocation and a lookaside hit.</summary>
        public ulong Pops;
        public uint MaxDepth;
        /// <summary>Allocations that found the list empty since its depth last grew.</summary>
        public uint Misses;

        public readonly ulong Depth => Pushes - Pops;
    }

    /// <summary>
    /// The lookaside lists' blocks, one format for the shared lists and the processors' own: a parked block keeps its
    /// header sealed as parked, its link (the next block, encoded with the cookie) in its first data word and the link's
    /// check in its second (<see cref="LinkCheck"/>). A pop checks the top block's header and link before it follows the
    /// link, so every block a list names was named by the pool, and stamps the block allocated with one sealed header; a
    /// free that passed its checks parks the block with one store of the upper half of its header's first word (its seal
    /// stays valid, see <see cref="ParkFlip"/>) and two of its link. None of these writes the previous size (see
    /// SetPrevious). The counts are the callers': a pop or a push is one count on the list. Part of <see cref="Pool"/>;
    /// the fields are in Pool.cs.
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
        private readonly ulong ParkedShape(uint units) => units | _parkedShape;

        /// <summary>
        /// What a parked block's second data word holds: its link, its header's second word and the upper half of its
        /// first (<paramref name="upper"/>, below 2^32: state, pool type and the seal, which covers the size and the
        /// second word) as parked, and its address, folded with a key from the cookie. A write into the parked header (an
        /// overrun from the block before) or into the first 16 data bytes (a use after free) breaks it unless the writer
        /// knows the cookie, or shows in the size, which a pop compares with its list's. So a pop needs no check of where
        /// a link points before it follows it, and the lean pop no new hash of a header that was sealed when it was
        /// parked. The previous size is not in it: the lock holder changes that while the block is parked (see
        /// SetPrevious). The upper half is rotated, not shifted: the same value, as it is below 2^32, in one instruction
        /// that leaves its operand alone.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly ulong LinkCheck(PoolLinks* node, ulong link, ulong upper, ulong second)
            => link ^ (ulong)node ^ _linkKey ^ ((upper << 23) | (upper >> 41)) ^ ((second << 41) | (second >> 23));

        /// <summary>
        /// The top block of <paramref name="list"/> taken off for <paramref name="bytes"/> of <paramref name="tag"/>
        /// (one count on the list; the caller counts the allocation); null with a problem when the list is corrupt.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void* PopParked(ref Lookaside list, uint units, ulong bytes, uint tag, ref PoolProblem problem)
        {
            PoolHeader* header = TopParked(ref list, units, out ulong first, out ulong link, ref problem);
            if (header == null)
                return null;
            list.Head = link;
            list.Pops++;
            return Stamp(header, (uint)(first >> 32), units, bytes, tag);
        }

        /// <summary>
        /// A parked block of <paramref name="units"/> (<paramref name="upper"/>: its first word's upper half as checked)
        /// stamped allocated for <paramref name="bytes"/> of <paramref name="tag"/>, by the owner's writes (not the
        /// previous size).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void* Stamp(PoolHeader* header, uint upper, uint units, ulong bytes, uint tag)
        {
            // The same tag and size as the block's last allocation (its second word, which parking kept): the header it
            // had then, whose seal the pop just checked, comes back with the state flipped. Otherwise a new seal.
            ulong tail = Tail(tag, (uint)bytes);
            if (((ulong*)header)[1] == tail)
                SetUpper(header, upper ^ (uint)(ParkFlip >> 32));
            else
                StoreOwned(header, Fields(0, units, PoolBlockState.Allocated), tail);
            byte* data = (byte*)(header + 1);
            if (bytes < ((ulong)units - 1) << UnitShift)
                data[bytes] = CanaryOf(data);
            return data;
        }

        /// <summary>
        /// The top block of <paramref name="list"/>, checked before its link is followed: in a small-block page of the
        /// pool, parked, of the list's size, sealed (an overrun into a parked block shows here, before a new header
        /// would hide it), its link and the link's check a pair. <paramref name="first"/> is its header's first word,
        /// <paramref name="link"/> the next block's.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly PoolHeader* TopParked(ref Lookaside list, uint units, out ulong first, out ulong link, ref PoolProblem problem)
        {
            PoolLinks* node = Decode(list.Head);
            PoolHeader* header = (PoolHeader*)node - 1;
            if (IsLive(node))
            {
                first = ReadFirst(header);
                link = node->Flink;
                ulong second = ((ulong*)header)[1];
                if (((first >> 16) & 0xFFFFFFFF) == ParkedShape(units) && SealOf(header, first, second))
                {
                    if (node->Blink == LinkCheck(node, link, first >> 32, second))
                        return header;
                    first = link = 0;
                    problem = LinkCorrupt(node, units);
                    return null;
                }
            }
            first = link = 0;
            problem = ListCorrupt(list.Head, units);
            return null;
        }

        /// <summary>BAD_POOL_HEADER 3 for a lookaside list whose top is no parked block of its size (out of line: never on the fast path).</summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private readonly PoolProblem ListCorrupt(ulong head, uint units) => PoolProblem.Of(BadPoolHeaderCheck.ListCorrupt, (ulong)Decode(head), head, units);

        /// <summary>BAD_POOL_HEADER 3 for a parked block whose link or header no longer matches its check: the block, its link as read, the list's size.</summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private readonly PoolProblem LinkCorrupt(PoolLinks* node, uint units) => PoolProblem.Of(BadPoolHeaderCheck.ListCorrupt, (ulong)node, node->Flink, units);

        /// <summary>
        /// The top block of <paramref name="list"/> taken off to go back to the free lists (checked as a pop is), under the
        /// pool's lock with the list idle. Its push is taken back, so the list's counts say what they said before it was
        /// parked but for the free; the pool's small blocks take one off to match (the list counts that free, see
        /// <see cref="AddList"/>).
        /// </summary>
        private PoolHeader* DrainParked(ref Lookaside list, uint units, ref PoolProblem problem)
        {
            PoolHeader* header = TopParked(ref list, units, out _, out ulong link, ref problem);
            if (header == null)
                return null;
            list.Head = link;
            list.Pushes--;
            _counters.SmallBlocks--;
            return header;
        }

        /// <summary>
        /// Whether <paramref name="list"/> takes one more block. A list full on frees while allocations keep missing it
        /// (the working set is larger than the list) doubles its depth up to <paramref name="depthMax"/>, as NT's do.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static bool CanPark(ref Lookaside list, uint depthMax)
        {
            if (list.Depth < list.MaxDepth)
                return true;
            if (list.MaxDepth >= depthMax || list.Misses < list.MaxDepth / 2)
                return false;
            list.MaxDepth = list.MaxDepth * 2 < depthMax ? list.MaxDepth * 2 : depthMax;
            list.Misses = 0;
            return true;
        }

        /// <summary>
        /// Parks an allocated block on <paramref name="list"/>, still carved out (no neighbour is touched), one count on
        /// the list; the caller checked everything and counts the free. <paramref name="first"/> and
        /// <paramref name="second"/> are the header's words as checked.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void Park(ref Lookaside list, PoolHeader* header, ulong first, ulong second)
        {
            ulong upper = (first ^ ParkFlip) >> 32;
            SetUpper(header, (uint)upper);
            var node = (PoolLinks*)(header + 1);
            ulong link = list.Head;
            node->Flink = link;
            node->Blink = LinkCheck(node, link, upper, second);
            list.Head = Encode(node);
            list.Pushes++;
        }

        /// <summary>A list's blocks in the pool's counts: its hits, the blocks it handed out less those parked on it, its depth.</summary>
        private static void AddList(ref PoolCounters counters, in Lookaside list)
        {
            counters.LookasideHits += list.Pops;
            counters.SmallBlocks += list.Pops - list.Pushes;
            counters.LookasideBlocks += list.Depth;
        }

        /// <summary>A tag's allocations, frees and bytes in use in the pool's table (the three side by side).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private ulong* TagCounts(uint tag) => &TagEntry(tag)->Allocations;
    }
}
