using System;
using ExectOS.Boot;
using ExectOS.Memory;
using Internal.Runtime;

namespace ExectOS.Diagnostics
{
    // The one registry of bug checks: every code, and every table of values a coded parameter takes. A code
    // with such a table says so with [SubCodes]; a table's members are its values, each with a one-line
    // meaning (its summary), and a value marked [Steps] reserves itself and the values up to its highest step.
    // tests/ExectOS.Tests/Xtos/BugCheckRegistryTests.cs reads it all by reflection and proves it unique.

    /// <summary>Bug check codes: NT's values where one fits, ExectOS's own above 0xE0000000.</summary>
    public enum BugCheckCode : uint
    {
        IrqlNotGreaterOrEqual = 0x09,
        IrqlNotLessOrEqual = 0x0A,
        SpinLockAlreadyOwned = 0x0F,
        SpinLockNotOwned = 0x10,
        [SubCodes(typeof(BadPoolHeaderCheck))]
        BadPoolHeader = 0x19,
        [SubCodes(typeof(MemoryManagementCheck))]
        MemoryManagement = 0x1A,
        [SubCodes(typeof(FailFastReason))]
        KmodeExceptionNotHandled = 0x1E,
        NoPagesAvailable = 0x4D,
        [SubCodes(typeof(PfnError))]
        PfnListCorrupt = 0x4E,
        PageFaultInNonpagedArea = 0x50,
        UnexpectedKernelModeTrap = 0x7F,
        [SubCodes(typeof(SpecialPoolCheck), parameter: 4)]
        SpecialPoolDetectedMemoryCorruption = 0xC1,
        [SubCodes(typeof(BadPoolCallerCheck))]
        BadPoolCaller = 0xC2,
        PageFaultInFreedSpecialPool = 0xCC,
        PageFaultBeyondEndOfAllocation = 0xCD,
        [SubCodes(typeof(ManualCrashReason))]
        ManuallyInitiatedCrash = 0xE2,
        [SubCodes(typeof(LoaderBlockError))]
        LoaderBlockInvalid = 0xE0000001,
        [SubCodes(typeof(ArithmeticCheckFailure))]
        ArithmeticCheckFailed = 0xE0000002,
        [SubCodes(typeof(BootParameterError))]
        BadBootParameter = 0xE0000003,
        /// <summary>Another processor did not answer an inter-processor request (1: its interrupt controller id, 2: the vector, 3: processors still owing an answer, 4: the address).</summary>
        ProcessorRequestTimeout = 0xE0000004,
    }

    /// <summary>Each code's NT name (printed after <c>*** STOP:</c>; tools parse it) and what its parameters are.</summary>
    public static class BugCheckCodes
    {
        public const string UnknownName = "UNKNOWN_BUG_CHECK";
        public const string UnknownDescription = "the kernel found a broken invariant";

        public static string Name(BugCheckCode code) => code switch
        {
            BugCheckCode.IrqlNotGreaterOrEqual => "IRQL_NOT_GREATER_OR_EQUAL",
            BugCheckCode.IrqlNotLessOrEqual => "IRQL_NOT_LESS_OR_EQUAL",
            BugCheckCode.SpinLockAlreadyOwned => "SPIN_LOCK_ALREADY_OWNED",
            BugCheckCode.SpinLockNotOwned => "SPIN_LOCK_NOT_OWNED",
            BugCheckCode.BadPoolHeader => "BAD_POOL_HEADER",
            BugCheckCode.MemoryManagement => "MEMORY_MANAGEMENT",
            BugCheckCode.SpecialPoolDetectedMemoryCorruption => "SPECIAL_POOL_DETECTED_MEMORY_CORRUPTION",
            BugCheckCode.BadPoolCaller => "BAD_POOL_CALLER",
            BugCheckCode.PageFaultInFreedSpecialPool => "PAGE_FAULT_IN_FREED_SPECIAL_POOL",
            BugCheckCode.PageFaultBeyondEndOfAllocation => "PAGE_FAULT_BEYOND_END_OF_ALLOCATION",
            BugCheckCode.KmodeExceptionNotHandled => "KMODE_EXCEPTION_NOT_HANDLED",
            BugCheckCode.NoPagesAvailable => "NO_PAGES_AVAILABLE",
            BugCheckCode.PfnListCorrupt => "PFN_LIST_CORRUPT",
            BugCheckCode.PageFaultInNonpagedArea => "PAGE_FAULT_IN_NONPAGED_AREA",
            BugCheckCode.UnexpectedKernelModeTrap => "UNEXPECTED_KERNEL_MODE_TRAP",
            BugCheckCode.ManuallyInitiatedCrash => "MANUALLY_INITIATED_CRASH",
            BugCheckCode.LoaderBlockInvalid => "LOADER_BLOCK_INVALID",
            BugCheckCode.ArithmeticCheckFailed => "ARITHMETIC_CHECK_FAILED",
            BugCheckCode.BadBootParameter => "BAD_BOOT_PARAMETER",
            BugCheckCode.ProcessorRequestTimeout => "PROCESSOR_REQUEST_TIMEOUT",
            _ => UnknownName,
        };

