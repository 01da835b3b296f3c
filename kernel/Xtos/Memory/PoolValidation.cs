using System.Runtime.CompilerServices;
using ExectOS.Diagnostics;
using ExectOS.Threading;

namespace ExectOS.Memory
{
    /// <summary>Validation of the whole pool. Part of <see cref="Pool"/>; the fields are in Pool.cs.</summary>
    public unsafe partial struct Pool
    {
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
        private readonly PoolProblem ValidateParked(ulong head, ulong depth, uint units, ref ulong parked)
        {
            ulong count = 0;
            for (ulong link = head; link != 0; link = Decode(link)->Flink)
            {
                PoolLinks* node = Decode(link);
                PoolHeader* header = (PoolHeader*)node - 1;
                if (!IsLive(node) || header->State != PoolBlockState.Lookaside || header->BlockSize != units || !IsSealed(header)
                    || node->Blink != LinkCheck(node, node->Flink, ((uint*)header)[1], ((ulong*)header)[1]) || ++count > depth)
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
    }
}
