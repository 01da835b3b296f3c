using System.Runtime.CompilerServices;
using ExectOS.Threading;

// Points at the caller's physical-memory struct, as PfnTableAllocator does (see KernelStacks.cs).
#pragma warning disable CS8500

namespace ExectOS.Memory
{
    /// <summary>
    /// The PFN database from any processor. <see cref="PfnDatabase"/> itself is not synchronised; these take its
    /// lock (<see cref="PfnDatabase.Lock"/>, NT's PFN lock) around each operation.
    /// <para>
    /// The memory manager's lock order, everywhere: a pool's lock (<see cref="Pool.Lock"/>), then the stack lock
    /// (<see cref="StackSpace.Lock"/>), then the PFN lock; never the other way round, and no two pool locks at once.
    /// The PFN lock also covers every edit and every walk of the kernel's page tables: a walk may cross a table that
    /// another processor's unmap frees, and an edit may allocate a table another processor's map would allocate too.
    /// </para>
    /// </summary>
    public static unsafe class LockedPfn<TLocks> where TLocks : struct, ILockPolicy
    {
        public static PfnProblem AllocatePage<TMemory>(PfnDatabase* pfn, ref TMemory memory, PageUse use, bool zero, out PageFrameNumber page)
            where TMemory : struct, IPhysicalMemory
        {
            LockQueueEntry entry = default;
            Irql previous = TLocks.Acquire(&pfn->Lock, &entry);
            PfnProblem problem = pfn->AllocatePage(ref memory, use, zero, out page);
            TLocks.Release(&pfn->Lock, &entry, previous);
            return problem;
        }

        public static PfnProblem AllocateContiguous<TMemory>(PfnDatabase* pfn, ref TMemory memory, ulong count, ulong alignment, PageFrameNumber limit, PageUse use, bool zero, out PageFrameNumber first)
            where TMemory : struct, IPhysicalMemory
        {
            LockQueueEntry entry = default;
            Irql previous = TLocks.Acquire(&pfn->Lock, &entry);
            PfnProblem problem = pfn->AllocateContiguous(ref memory, count, alignment, limit, use, zero, out first);
            TLocks.Release(&pfn->Lock, &entry, previous);
            return problem;
        }

        public static PfnProblem FreePage(PfnDatabase* pfn, PageFrameNumber page, PageUse use)
        {
            LockQueueEntry entry = default;
            Irql previous = TLocks.Acquire(&pfn->Lock, &entry);
            PfnProblem problem = pfn->FreePage(page, use);
            TLocks.Release(&pfn->Lock, &entry, previous);
            return problem;
        }

        public static PfnProblem FreeContiguous(PfnDatabase* pfn, PageFrameNumber first, ulong count, PageUse use)
        {
            LockQueueEntry entry = default;
            Irql previous = TLocks.Acquire(&pfn->Lock, &entry);
            PfnProblem problem = pfn->FreeContiguous(first, count, use);
            TLocks.Release(&pfn->Lock, &entry, previous);
            return problem;
        }

        /// <summary>Moves up to <paramref name="limit"/> free frames to the zeroed list, a few at a time so the lock is never held long.</summary>
        public static ulong ZeroFreePages<TMemory>(PfnDatabase* pfn, ref TMemory memory, ulong limit)
            where TMemory : struct, IPhysicalMemory
        {
            const ulong Batch = 16;
            ulong done = 0;
            while (done < limit)
            {
                LockQueueEntry entry = default;
                Irql previous = TLocks.Acquire(&pfn->Lock, &entry);
                ulong zeroed = pfn->ZeroFreePages(ref memory, limit - done < Batch ? limit - done : Batch);
                TLocks.Release(&pfn->Lock, &entry, previous);
                if (zeroed == 0)
                    break;
                done += zeroed;
            }
            return done;
        }

        /// <summary>A walk of the tables under the PFN lock: what <paramref name="address"/> maps to, or false.</summary>
        public static bool Translate<TMode, TMemory>(PfnDatabase* pfn, ref TMemory memory, PageTable<TMode> table, VirtualAddress address, out Translation translation)
            where TMode : struct, IPagingMode
            where TMemory : struct, IPhysicalMemory
        {
            LockQueueEntry entry = default;
            Irql previous = TLocks.Acquire(&pfn->Lock, &entry);
            bool mapped = table.Translate(ref memory, address, out translation);
            TLocks.Release(&pfn->Lock, &entry, previous);
            return mapped;
        }
    }

