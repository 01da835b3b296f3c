using System.Runtime.CompilerServices;
using ExectOS.Diagnostics;
using ExectOS.Threading;

namespace ExectOS.Memory
{
    /// <summary>Big allocations: whole pages, tracked in a hash table by address. Part of <see cref="Pool"/>; the fields are in Pool.cs.</summary>
    public unsafe partial struct Pool
    {
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
    }
}