        public static string Description(BugCheckCode code) => code switch
        {
            BugCheckCode.IrqlNotGreaterOrEqual => "a raise of the IRQL asked for a level below the current one (parameter 1: the current IRQL, 2: the level asked for)",
            BugCheckCode.IrqlNotLessOrEqual => "code ran at too high an IRQL: a lowering to a higher level, or pageable memory at DISPATCH_LEVEL or above (parameter 1: address or level, 2: the IRQL, 3: 1 for a write, 4: instruction or detail)",
            BugCheckCode.SpinLockAlreadyOwned => "a processor acquired a spin lock it already owns (parameter 1: the lock, 2: the processor)",
            BugCheckCode.SpinLockNotOwned => "a processor released a spin lock it does not own (parameter 1: the lock, 2: the processor, 3: the owner or -1)",
            BugCheckCode.KmodeExceptionNotHandled => "a run-time check failed in kernel code (parameter 1: which check, 2: detail)",
            BugCheckCode.MemoryManagement => "the memory manager found a broken invariant (parameter 1: which check)",
            BugCheckCode.NoPagesAvailable => "no free page was left for a page the kernel must have (parameter 1: the address, 2: pages available)",
            BugCheckCode.PfnListCorrupt => "the PFN database is corrupt or was misused (parameter 1: which check, 2: the page)",
            BugCheckCode.PageFaultInNonpagedArea => "kernel code touched an address that is not mapped (parameter 1: address, 2: error code, 3: instruction)",
            BugCheckCode.UnexpectedKernelModeTrap => "a processor exception the kernel does not handle (parameter 1: vector, 2: error code or address, 3: stack or instruction)",
            BugCheckCode.BadPoolHeader => "a pool block's header or a pool list is corrupt (parameter 1: which check, 2: the block)",
            BugCheckCode.BadPoolCaller => "a pool request was wrong: double free, wrong tag, not a pool address (parameter 1: which check)",
            BugCheckCode.SpecialPoolDetectedMemoryCorruption => "bytes around a special-pool allocation were overwritten (parameter 1: the allocation, 2: the byte, 4: which check)",
            BugCheckCode.PageFaultInFreedSpecialPool => "kernel code touched special pool after it was freed (parameter 1: address, 2: 1 for a write, 3: instruction)",
            BugCheckCode.PageFaultBeyondEndOfAllocation => "kernel code ran past the end of a special-pool allocation into its guard page (parameter 1: address, 2: 1 for a write, 3: instruction)",
            BugCheckCode.ManuallyInitiatedCrash => "the boot parameters asked for a bug check (TEST=BUGCHECK)",
            BugCheckCode.LoaderBlockInvalid => "the loader block is missing or from an incompatible loader (parameter 1: reason)",
            BugCheckCode.ArithmeticCheckFailed => "a 64-bit operation gave a wrong result at start-up (parameter 1: which, 2: case, 3: result, 4: expected)",
            BugCheckCode.BadBootParameter => "a boot parameter the kernel reads has a value it does not know (parameter 1: which problem, 2: the parameter's offset in the line, 3: its length)",
            BugCheckCode.ProcessorRequestTimeout => "another processor did not answer a TLB shootdown or other request within 2 s (parameter 1: its interrupt controller id, 2: the vector, 3: processors still owing an answer, 4: the address)",
            _ => UnknownDescription,
        };
    }