    /// <summary>
    /// Kernel stacks from any processor: each operation of <see cref="KernelStacks{TMode, TCache}"/> under the stack
    /// lock and the PFN lock, in that order (see <see cref="LockedPfn{TLocks}"/>). The fault path's
    /// <see cref="KernelStacks{TMode, TCache}.IsOverflow"/> takes none: it runs where a lock may already be held.
    /// </summary>
    public static unsafe class LockedStacks<TMode, TCache, TLocks>
        where TMode : struct, IPagingMode
        where TCache : struct, ITranslationCache
        where TLocks : struct, ILockPolicy
    {
        private struct Held
        {
            public LockQueueEntry Stacks;
            public LockQueueEntry Pfn;
            public Irql Previous;
            public Irql PfnPrevious;
        }

        private static void Enter(StackSpace* space, PfnDatabase* pfn, Held* held)
        {
            held->Previous = TLocks.Acquire(&space->Lock, &held->Stacks);
            held->PfnPrevious = TLocks.Acquire(&pfn->Lock, &held->Pfn);
        }

        private static void Leave(StackSpace* space, PfnDatabase* pfn, Held* held)
        {
            TLocks.Release(&pfn->Lock, &held->Pfn, held->PfnPrevious);
            TLocks.Release(&space->Lock, &held->Stacks, held->Previous);
        }

        public static StackError Allocate<TMemory>(ref TMemory memory, PageTable<TMode> table, StackSpace* space, PfnDatabase* pfn, in StackRequest request, out KernelStack stack, out PfnProblem problem)
            where TMemory : struct, IPhysicalMemory
        {
            Held held = default;
            Enter(space, pfn, &held);
            StackError error = KernelStacks<TMode, TCache>.Allocate(ref memory, table, space, pfn, in request, out stack, out problem);
            Leave(space, pfn, &held);
            return error;
        }

        public static StackError Free<TMemory>(ref TMemory memory, PageTable<TMode> table, StackSpace* space, PfnDatabase* pfn, VirtualAddress top, ulong bytes, out PfnProblem problem)
            where TMemory : struct, IPhysicalMemory
        {
            Held held = default;
            Enter(space, pfn, &held);
            StackError error = KernelStacks<TMode, TCache>.Free(ref memory, table, space, pfn, top, bytes, out problem);
            Leave(space, pfn, &held);
            return error;
        }

        public static StackError Grow<TMemory>(ref TMemory memory, PageTable<TMode> table, StackSpace* space, PfnDatabase* pfn, ref KernelStack stack, VirtualAddress lowest, out PfnProblem problem)
            where TMemory : struct, IPhysicalMemory
        {
            Held held = default;
            Enter(space, pfn, &held);
            StackError error = KernelStacks<TMode, TCache>.Grow(ref memory, table, space, pfn, ref stack, lowest, out problem);
            Leave(space, pfn, &held);
            return error;
        }

        public static StackError Shrink<TMemory>(ref TMemory memory, PageTable<TMode> table, StackSpace* space, PfnDatabase* pfn, ref KernelStack stack, VirtualAddress inUse, out ulong released, out PfnProblem problem)
            where TMemory : struct, IPhysicalMemory
        {
            Held held = default;
            Enter(space, pfn, &held);
            StackError error = KernelStacks<TMode, TCache>.Shrink(ref memory, table, space, pfn, ref stack, inUse, out released, out problem);
            Leave(space, pfn, &held);
            return error;
        }

        public static StackError DropCache<TMemory>(ref TMemory memory, PageTable<TMode> table, StackSpace* space, PfnDatabase* pfn, out PfnProblem problem)
            where TMemory : struct, IPhysicalMemory
        {
            Held held = default;
            Enter(space, pfn, &held);
            StackError error = KernelStacks<TMode, TCache>.DropCache(ref memory, table, space, pfn, out problem);
            Leave(space, pfn, &held);
            return error;
        }

        public static ulong Measure<TMemory>(ref TMemory memory, PageTable<TMode> table, StackSpace* space, PfnDatabase* pfn, int id)
            where TMemory : struct, IPhysicalMemory
        {
            Held held = default;
            Enter(space, pfn, &held);
            ulong used = KernelStacks<TMode, TCache>.Measure(ref memory, table, space, id);
            Leave(space, pfn, &held);
            return used;
        }

        public static StackError BeginCallout<TMemory>(ref TMemory memory, PageTable<TMode> table, StackSpace* space, PfnDatabase* pfn, uint processor, VirtualAddress stackPointer, ulong bytes, out Callout callout, out PfnProblem problem)
            where TMemory : struct, IPhysicalMemory
        {
            Held held = default;
            Enter(space, pfn, &held);
            StackError error = KernelStacks<TMode, TCache>.BeginCallout(ref memory, table, space, pfn, processor, stackPointer, bytes, out callout, out problem);
            Leave(space, pfn, &held);
            return error;
        }

        public static StackError EndCallout<TMemory>(ref TMemory memory, PageTable<TMode> table, StackSpace* space, PfnDatabase* pfn, uint processor, in Callout callout, out PfnProblem problem)
            where TMemory : struct, IPhysicalMemory
        {
            Held held = default;
            Enter(space, pfn, &held);
            StackError error = KernelStacks<TMode, TCache>.EndCallout(ref memory, table, space, pfn, processor, in callout, out problem);
            Leave(space, pfn, &held);
            return error;
        }
    }

