using System.Runtime.CompilerServices;
using ExectOS.Diagnostics;
using ExectOS.Memory;
using ExectOS.Text;

namespace ExectOS.Kernel
{
    /// <summary>
    /// The boot self-test of both pools: blocks of every size class (lookaside sizes, free-list sizes, big,
    /// aligned) allocated and filled, half freed and allocated again (the free lists and lookaside lists
    /// reused), everything verified and freed; pages checked in the PFN database (use Pool, pageable only
    /// for the paged pool, whose big blocks are committed page by page on first touch); both pools validated;
    /// every count back at its baseline. A failure is bug check 0x1A with <see cref="MemoryManagementCheck.PoolSelfTest"/> + step.
    /// </summary>
    internal static unsafe class PoolSelfTest<TMode> where TMode : struct, IPagingMode
    {
        private const int Blocks = 240;
        private const uint Tag = 0x74735450; // "PTst"

        [InlineArray(Blocks)]
        private struct BlockArray
        {
            public ulong First;
        }

        /// <summary>Runs the test on both pools; the number of blocks verified in each.</summary>
        internal static int Run()
        {
            Pools<TMode>.Flush();
            PfnDatabase* pfn = MemoryManager.Pfn;
            ulong available = pfn->AvailablePages;
            ulong demandFaults = Pools.Paged->Counters.DemandFaults;
            for (int p = 0; p < 2; p++)
                RunOne(p == 0 ? PoolType.NonPaged : PoolType.Paged);
            Pools<TMode>.Flush();
            if (pfn->AvailablePages != available)
                Fail(9, pfn->AvailablePages, available);
            // The paged pool's big blocks were committed page by page as the test first wrote them.
            if (Pools.Paged->Counters.DemandFaults == demandFaults || Pools.NonPaged->Counters.DemandFaults != 0)
                Fail(10, Pools.Paged->Counters.DemandFaults, demandFaults);
            return Blocks;
        }

        private static void RunOne(PoolType type)
        {
            Pool* pool = Pools.Of(type);
            PoolCounters before = pool->Counters;
            pool->TryGetTag(Tag, out PoolTagStats tagBefore);

            BlockArray storage = default;
            var blocks = System.Runtime.InteropServices.MemoryMarshal.CreateSpan(ref storage.First, Blocks);
            for (int i = 0; i < Blocks; i++)
                blocks[i] = (ulong)Allocate(type, i);
            for (int i = 0; i < Blocks; i++)
                Check(blocks[i], i, 1);

            // Every other block back, then again: lookaside lists, free lists and split blocks reused.
            for (int i = 0; i < Blocks; i += 2)
                Pools<TMode>.Free((void*)blocks[i], Tag);
            for (int i = 0; i < Blocks; i += 2)
                blocks[i] = (ulong)Allocate(type, i);
            for (int i = 0; i < Blocks; i++)
                Check(blocks[i], i, 2);

            // A page of each pool is a Pool frame in the PFN database, pageable only in the paged pool.
            if (!MemoryManager<TMode>.Translate(new VirtualAddress(blocks[0]), out PhysicalAddress frame))
                Fail(4, blocks[0], 0);
            PfnEntry* entry = MemoryManager.Pfn->Entry(PageFrameNumber.Of(frame, MemoryManager.Pfn->PageShift));
            bool pageable = (entry->Attributes & PfnDatabase.PageableAttribute) != 0;
            if (entry->State != PageState.Active || entry->Use != PageUse.Pool || pageable != (type == PoolType.Paged))
                Fail(5, frame.Value, (ulong)entry->Use);

            PoolProblem problem = pool->Validate();
            if (!problem.IsOk)
                Fail(6, (ulong)problem.Code, problem.P1);
            if (!pool->TryGetTag(Tag, out PoolTagStats during) || during.Allocations - tagBefore.Allocations != Blocks + Blocks / 2 || during.Live - tagBefore.Live != Blocks)
                Fail(7, during.Allocations, during.Live);

            for (int i = Blocks - 1; i >= 0; i--)
                Pools<TMode>.Free((void*)blocks[i], Tag);
            problem = pool->Validate();
            pool->TryGetTag(Tag, out PoolTagStats after);
            if (!problem.IsOk || pool->Counters.BytesInUse != before.BytesInUse || pool->Counters.SmallBlocks != before.SmallBlocks
                || pool->Counters.BigAllocations != before.BigAllocations || after.Live != tagBefore.Live || after.BytesInUse != tagBefore.BytesInUse)
                Fail(8, pool->Counters.BytesInUse, before.BytesInUse);
        }

        /// <summary>Block <paramref name="i"/>'s size: lookaside sizes, free-list sizes up to a page, big ones, and some aligned.</summary>
        private static void* Allocate(PoolType type, int i)
        {
            ulong bytes = Size(i);
            ulong alignment = i % 40 == 7 ? 64UL : i % 40 == 23 ? Pools.Of(type)->PageSize : 0;
            void* block = Pools<TMode>.Allocate(type, bytes, Tag, alignment);
            if (block == null)
                Fail(1, (ulong)i, bytes);
            if (((ulong)block & (alignment > 16 ? alignment - 1 : 15)) != 0)
                Fail(2, (ulong)block, alignment);
            Fill((byte*)block, bytes, i);
            return block;
        }

        /// <summary>Lookaside sizes (0 to 496 bytes), free-list sizes up to the largest small block, big ones, powers of two from 16.</summary>
        private static ulong Size(int i)
        {
            ulong small = Pools.NonPaged->SmallLimit;
            ulong lookaside = (Pool.LookasideMaxUnits - 1) << Pool.UnitShift;
            return (i % 8) switch
            {
                0 or 1 or 2 => (ulong)i * 7 % (lookaside + 1),
                3 or 4 or 5 => lookaside + 1 + (ulong)i * 131 % (small - lookaside),
                6 => small + 1 + (ulong)i * 997 % 30000,
                _ => 16UL << (i % 9),
            };
        }

        private static void Fill(byte* block, ulong bytes, int i)
        {
            for (ulong b = 0; b < bytes; b++)
                block[b] = (byte)(b * 31 + (ulong)i);
        }

        private static void Check(ulong block, int i, ulong step)
        {
            ulong bytes = Size(i);
            for (ulong b = 0; b < bytes; b++)
            {
                if (((byte*)block)[b] != (byte)(b * 31 + (ulong)i))
                    Fail(3, block + b, step);
            }
        }

        private static void Fail(ulong step, ulong detail, ulong extra)
        {
            TextLine line = default;
            line.Append("XTOSKRNL: pool self-test failed at step ");
            line.AppendDecimal(step);
            KernelConsole.WriteLine(line.AsSpan());
            BugCheck.Raise(MemoryManagementCheck.PoolSelfTest + step, detail, extra, 0);
        }
    }
}