    /// <summary>
    /// MEMORY_MANAGEMENT (0x1A), parameter 1: which check failed. One block of values per subsystem, so a
    /// value says where it was raised; parameters 2 to 4 are in each value's summary.
    /// </summary>
    public enum MemoryManagementCheck : ulong
    {
        // 0x100-0x1FF: the loader's mapping plan and page tables, as the kernel checks them (PagingCheck).
        /// <summary>The live page-table root or the level count is not the loader block's (2: the live root, 3: the block's root, 4: its levels).</summary>
        TableRootMismatch = 0x100,
        /// <summary>The loader's mapping plan breaks a rule (2: the MappingError, 3: the first mapping's kind, 4: detail).</summary>
        PlanInvalid = 0x101,
        /// <summary>The layout has no windows for the plan at this much RAM (2: pages).</summary>
        PlanWindowsUnavailable = 0x102,
        /// <summary>A mapping is outside the window its kind belongs in (2: kind, 3: virtual base, 4: index in the plan).</summary>
        MappingOutsideWindow = 0x103,
        /// <summary>The plan has no hand-off or hyperspace page, or the kernel runs outside its image (2: hand-off index, 3: hyperspace index, 4: code address).</summary>
        PlanIncomplete = 0x104,
        /// <summary>The live page tables are not the plan (2: the MappingError, 3: the first mapping's kind, 4: detail).</summary>
        TablesDifferFromPlan = 0x105,

        // 0x200-0x2FF: the memory manager's start (MemoryManager).
        /// <summary>The PFN database could not be built: 0x200 + the PfnBuildError (2: detail, 3: extra, 4: frames).</summary>
        [Steps(0xF)]
        PfnBuild = 0x200,
        /// <summary>The system PTE region cannot hold the kernel stacks' bitmap (2: the StackError, 3: region bytes).</summary>
        SystemPtesUnavailable = 0x210,

        // 0x300-0x3FF: the boot self-tests, 0x300 + step.
        /// <summary>The memory manager's self-test failed at a step: 0x300 + step (2, 3: detail).</summary>
        [Steps(0x1F)]
        MemorySelfTest = 0x300,
        /// <summary>The pools' self-test failed at a step: 0x320 + step (2, 3: detail).</summary>
        [Steps(0x1F)]
        PoolSelfTest = 0x320,
        /// <summary>The concurrent self-test (every processor at once) failed at a step: 0x340 + step (2: processor, 3, 4: detail).</summary>
        [Steps(0x1F)]
        ConcurrentSelfTest = 0x340,

        // 0x400-0x4FF: what a TEST= boot parameter needs before it fails on purpose (RequestedTests).
        /// <summary>TEST=STACK-OVERFLOW got no kernel stack to overflow.</summary>
        TestStackUnavailable = 0x400,
        /// <summary>TEST=DOUBLE-FREE got no page to free twice.</summary>
        TestPageUnavailable = 0x401,
        /// <summary>TEST=PAGE-FAULT found its unmapped address mapped (2: the address).</summary>
        TestAddressMapped = 0x402,
        /// <summary>TEST=STACK-GROW could not grow its large stack, or it did not grow (2: the StackError, 3: depth reached in bytes, 4: committed pages).</summary>
        TestStackGrowthFailed = 0x403,
        /// <summary>TEST=STACK-CALLOUT's callout was refused or did not run on a new segment (2: the StackError, 3: detail, 4: the current stack's record).</summary>
        TestCalloutFailed = 0x404,
        /// <summary>A TEST= that needs several processors runs on fewer (2: processors needed, 3: running).</summary>
        TestNeedsProcessors = 0x405,
        /// <summary>TEST=TLB-SHOOTDOWN: another processor read a page through a stale translation, or not what was written (2: the address, 3: the value read, 4: 1 after the free).</summary>
        TestStaleTranslation = 0x406,

