using System.Runtime.CompilerServices;
using ExectOS.Diagnostics;
using ExectOS.Threading;

namespace ExectOS.Memory
{
    /// <summary>Pages of the pool's regions: taken and committed, given back, the cache of wholly free pages, demand commit, trim and flush. Part of <see cref="Pool"/>; the fields are in Pool.cs.</summary>
    public unsafe partial struct Pool
    {
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
                    PoolHeader* header = DrainParked(ref _lookaside[(int)units], units, ref problem);
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
    }
}
