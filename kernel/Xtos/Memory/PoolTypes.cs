using System.Runtime.InteropServices;
using ExectOS.Diagnostics;

namespace ExectOS.Memory
{
    /// <summary>Which pool an allocation comes from.</summary>
    public enum PoolType : byte
    {
        /// <summary>Resident: its pages are never paged out, usable at any IRQL.</summary>
        NonPaged = 0,
        /// <summary>Its pages may be paged out (marked so in the PFN database; there is no paging file yet).</summary>
        Paged = 1,
    }

    /// <summary>What <see cref="Pool.ResolveFault"/> did with a page fault.</summary>
    public enum PoolFault : byte
    {
        /// <summary>Not a page of the pool's to commit: the fault stands.</summary>
        NotPool = 0,
        /// <summary>The page was committed; the faulting instruction can run again.</summary>
        Committed = 1,
        /// <summary>The page is the pool's, but no frame was left to commit it.</summary>
        NoMemory = 2,
    }

    /// <summary>The state byte of a small block's header.</summary>
    public enum PoolBlockState : byte
    {
        Free = 0x46,       // 'F'
        Allocated = 0x41,  // 'A'
        Lookaside = 0x4C,  // 'L': freed by its owner, parked on a lookaside list, still carved out
    }

    /// <summary>
    /// The 16-byte header before every small block. Sizes are in 16-byte units (the header included), so a
    /// block never crosses a page and PreviousSize finds the block before it (0 for the page's first).
    /// Check is a hash of the other fields, the block's address and the per-boot cookie.
    /// </summary>
    [StructLayout(LayoutKind.Sequential, Size = 16)]
    public struct PoolHeader
    {
        public ushort PreviousSize;
        public ushort BlockSize;
        public PoolBlockState State;
        public PoolType PoolType;
        public ushort Check;
        public uint Tag;
        /// <summary>Bytes the caller asked for (0 in a free block).</summary>
        public uint Requested;
    }

    /// <summary>Free-list links in a free block's body, or a list head; both stored XOR the pool's cookie.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct PoolLinks
    {
        public ulong Flink;
        public ulong Blink;
    }

    /// <summary>Counts for one tag in one pool; bytes are what callers asked for.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct PoolTagStats
    {
        public uint Tag;
        public uint Reserved;
        public ulong Allocations;
        public ulong Frees;
        public ulong BytesInUse;

        public readonly ulong Live => Allocations - Frees;
    }

    /// <summary>A page-granular allocation: where, how many pages, for which tag, how many bytes asked.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct PoolBigEntry
    {
        /// <summary>The allocation's address (data side), or 0 when the slot is empty.</summary>
        public ulong Address;
        public uint Pages;
        public uint Tag;
        public ulong Requested;
    }

    /// <summary>
    /// What a pool operation found wrong: a bug check code and its four parameters, or nothing (Code 0).
    /// The pool checks before it changes anything, so a refused request leaves the pool as it was.
    /// </summary>
    public struct PoolProblem
    {
        public BugCheckCode Code;
        public ulong P1;
        public ulong P2;
        public ulong P3;
        public ulong P4;

        public readonly bool IsOk => Code == 0;

        public static PoolProblem Of(BugCheckCode code, ulong p1, ulong p2 = 0, ulong p3 = 0, ulong p4 = 0)
            => new PoolProblem { Code = code, P1 = p1, P2 = p2, P3 = p3, P4 = p4 };

        public static PoolProblem Of(BadPoolHeaderCheck check, ulong p2 = 0, ulong p3 = 0, ulong p4 = 0)
            => Of(BugCheckCode.BadPoolHeader, (ulong)check, p2, p3, p4);

        public static PoolProblem Of(BadPoolCallerCheck check, ulong p2 = 0, ulong p3 = 0, ulong p4 = 0)
            => Of(BugCheckCode.BadPoolCaller, (ulong)check, p2, p3, p4);

        public static PoolProblem Of(MemoryManagementCheck check, ulong p2 = 0, ulong p3 = 0, ulong p4 = 0)
            => Of(BugCheckCode.MemoryManagement, (ulong)check, p2, p3, p4);

