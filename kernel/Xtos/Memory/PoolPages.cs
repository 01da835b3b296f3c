using ExectOS.Diagnostics;
using ExectOS.Threading;

// Points at the caller's physical-memory struct, as PfnTableAllocator does (see KernelStacks.cs).
#pragma warning disable CS8500

namespace ExectOS.Memory
{
    /// <summary>
    /// Pool pages from the PFN database, mapped with the generated walker: each page a frame of use Pool
    /// (marked pageable for the paged pool), writable and not executable, its PTE address recorded; page
    /// tables from the database too. The kernel's pools use it on the live tables; hosted tests on
    /// emulated ones. Each call holds the PFN lock throughout (it edits the tables and the database; the pool's lock
    /// is held already, see <see cref="LockedPfn{TLocks}"/> for the order).
    /// </summary>
    public unsafe struct PoolPages<TMode, TMemory, TCache, TLocks> : IPoolPages
        where TMode : struct, IPagingMode
        where TMemory : struct, IPhysicalMemory
        where TCache : struct, ITranslationCache
        where TLocks : struct, ILockPolicy
    {
        public PageTable<TMode> Table;
        public PfnDatabase* Database;
        public TMemory* Memory;

        private static int Leaf => TMode.LevelCount - 1;

        public PoolPages(PageTable<TMode> table, PfnDatabase* database, TMemory* memory)
        {
            Table = table;
            Database = database;
            Memory = memory;
        }

        public bool Commit(VirtualAddress address, ulong count, bool pageable, ref PoolProblem problem)
        {
            LockQueueEntry entry = default;
            Irql previous = TLocks.Acquire(&Database->Lock, &entry);
            bool done = CommitLocked(address, count, pageable, ref problem);
            TLocks.Release(&Database->Lock, &entry, previous);
            return done;
        }

        public bool IsCommitted(VirtualAddress address) => LockedPfn<TLocks>.Translate(Database, ref *Memory, Table, address, out _);

        public ulong Decommit(VirtualAddress address, ulong count, bool sparse, ref PoolProblem problem)
        {
            LockQueueEntry entry = default;
            Irql previous = TLocks.Acquire(&Database->Lock, &entry);
            ulong done = DecommitLocked(address, count, sparse, ref problem);
            TLocks.Release(&Database->Lock, &entry, previous);
            return done;
        }

        private bool CommitLocked(VirtualAddress address, ulong count, bool pageable, ref PoolProblem problem)
        {
            // Consecutive pages share their tables: each map starts where the last one's walk left off (the PFN lock,
            // held throughout, keeps any table from being freed meanwhile).
            WalkCache walk = default;
            var tables = new PfnTableAllocator<TMemory> { Database = Database, Memory = Memory };
            for (ulong i = 0; i < count; i++)
            {
                VirtualAddress page = address + (i << TMode.PageShift);
                PfnProblem taken = Database->AllocatePage(ref *Memory, PageUse.Pool, false, out PageFrameNumber frame);
                MapStatus status = MapStatus.OutOfMemory;
                if (taken.IsOk)
                {
                    status = Table.Map(ref *Memory, ref tables, ref walk, page, frame.ToAddress(TMode.PageShift), Leaf, PageProtection.Writable, out TlbFlush flush);
                    flush.Flush<TCache>();
                    if (status == MapStatus.Done)
                    {
                        PfnEntry* frameEntry = Database->Entry(frame);
                        frameEntry->PteAddress = PfnBuild<TMode>.EntryOf(page, Leaf);
                        if (pageable)
                            frameEntry->Attributes |= PfnDatabase.PageableAttribute;
                    }
                    else
                    {
                        Database->FreePage(frame, PageUse.Pool);
                    }
                }
                if (status != MapStatus.Done)
                {
                    PoolProblem unwound = default;
                    DecommitLocked(address, i, false, ref unwound);
                    if (taken.IsCorruption)
                        problem = PoolProblem.FromPfn(taken);
                    else if (tables.Problem.IsCorruption)
                        problem = PoolProblem.FromPfn(tables.Problem);
                    else if (!unwound.IsOk)
                        problem = unwound;
                    return false;
                }
            }
            return true;
        }

        private ulong DecommitLocked(VirtualAddress address, ulong count, bool sparse, ref PoolProblem problem)
        {
            var tables = new PfnTableAllocator<TMemory> { Database = Database, Memory = Memory };
            ulong done = 0;
            for (ulong i = 0; i < count; i++)
            {
                VirtualAddress page = address + (i << TMode.PageShift);
                if (sparse && !Table.Translate(ref *Memory, page, out _))
                    continue;
                if (Table.Unmap(ref *Memory, ref tables, page, out PhysicalAddress frame, out _, out TlbFlush flush) != MapStatus.Done)
                {
                    if (problem.IsOk)
                        problem = PoolProblem.Of(MemoryManagementCheck.PoolPageNotCommitted, page.Value, count, i);
                    continue;
                }
                done++;
                flush.Flush<TCache>();
                PageFrameNumber number = PageFrameNumber.Of(frame, TMode.PageShift);
                Database->Entry(number)->Attributes &= unchecked((byte)~PfnDatabase.PageableAttribute);
                PfnProblem freed = Database->FreePage(number, PageUse.Pool);
                if (!freed.IsOk && problem.IsOk)
                    problem = PoolProblem.FromPfn(freed);
            }
            if (!tables.Problem.IsOk && problem.IsOk)
                problem = PoolProblem.FromPfn(tables.Problem);
            return done;
        }
    }
}