    /// <summary>
    /// A pool from any processor. Small blocks of the hot sizes come first from the running processor's own list
    /// (<see cref="TryAllocate"/> and <see cref="TryFree"/> inline in callers, <see cref="Pool.TryAllocateFast"/> and
    /// <see cref="Pool.TryFreeFast"/> behind them: NT's per-processor lookaside lists), with no
    /// shared lock; everything else is an operation of <see cref="Pool"/> under the pool's lock, which also readies the
    /// processor's counts for the tag it served. The pages the pool commits take the PFN lock inside
    /// (<see cref="PoolPages{TMode, TMemory, TCache, TLocks}"/>), after the pool's.
    /// </summary>
    public static unsafe class LockedPool<TLocks> where TLocks : struct, ILockPolicy
    {
        /// <summary>
        /// The lean allocate, for a caller's inline fast path: a block from the running processor's own list when the
        /// request is an ordinary one it can serve at once (<see cref="Pool.TryPop"/>), or null, with nothing changed and
        /// nothing said; the caller then calls <see cref="Allocate"/>. It takes no pages and no problem, so a caller's
        /// inline part keeps little alive (<c>Pools.Allocate</c> is shaped so).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void* TryAllocate(Pool* pool, ulong bytes, uint tag, ulong alignment)
            => alignment <= Pool.UnitSize ? pool->TryPop(TLocks.CurrentProcessor, bytes, tag) : null;

        /// <summary>The lean free, for a caller's inline fast path (<see cref="Pool.TryPark"/>): false, with nothing changed, sends the caller to <see cref="Free"/>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static bool TryFree(Pool* pool, void* address, uint tag) => pool->TryPark(TLocks.CurrentProcessor, address, tag);

        /// <summary>
        /// An allocation from the running processor, deciding everything: the processor's own list on the path that does
        /// all the lean pop does and more (counts its misses, finds the tag among its counted ones, names a corrupt list);
        /// then the pool's lock.
        /// </summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        public static void* Allocate<TPages>(Pool* pool, ref TPages pages, ulong bytes, uint tag, ulong alignment, out PoolProblem problem)
            where TPages : struct, IPoolPages
        {
            uint processor = TLocks.CurrentProcessor;
            problem = default;
            if (alignment <= Pool.UnitSize)
            {
                void* fast = pool->TryAllocateFast(processor, bytes, tag, ref problem);
                if (fast != null || !problem.IsOk)
                    return fast;
            }
            LockQueueEntry entry = default;
            Irql previous = TLocks.Acquire(&pool->Lock, &entry);
            void* result = pool->Allocate(ref pages, bytes, tag, alignment, out problem);
            if (result != null)
                pool->CountTagOn(processor, tag);
            TLocks.Release(&pool->Lock, &entry, previous);
            return result;
        }

        /// <summary>A free from the running processor, deciding everything: the processor's own list on the path that also grows its depth and finds the tag; then the pool's lock.</summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        public static PoolProblem Free<TPages>(Pool* pool, ref TPages pages, void* address, uint tag)
            where TPages : struct, IPoolPages
        {
            uint processor = TLocks.CurrentProcessor;
            if (pool->TryFreeFast(processor, address, tag))
                return default;
            LockQueueEntry entry = default;
            Irql previous = TLocks.Acquire(&pool->Lock, &entry);
            PoolProblem problem = pool->Free(ref pages, address, tag);
            if (problem.IsOk)
                pool->CountTagOn(processor, tag);
            TLocks.Release(&pool->Lock, &entry, previous);
            return problem;
        }

        public static PoolProblem Flush<TPages>(Pool* pool, ref TPages pages)
            where TPages : struct, IPoolPages
        {
            LockQueueEntry entry = default;
            Irql previous = TLocks.Acquire(&pool->Lock, &entry);
            PoolProblem problem = pool->Flush(ref pages);
            TLocks.Release(&pool->Lock, &entry, previous);
            return problem;
        }

        public static PoolFault ResolveFault<TPages>(Pool* pool, ref TPages pages, VirtualAddress address, out PoolProblem problem)
            where TPages : struct, IPoolPages
        {
            LockQueueEntry entry = default;
            Irql previous = TLocks.Acquire(&pool->Lock, &entry);
            PoolFault fault = pool->ResolveFault(ref pages, address, out problem);
            TLocks.Release(&pool->Lock, &entry, previous);
            return fault;
        }

        public static PoolProblem Validate(Pool* pool)
        {
            LockQueueEntry entry = default;
            Irql previous = TLocks.Acquire(&pool->Lock, &entry);
            PoolProblem problem = pool->Validate();
            TLocks.Release(&pool->Lock, &entry, previous);
            return problem;
        }
    }
}
