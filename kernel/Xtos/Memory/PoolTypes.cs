using System.Runtime.InteropServices;

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

    /// <summary>Bug check codes the pools raise, with NT's numbers.</summary>
    public static class PoolBugCheck
    {
        public const uint BadPoolHeader = 0x19;
        public const uint MemoryManagement = 0x1A;
        public const uint PfnListCorrupt = 0x4E;
        public const uint SpecialPoolDetectedMemoryCorruption = 0xC1;
        public const uint BadPoolCaller = 0xC2;
        public const uint PageFaultInFreedSpecialPool = 0xCC;
        public const uint PageFaultBeyondEndOfAllocation = 0xCD;

        // BAD_POOL_HEADER (0x19), parameter 1: NT's meanings.
        /// <summary>A free list (or lookaside list) link does not point back: p2 the entry, p3 its flink, p4 its blink (decoded).</summary>
        public const ulong ListCorrupt = 0x3;
        /// <summary>Two adjacent headers contradict each other: p2 one entry, p4 the other.</summary>
        public const ulong NeighboursDisagree = 0x5;
        /// <summary>A header's size or check is corrupt: p2 the entry, p3 the next entry (an overrun into it).</summary>
        public const ulong HeaderCorrupt = 0x20;
        /// <summary>The byte after the caller's bytes was overwritten: p2 the block, p3 bytes asked, p4 the byte found.</summary>
        public const ulong DataAfterBlockCorrupt = 0x21;

        // BAD_POOL_CALLER (0xC2), parameter 1.
        /// <summary>A free of a block already freed: p3 the header's first 8 bytes, p4 the address. (NT's 0x7.)</summary>
        public const ulong DoubleFree = 0x7;
        /// <summary>A free whose tag is not the allocation's: p2 the address, p3 the tag given, p4 the tag allocated with. (Ours.)</summary>
        public const ulong WrongTag = 0xA;
        /// <summary>An alignment that is not a power of two or is larger than a page: p2 the alignment. (Ours.)</summary>
        public const ulong BadAlignment = 0xD;
        /// <summary>A free of a page-aligned address no big allocation starts at: p2 the address. (NT's 0x44 family.)</summary>
        public const ulong NotABigAllocation = 0x44;
        /// <summary>A free of an address outside the pool: p2 the address, p3 the pool type. (NT's 0x46.)</summary>
        public const ulong OutsidePool = 0x46;
        /// <summary>A free of an address in a page the pool has not allocated: p2 the address. (NT's 0x50.)</summary>
        public const ulong PageNotAllocated = 0x50;
        /// <summary>A free of an address that is no block's start (misaligned, or its header is not a header): p2 the address, p3 the header's first 8 bytes. (NT's 0x99.)</summary>
        public const ulong NotABlock = 0x99;
        /// <summary>An allocation with tag 0: p3 the bytes. (NT's 0x9B.)</summary>
        public const ulong ZeroTag = 0x9B;

        // SPECIAL_POOL_DETECTED_MEMORY_CORRUPTION (0xC1), parameter 4 (p1 the address freed).
        public const ulong SpecialNotAllocated = 0x20;
        public const ulong SpecialBadAddress = 0x21;
        public const ulong SpecialBytesBeforeCorrupt = 0x23;
        public const ulong SpecialBytesAfterCorrupt = 0x24;
    }

    /// <summary>
    /// What a pool operation found wrong: a bug check code and its four parameters, or nothing (Code 0).
    /// The pool checks before it changes anything, so a refused request leaves the pool as it was.
    /// </summary>
    public struct PoolProblem
    {
        public uint Code;
        public ulong P1;
        public ulong P2;
        public ulong P3;
        public ulong P4;

        public readonly bool IsOk => Code == 0;

        public static PoolProblem Of(uint code, ulong p1, ulong p2 = 0, ulong p3 = 0, ulong p4 = 0)
            => new PoolProblem { Code = code, P1 = p1, P2 = p2, P3 = p3, P4 = p4 };

        /// <summary>A refusal from the PFN database as the pool reports it: PFN_LIST_CORRUPT with the database's parameters.</summary>
        public static PoolProblem FromPfn(PfnProblem problem)
            => Of(PoolBugCheck.PfnListCorrupt, (ulong)problem.Error, problem.Page, problem.Detail, problem.Extra);

        /// <summary>A short description for serial output.</summary>
        public readonly string Describe()
        {
            switch (Code)
            {
                case PoolBugCheck.BadPoolHeader:
                    return P1 switch
                    {
                        PoolBugCheck.ListCorrupt => "pool free list corrupt",
                        PoolBugCheck.NeighboursDisagree => "adjacent pool headers disagree",
                        PoolBugCheck.HeaderCorrupt => "pool header corrupt (overrun into the next block?)",
                        PoolBugCheck.DataAfterBlockCorrupt => "bytes after the pool block overwritten",
                        _ => "bad pool header",
                    };
                case PoolBugCheck.BadPoolCaller:
                    return P1 switch
                    {
                        PoolBugCheck.DoubleFree => "pool block freed twice",
                        PoolBugCheck.WrongTag => "pool block freed with another tag",
                        PoolBugCheck.BadAlignment => "pool alignment not a power of two up to a page",
                        PoolBugCheck.NotABigAllocation => "no big pool allocation starts at the address",
                        PoolBugCheck.OutsidePool => "address outside the pool",
                        PoolBugCheck.PageNotAllocated => "address in a pool page not allocated",
                        PoolBugCheck.NotABlock => "address is not a pool block",
                        PoolBugCheck.ZeroTag => "pool allocation with tag 0",
                        _ => "bad pool caller",
                    };
                case PoolBugCheck.SpecialPoolDetectedMemoryCorruption:
                    return P4 switch
                    {
                        PoolBugCheck.SpecialNotAllocated => "special pool: address not allocated",
                        PoolBugCheck.SpecialBadAddress => "special pool: address is not the allocation's",
                        PoolBugCheck.SpecialBytesBeforeCorrupt => "special pool: bytes before the allocation overwritten",
                        PoolBugCheck.SpecialBytesAfterCorrupt => "special pool: bytes after the allocation overwritten",
                        _ => "special pool corruption",
                    };
                case PoolBugCheck.PfnListCorrupt:
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