        // 0x500-0x5FF: the pools (Pools, Pool, PoolPages).
        /// <summary>The non-paged pool refused its configuration (2: region start, 3: bytes, 4: expansion bytes).</summary>
        NonPagedPoolUnusable = 0x500,
        /// <summary>The paged pool refused its configuration (2: region start, 3: bytes).</summary>
        PagedPoolUnusable = 0x501,
        /// <summary>No non-paged memory for the processors' own pool lists at start-up (2: bytes, 3: 0 for the non-paged pool's, 1 for the paged pool's).</summary>
        ProcessorCachesUnavailable = 0x502,
        /// <summary>Pool validation: pages used, committed and big disagree with the counters (2: used, 3: committed, 4: big).</summary>
        PoolPagesMismatch = 0x510,
        /// <summary>Pool validation: free, allocated or lookaside blocks found disagree with the counters (2: free, 3: allocated, 4: lookaside).</summary>
        PoolBlocksMismatch = 0x511,
        /// <summary>Pool validation: the free and lookaside lists do not hold the free and parked blocks (2: listed, 3: free, 4: parked).</summary>
        PoolListsMismatch = 0x512,
        /// <summary>Pool validation: special allocations or bytes in use disagree with the counters (2: special, 3: bytes, 4: bytes counted).</summary>
        PoolBytesMismatch = 0x513,
        /// <summary>Pool validation: the tag table does not add up to the pool's counts (2: tag bytes, 3: tag live, 4: bytes counted).</summary>
        PoolTagsMismatch = 0x514,
        /// <summary>A pool page to decommit was not mapped (2: the page, 3: pages, 4: index).</summary>
        PoolPageNotCommitted = 0x520,

        // 0x600-0x6FF: kernel stacks (Stacks).
        /// <summary>No stack with a guard page for double faults or NMIs (2: the StackKind, 3: bytes).</summary>
        ExceptionStacksUnavailable = 0x600,
        /// <summary>A callout or a run on a stack ended on another stack than it started (2: the StackError, 3: the current record, 4: the expected one).</summary>
        CalloutUnbalanced = 0x601,

        // 0x1000-0x1FFF: the loader's memory map (MemoryMapCheck).
        /// <summary>The loader block has no memory map (2: descriptors address, 3: count).</summary>
        MemoryMapMissing = 0x1001,
        /// <summary>The memory map is not sorted (2: index, 3: its base page, 4: the previous end page).</summary>
        MemoryMapUnsorted = 0x1002,
        /// <summary>The kernel image is not described as LoaderSystemCode (2: base page, 3: pages, 4: the type looked for).</summary>
        KernelImageNotDescribed = 0x1003,

        // 0x2000-0x2FFF: the kernel's virtual layout (LayoutReport, KernelLayout, MemoryManager).
        /// <summary>The layout has no placement for this much RAM (2: pages, 3: its minimum, 4: its maximum).</summary>
        LayoutUnavailable = 0x2001,
        /// <summary>The layout lacks a region the kernel needs (2: the layout's region count).</summary>
        LayoutRegionMissing = 0x2002,
    }

    /// <summary>BAD_POOL_HEADER (0x19), parameter 1: NT's meanings.</summary>
    public enum BadPoolHeaderCheck : ulong
    {
        /// <summary>A free list (or lookaside list) link does not point back (2: the entry, 3: its flink, 4: its blink, decoded).</summary>
        ListCorrupt = 0x3,
        /// <summary>Two adjacent headers contradict each other (2: one entry, 4: the other).</summary>
        NeighboursDisagree = 0x5,
        /// <summary>A header's size or check is corrupt (2: the entry, 3: the next entry: an overrun into it).</summary>
        HeaderCorrupt = 0x20,
        /// <summary>The byte after the caller's bytes was overwritten (2: the block, 3: bytes asked, 4: the byte found).</summary>
        DataAfterBlockCorrupt = 0x21,
    }

    /// <summary>BAD_POOL_CALLER (0xC2), parameter 1: NT's meanings where NT has one.</summary>
    public enum BadPoolCallerCheck : ulong
    {
        /// <summary>A free of a block already freed (3: the header's first 8 bytes, 4: the address). NT's 0x7.</summary>
        DoubleFree = 0x7,
        /// <summary>A free whose tag is not the allocation's (2: the address, 3: the tag given, 4: the tag allocated with). Ours.</summary>
        WrongTag = 0xA,
        /// <summary>An alignment that is not a power of two or is larger than a page (2: the alignment). Ours.</summary>
        BadAlignment = 0xD,
        /// <summary>A free of a page-aligned address no big allocation starts at (2: the address). NT's 0x44 family.</summary>
        NotABigAllocation = 0x44,
        /// <summary>A free of an address outside the pool (2: the address, 3: the pool type). NT's 0x46.</summary>
        OutsidePool = 0x46,
        /// <summary>A free of an address in a page the pool has not allocated (2: the address). NT's 0x50.</summary>
        PageNotAllocated = 0x50,
        /// <summary>A free of an address that is no block's start (2: the address, 3: the header's first 8 bytes). NT's 0x99.</summary>
        NotABlock = 0x99,
        /// <summary>An allocation with tag 0 (3: the bytes). NT's 0x9B.</summary>
        ZeroTag = 0x9B,
    }

