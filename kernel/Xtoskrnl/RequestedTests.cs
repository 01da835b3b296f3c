using System;
using ExectOS.Boot;
using ExectOS.Diagnostics;
using ExectOS.Hardware;
using ExectOS.Memory;

namespace ExectOS.Kernel
{
    /// <summary>Parameters that make the kernel fail on purpose, so tests can prove the failure paths end to end.</summary>
    internal static unsafe class RequestedTests<TMode, TLayout>
        where TMode : struct, IPagingMode
        where TLayout : struct, ILayout
    {
        private static ulong s_sink;

        internal static void Run(LoaderBlock* block)
        {
            var parameters = new ReadOnlySpan<byte>(block->Parameters, KernelParameters.Capacity);
            if (KernelParameters.Contains(parameters, "TEST=BUGCHECK"))
                BugCheck.Raise(BugCheckCode.ManuallyInitiatedCrash, (ulong)ManualCrashReason.TestParameter, 0, 0, 0);
            if (KernelParameters.Contains(parameters, "TEST=DOUBLE-FREE"))
            {
                if (!MemoryManager<TMode>.TryAllocatePage(PageUse.Allocated, false, out PageFrameNumber page))
                    BugCheck.Raise(MemoryManagementCheck.TestPageUnavailable, 0, 0, 0);
                MemoryManager.FreePage(page, PageUse.Allocated);
                MemoryManager.FreePage(page, PageUse.Allocated);
            }
            if (KernelParameters.Contains(parameters, "TEST=POOL-DOUBLE-FREE"))
            {
                uint tag = Tag('D', 'b', 'l', 'F');
                void* poolBlock = Pools<TMode>.Allocate(PoolType.NonPaged, 100, tag);
                KernelConsole.WriteLine("XTOSKRNL: freeing a pool block twice (TEST=POOL-DOUBLE-FREE)");
                Pools<TMode>.Free(poolBlock, tag);
                Pools<TMode>.Free(poolBlock, tag);
            }
            if (KernelParameters.Contains(parameters, "TEST=POOL-OVERRUN"))
            {
                uint tag = Tag('O', 'v', 'r', 'n');
                byte* poolBlock = (byte*)Pools<TMode>.Allocate(PoolType.Paged, 96, tag);
                Pools<TMode>.Allocate(PoolType.Paged, 96, tag);
                KernelConsole.WriteLine("XTOSKRNL: writing 8 bytes past a 96-byte pool block, then freeing it (TEST=POOL-OVERRUN)");
                *(ulong*)(poolBlock + 96) = 0x4141414141414141;
                Pools<TMode>.Free(poolBlock, tag);
            }
            if (KernelParameters.Contains(parameters, "TEST=SPECIAL-POOL-OVERRUN"))
            {
                // Needs SPECIAL-POOL=Spcl (or *): the allocation ends where its page ends, the guard page follows.
                byte* poolBlock = (byte*)Pools<TMode>.Allocate(PoolType.NonPaged, 100, Tag('S', 'p', 'c', 'l'));
                KernelConsole.WriteLine("XTOSKRNL: writing past the end of a special-pool allocation (TEST=SPECIAL-POOL-OVERRUN)");
                for (ulong i = 0; i < Pools.NonPaged->PageSize; i++)
                    poolBlock[i] = (byte)i;
            }
            if (KernelParameters.Contains(parameters, "TEST=SPECIAL-POOL-USE-AFTER-FREE"))
            {
                uint tag = Tag('S', 'p', 'c', 'l');
                byte* poolBlock = (byte*)Pools<TMode>.Allocate(PoolType.Paged, 200, tag);
                Pools<TMode>.Free(poolBlock, tag);
                KernelConsole.WriteLine("XTOSKRNL: reading a special-pool allocation after its free (TEST=SPECIAL-POOL-USE-AFTER-FREE)");
                s_sink = poolBlock[10];
            }
            if (KernelParameters.Contains(parameters, "TEST=PAGE-FAULT"))
            {
                // The system cache region: part of every layout, never mapped by this kernel yet.
                VirtualAddress unmapped = MemoryManager.Region(KernelLayout.Require<TLayout>("SystemCache")).Start;
                if (MemoryManager<TMode>.IsMapped(unmapped))
                    BugCheck.Raise(MemoryManagementCheck.TestAddressMapped, unmapped.Value, 0, 0);
                s_sink = *(ulong*)(nuint)unmapped.Value;
            }
            if (KernelParameters.Contains(parameters, "TEST=STACK-OVERFLOW"))
            {
                // Unbounded recursion on a fresh 16 KiB stack: the push into its guard page faults, the fault
                // cannot be delivered on that stack, and the double fault runs on its own stack.
                if (MemoryManager<TMode>.AllocateStack(16 * 1024, out KernelStack stack) != StackError.None)
                    BugCheck.Raise(MemoryManagementCheck.TestStackUnavailable, 0, 0, 0);
                KernelConsole.WriteLine("XTOSKRNL: overflowing a 16 KiB kernel stack (TEST=STACK-OVERFLOW)");
                Processor.CallOnStack((void*)(nuint)stack.Top.Value, (void*)(delegate*<nuint, void>)&Recurse, 0);
            }
        }

        private static uint Tag(char a, char b, char c, char d) => (uint)a | (uint)b << 8 | (uint)c << 16 | (uint)d << 24;

        private static void Recurse(nuint depth)
        {
            Frame frame = default;
            frame[(int)(depth & 15)] = depth;
            Recurse(depth + 1);
            s_sink += frame[(int)((depth + 1) & 15)];
        }

        [System.Runtime.CompilerServices.InlineArray(16)]
        private struct Frame
        {
            private ulong _element;
        }
    }

    /// <summary>The TEST= names this kernel knows, one a line: a TEST= naming another ends the boot (BAD_BOOT_PARAMETER).</summary>
    internal static class RequestedTests
    {
        // A new test adds its name here; tests/ExectOS.Tests/Xtos/KernelParametersTests.cs checks this list against the TEST= tokens above.
        internal const string Names = """
            BUGCHECK
            DOUBLE-FREE
            POOL-DOUBLE-FREE
            POOL-OVERRUN
            SPECIAL-POOL-OVERRUN
            SPECIAL-POOL-USE-AFTER-FREE
            PAGE-FAULT
            STACK-OVERFLOW
            """;
    }
}
