using ExectOS.Boot;
using ExectOS.Hardware;
using ExectOS.Text;
using Internal.Runtime;

namespace ExectOS.Kernel
{
    /// <summary>Bug check codes; NT's values where one fits, ExectOS-specific ones above 0xE0000000.</summary>
    public enum BugCheckCode : uint
    {
        BadPoolHeader = 0x19,
        MemoryManagement = 0x1A,
        KmodeExceptionNotHandled = 0x1E,
        NoPagesAvailable = 0x4D,
        PfnListCorrupt = 0x4E,
        PageFaultInNonpagedArea = 0x50,
        UnexpectedKernelModeTrap = 0x7F,
        SpecialPoolDetectedMemoryCorruption = 0xC1,
        BadPoolCaller = 0xC2,
        PageFaultInFreedSpecialPool = 0xCC,
        PageFaultBeyondEndOfAllocation = 0xCD,
        ManuallyInitiatedCrash = 0xE2,
        LoaderBlockInvalid = 0xE0000001,
    }

    /// <summary>Stops the system on a broken invariant: prints the code and four parameters on COM1, then ends the run as failed.</summary>
    public static class BugCheck
    {
        public static void Raise(BugCheckCode code, ulong p1, ulong p2, ulong p3, ulong p4)
        {
            Processor.DisableInterrupts();
            TextLine line = default;
            line.Append("*** STOP: ");
            line.AppendHexPrefixed((uint)code, 8);
            line.Append(" (");
            line.AppendHexPrefixed(p1, 16);
            line.Append(", ");
            line.AppendHexPrefixed(p2, 16);
            line.Append(", ");
            line.AppendHexPrefixed(p3, 16);
            line.Append(", ");
            line.AppendHexPrefixed(p4, 16);
            line.Append(") ");
            line.Append(Name(code));
            KernelConsole.WriteLine(line.AsSpan());
            KernelConsole.WriteLine(Description(code));
            DebugExit.Exit(BootProtocol.KernelFailed);
            Processor.HaltForever();
        }

        /// <summary>The core library's fail-fast (failed bounds check, division by zero ...): parameter 1 says which.</summary>
        internal static void FromFailFast(FailFastReason reason, nuint detail)
            => Raise(BugCheckCode.KmodeExceptionNotHandled, (ulong)reason, detail, 0, 0);

        public static string Name(BugCheckCode code) => code switch
        {
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
            _ => "UNKNOWN_BUG_CHECK",
        };

        private static string Description(BugCheckCode code) => code switch
        {
            BugCheckCode.KmodeExceptionNotHandled => "    a run-time check failed in kernel code (parameter 1: which check, 2: detail)",
            BugCheckCode.MemoryManagement => "    the memory manager found a broken invariant (parameter 1: which check)",
            BugCheckCode.NoPagesAvailable => "    no free page was left for a page the kernel must have (parameter 1: the address, 2: pages available)",
            BugCheckCode.PfnListCorrupt => "    the PFN database is corrupt or was misused (parameter 1: which check, 2: the page)",
            BugCheckCode.PageFaultInNonpagedArea => "    kernel code touched an address that is not mapped (parameter 1: address, 2: error code, 3: instruction)",
            BugCheckCode.UnexpectedKernelModeTrap => "    a processor exception the kernel does not handle (parameter 1: vector, 2: error code or address, 3: stack or instruction)",
            BugCheckCode.BadPoolHeader => "    a pool block's header or a pool list is corrupt (parameter 1: which check, 2: the block)",
            BugCheckCode.BadPoolCaller => "    a pool request was wrong: double free, wrong tag, not a pool address (parameter 1: which check)",
            BugCheckCode.SpecialPoolDetectedMemoryCorruption => "    bytes around a special-pool allocation were overwritten (parameter 1: the allocation, 2: the byte, 4: which check)",
            BugCheckCode.PageFaultInFreedSpecialPool => "    kernel code touched special pool after it was freed (parameter 1: address, 2: 1 for a write, 3: instruction)",
            BugCheckCode.PageFaultBeyondEndOfAllocation => "    kernel code ran past the end of a special-pool allocation into its guard page (parameter 1: address, 2: 1 for a write, 3: instruction)",
            BugCheckCode.ManuallyInitiatedCrash => "    the boot parameters asked for a bug check (TEST=BUGCHECK)",
            BugCheckCode.LoaderBlockInvalid => "    the loader block is missing or from an incompatible loader (parameter 1: reason)",
            _ => "    the kernel found a broken invariant",
        };
    }
}
