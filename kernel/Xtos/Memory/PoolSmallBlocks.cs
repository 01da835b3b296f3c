using System.Runtime.CompilerServices;
using ExectOS.Diagnostics;
using ExectOS.Threading;

namespace ExectOS.Memory
{
    /// <summary>Small blocks: carved from pages, free lists per size with split and coalesce, the shared lookaside lists. Part of <see cref="Pool"/>; the fields are in Pool.cs.</summary>
    public unsafe partial struct Pool
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void* AllocateSmall<TPages>(ref TPages pages, ulong bytes, uint tag, ref PoolProblem problem) where TPages : struct, IPoolPages
        {
            uint units = UnitsFor(bytes);
            if (units <= LookasideMaxUnits)
            {
                ref Lookaside list = ref SharedList(units);
                if (list.Head != 0)
                    return PopShared(ref list, units, bytes, tag, ref problem);
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

        /// <summary>A block from the shared list <paramref name="list"/> (under the pool's lock), counted in the pool's and the tag's counts.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void* PopShared(ref Lookaside list, uint units, ulong bytes, uint tag, ref PoolProblem problem)
        {
            void* data = PopParked(ref list, units, bytes, tag, ref problem);
            if (data != null)
            {
                _counters.Allocations++;
                _counters.BytesInUse += bytes;
                ulong* counts = TagCounts(tag);
                counts[0]++;
                counts[2] += bytes;
            }
            return data;
        }

        /// <summary>A checked block parked on the shared list <paramref name="list"/> (under the pool's lock), counted as a free.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void ParkShared(ref Lookaside list, PoolHeader* header, ulong first, ulong second)
        {
            Park(ref list, header, first, second);
            ulong requested = second >> 32;
            _counters.Frees++;
            _counters.BytesInUse -= requested;
            ulong* counts = TagCounts((uint)second);
            counts[1]++;
            counts[2] -= requested;
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

        private void FreeSmall<TPages>(ref TPages pages, PoolHeader* header, uint tag, ref PoolProblem problem) where TPages : struct, IPoolPages
        {
            // Both header words read once; every check below works on them.
            byte* data = (byte*)(header + 1);
            ulong first = ReadFirst(header), second = ((ulong*)header)[1];
            if (!SealOf(header, first, second))
            {
                problem = PoolProblem.Of(BadPoolCallerCheck.NotABlock, (ulong)data, first, (ulong)_type);
                return;
            }
            if ((PoolBlockState)(byte)(first >> 32) != PoolBlockState.Allocated)
            {
                problem = PoolProblem.Of(BadPoolCallerCheck.DoubleFree, 0, first, (ulong)data);
                return;
            }
            uint size = (ushort)(first >> 16);
            if (!IsWellFormed(header, first, second))
            {
                problem = PoolProblem.Of(BadPoolHeaderCheck.HeaderCorrupt, (ulong)header, 0, size);
                return;
            }
            uint owner = (uint)second;
            if (tag != 0 && owner != tag)
            {
                problem = PoolProblem.Of(BadPoolCallerCheck.WrongTag, (ulong)data, tag, owner);
                return;
            }
            ulong requested = second >> 32;
            if (requested < ((ulong)size - 1) << UnitShift && data[requested] != CanaryOf(data))
            {
                problem = PoolProblem.Of(BadPoolHeaderCheck.DataAfterBlockCorrupt, (ulong)data, requested, data[requested]);
                return;
            }
            // A hot size that got here has a full lookaside list (Free parks the others): the block is coalesced.
            if (!Coalesce(ref pages, header, ref problem))
                return;
            _counters.SmallBlocks--;
            Release(owner, requested);
        }

        /// <summary>
        /// The header of the small block at <paramref name="address"/> when it is one a free may park at once: in a
        /// small-block page of the pool, sealed, allocated, of a hot size, well formed (its previous size only with
        /// <paramref name="sealedNext"/>), of <paramref name="tag"/> (0: any), its canary intact, and the next header's
        /// previous size its own (with <paramref name="sealedNext"/>, under the pool's lock, the page found in use and the
        /// next header sound too, see IsSoundNeighbour; a processor's fast free leaves that header to its owner and takes
        /// the address's place in a region as the old fast free did). Null when anything is not so: the free then takes
        /// the path that names the problem. <paramref name="first"/> and <paramref name="second"/> are the header's
        /// words as checked (the first's previous size 0 without <paramref name="sealedNext"/>).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly PoolHeader* ParkableBlock(void* address, uint tag, bool sealedNext, uint maxUnits, out ulong first, out ulong second)
        {
            // Ordered so that few values are alive at once: a caller's inline part then needs few saved registers.
            first = second = 0;
            ulong virtualAddress = (ulong)address - (ulong)_displacement;
            if ((virtualAddress & (UnitSize - 1)) != 0 || (sealedNext ? !IsLive(address) : !IsSmallBlockAddress(virtualAddress)))
                return null;
            // The header's offset in its page; a block's data never starts a page (that is a big allocation).
            ulong offset = (virtualAddress & _pageMask) - UnitSize;
            if (offset >= _pageSize)
                return null;
            PoolHeader* header = (PoolHeader*)address - 1;
            // The first word's parts apart (see the note on headers in Pool.cs). The previous size only under the lock: a
            // processor's free parks the block and never follows it, and the lock holder checks it wherever it does
            // (Coalesce, which every block parked on a processor's list reaches through the lock).
            ulong size = header->BlockSize;
            ulong upper = ((uint*)header)[1];
            first = upper << 32 | (sealedNext ? *(uint*)header : size << 16);
            second = ((ulong*)header)[1];
            // Of a size the list takes (a block of another size is no block to park, and its free checks it once, on its
            // own path), allocated in this pool, sealed, where it is (IsWellFormed's rules; the type is in the shape), of the
            // tag, its canary intact.
            if (size - 2 > (ulong)maxUnits - 2 || ((upper & 0xFFFF) ^ _allocatedShape) != 0 || !SealOf(header, first, second)
                || (long)PlaceRules(offset, first, second, sealedNext) < 0 || (tag != 0 && (uint)second != tag))
                return null;
            ulong requested = second >> 32;
            if (requested < (size - 1) << UnitShift && ((byte*)address)[requested] != CanaryOf((byte*)address))
                return null;
            if (offset + (size << UnitShift) == _pageSize)
                return header;
            // Its previous size is this block's for as long as this block is allocated (a single aligned read).
            PoolHeader* next = header + size;
            if (next->PreviousSize != size || (sealedNext && !IsSoundNeighbour(next)))
                return null;
            return header;
        }

        /// <summary>A 16-byte aligned address (virtual) in one of the regions small-block pages come from.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly bool IsSmallBlockAddress(ulong virtualAddress)
            => (virtualAddress & (UnitSize - 1)) == 0
                && (virtualAddress - _initialStart < _initialBytes || virtualAddress - _expansionStart < _expansionBytes);

        /// <summary>
        /// An allocated block's header words (sealed: the pool wrote them) also agree with where the block is: this
        /// pool's type, a size that fits the page from its offset, a previous block inside the page, the bytes asked for
        /// within the block.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly bool IsWellFormed(PoolHeader* header, ulong first, ulong second)
        {
            ulong offset = OffsetInPage(header);
            return (first & (0xFFUL << 40)) == _typeBits && (long)PlaceRules(offset, first, second) >= 0;
        }

        /// <summary>
        /// <see cref="IsWellFormed"/>'s rules on where a block is, for a header at <paramref name="offset"/> in its page:
        /// at least two units, inside the page, its previous block inside the page too, the bytes asked for inside it.
        /// Each is a difference below 2^48 when it holds that wraps past 2^63 when it does not, so the value is negative
        /// (as a signed number) exactly when one fails: one sign test for the four. The previous size is as it was read
        /// (the lock holder may rewrite it at any time, see SetPrevious, always with one that holds).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly ulong PlaceRules(ulong offset, ulong first, ulong second, bool previous = true)
        {
            ulong size = (ushort)(first >> 16);
            return (size - 2) | (_pageSize - offset - (size << UnitShift)) | (previous ? offset - ((ulong)(ushort)first << UnitShift) : 0)
                | (((size - 1) << UnitShift) - (second >> 32));
        }

        /// <summary>The block after <paramref name="header"/> in its page (if any) is sound (<see cref="IsSoundNeighbour"/>) and names it as its previous block.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly bool CheckNext(PoolHeader* header, uint size, ref PoolProblem problem)
        {
            PoolHeader* next = header + size;
            if (IsPageEnd(next))
                return true;
            if (next->PreviousSize == size && IsSoundNeighbour(next))
                return true;
            // Something is wrong, and no other processor made it so: the next block's previous size is this block's while
            // this one is the caller's. A next header that is not sealed (read now, to say what is wrong) was overrun.
            problem = next->BlockSize >= 2 && IsSealed(next)
                ? PoolProblem.Of(BadPoolHeaderCheck.NeighboursDisagree, (ulong)header, 0, (ulong)next)
                : PoolProblem.Of(BadPoolHeaderCheck.HeaderCorrupt, (ulong)header, (ulong)next, size);
            return false;
        }

        /// <summary>
        /// Returns a carved block to the free lists, merged with a free neighbour on either side; a wholly free
        /// page goes to the page cache or back to the PFN database. Neighbours and links are checked first.
        /// </summary>
        private bool Coalesce<TPages>(ref TPages pages, PoolHeader* header, ref PoolProblem problem) where TPages : struct, IPoolPages
        {
            uint size = header->BlockSize;
            if (!CheckNext(header, size, ref problem))
                return false;
            PoolHeader* next = header + size;
            bool hasNext = !IsPageEnd(next);
            PoolHeader* previous = null;
            // The previous size is not sealed (see SetPrevious): it is checked against the block's place in its page
            // before it is followed, and against the block it names.
            uint previousSize = header->PreviousSize;
            ulong offset = OffsetInPage(header);
            if ((previousSize == 0) != (offset == 0) || (ulong)previousSize << UnitShift > offset)
            {
                problem = PoolProblem.Of(BadPoolHeaderCheck.HeaderCorrupt, (ulong)header, previousSize, size);
                return false;
            }
            if (previousSize != 0)
            {
                previous = header - previousSize;
                if (previous->BlockSize != previousSize || !IsSoundNeighbour(previous))
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
    }
}