        /// <summary>SPECIAL_POOL_DETECTED_MEMORY_CORRUPTION: the address freed first, which check last (NT's order).</summary>
        public static PoolProblem SpecialPool(ulong address, ulong p2, ulong p3, SpecialPoolCheck check)
            => Of(BugCheckCode.SpecialPoolDetectedMemoryCorruption, address, p2, p3, (ulong)check);

        /// <summary>A refusal from the PFN database as the pool reports it: PFN_LIST_CORRUPT with the database's parameters.</summary>
        public static PoolProblem FromPfn(PfnProblem problem)
            => Of(BugCheckCode.PfnListCorrupt, (ulong)problem.Error, problem.Page, problem.Detail, problem.Extra);

        /// <summary>A short description for serial output.</summary>
        public readonly string Describe()
        {
            switch (Code)
            {
                case BugCheckCode.BadPoolHeader:
                    return (BadPoolHeaderCheck)P1 switch
                    {
                        BadPoolHeaderCheck.ListCorrupt => "pool free list corrupt",
                        BadPoolHeaderCheck.NeighboursDisagree => "adjacent pool headers disagree",
                        BadPoolHeaderCheck.HeaderCorrupt => "pool header corrupt (overrun into the next block?)",
                        BadPoolHeaderCheck.DataAfterBlockCorrupt => "bytes after the pool block overwritten",
                        _ => "bad pool header",
                    };
                case BugCheckCode.BadPoolCaller:
                    return (BadPoolCallerCheck)P1 switch
                    {
                        BadPoolCallerCheck.DoubleFree => "pool block freed twice",
                        BadPoolCallerCheck.WrongTag => "pool block freed with another tag",
                        BadPoolCallerCheck.BadAlignment => "pool alignment not a power of two up to a page",
                        BadPoolCallerCheck.NotABigAllocation => "no big pool allocation starts at the address",
                        BadPoolCallerCheck.OutsidePool => "address outside the pool",
                        BadPoolCallerCheck.PageNotAllocated => "address in a pool page not allocated",
                        BadPoolCallerCheck.NotABlock => "address is not a pool block",
                        BadPoolCallerCheck.ZeroTag => "pool allocation with tag 0",
                        _ => "bad pool caller",
                    };
                case BugCheckCode.SpecialPoolDetectedMemoryCorruption:
                    return (SpecialPoolCheck)P4 switch
                    {
                        SpecialPoolCheck.NotAllocated => "special pool: address not allocated",
                        SpecialPoolCheck.BadAddress => "special pool: address is not the allocation's",
                        SpecialPoolCheck.BytesBeforeCorrupt => "special pool: bytes before the allocation overwritten",
                        SpecialPoolCheck.BytesAfterCorrupt => "special pool: bytes after the allocation overwritten",
                        _ => "special pool corruption",
                    };
                case BugCheckCode.PfnListCorrupt:
                    return "PFN database refused a pool page";
                case 0:
                    return "no problem";
                default:
                    return "pool problem";
            }
        }
    }

    /// <summary>
    /// Where a pool's pages come from: maps fresh frames at a virtual range, or unmaps and frees them.
    /// The kernel's implementation (<see cref="PoolPages{TMode, TMemory, TCache}"/>) takes frames from the
    /// PFN database and maps them with the generated walker; hosted benchmarks use host memory.
    /// </summary>
    public interface IPoolPages
    {
        /// <summary>Maps <paramref name="count"/> pages at <paramref name="address"/>; false (nothing mapped) when memory ran out or on corruption (then <paramref name="problem"/> says which).</summary>
        bool Commit(VirtualAddress address, ulong count, bool pageable, ref PoolProblem problem);

        /// <summary>Whether the page at <paramref name="address"/> is committed (mapped).</summary>
        bool IsCommitted(VirtualAddress address);

        /// <summary>
        /// Unmaps <paramref name="count"/> pages at <paramref name="address"/> and frees their frames; the number
        /// decommitted. With <paramref name="sparse"/>, pages that were never committed are skipped (demand commit);
        /// without it, every page must have been.
        /// </summary>
        ulong Decommit(VirtualAddress address, ulong count, bool sparse, ref PoolProblem problem);
    }
}