    /// <summary>SPECIAL_POOL_DETECTED_MEMORY_CORRUPTION (0xC1), parameter 4 (parameter 1 is the address freed).</summary>
    public enum SpecialPoolCheck : ulong
    {
        /// <summary>The address is not a live special-pool allocation, or its header is broken (2: its page, when it has one).</summary>
        NotAllocated = 0x20,
        /// <summary>The address is in a live special-pool page but not where its allocation starts (2: bytes, 3: the allocation).</summary>
        BadAddress = 0x21,
        /// <summary>A byte between the page's start and the allocation was overwritten (2: the byte).</summary>
        BytesBeforeCorrupt = 0x23,
        /// <summary>A byte between the allocation's end and the page's end was overwritten (2: the byte).</summary>
        BytesAfterCorrupt = 0x24,
    }

    /// <summary>MANUALLY_INITIATED_CRASH (0xE2), parameter 1.</summary>
    public enum ManualCrashReason : ulong
    {
        /// <summary>TEST=BUGCHECK asked for it ("TEST" in the high half, 1 in the low).</summary>
        TestParameter = 0x5445535400000001,
    }

    /// <summary>BAD_BOOT_PARAMETER (0xE0000003), parameter 1: what is wrong with the parameter (2: its offset, 3: its length).</summary>
    public enum BootParameterError : ulong
    {
        None = 0,
        /// <summary>TEST= names no test this kernel has: a misspelled test must not pass as a run without it.</summary>
        UnknownTest = 1,
        /// <summary>SPECIAL-POOL= is not a pool tag (1 to 4 characters, or * for every tag).</summary>
        NotAPoolTag = 2,
        /// <summary>MAXCPUS= is not a processor count (a decimal number from 1 to 256).</summary>
        NotAProcessorCount = 3,
    }

    /// <summary>Names the enum whose members are the values of one of a bug check's parameters.</summary>
    [AttributeUsage(AttributeTargets.Field)]
    public sealed class SubCodesAttribute : Attribute
    {
        public SubCodesAttribute(Type table, int parameter = 1)
        {
            Table = table;
            Parameter = parameter;
        }

        public Type Table { get; }

        /// <summary>Which parameter (1 to 4) takes the table's values.</summary>
        public int Parameter { get; }
    }

    /// <summary>Marks a sub-code as the start of a range: it plus 0 to <see cref="Highest"/> (the highest step) are reserved for it.</summary>
    [AttributeUsage(AttributeTargets.Field)]
    public sealed class StepsAttribute : Attribute
    {
        public StepsAttribute(ulong highest) => Highest = highest;

        public ulong Highest { get; }
    }

    /// <summary>ARITHMETIC_CHECK_FAILED parameter 1: the 64-bit operation <c>ArithmeticCheck</c> found wrong.</summary>
    public enum ArithmeticCheckFailure : ulong
    {
        None = 0,
        /// <summary>A 64-bit multiply (on i686: the RhpLMul stub).</summary>
        Multiply = 1,
        /// <summary>An unsigned 64-bit divide (on i686: System.Math.DivUInt64 and the ArDivideUInt64 stub).</summary>
        DivideUnsigned = 2,
        /// <summary>An unsigned 64-bit remainder.</summary>
        RemainderUnsigned = 3,
        /// <summary>A signed 64-bit divide.</summary>
        DivideSigned = 4,
        /// <summary>A signed 64-bit remainder (the dividend's sign).</summary>
        RemainderSigned = 5,
        /// <summary>A 64-bit left shift by a variable count (on i686: RhpLLsh).</summary>
        ShiftLeft = 6,
        /// <summary>A logical 64-bit right shift (on i686: RhpLRsz).</summary>
        ShiftRightUnsigned = 7,
        /// <summary>An arithmetic 64-bit right shift (on i686: RhpLRsh).</summary>
        ShiftRightSigned = 8,
    }
}
