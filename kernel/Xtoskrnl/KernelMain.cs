using System;
using System.Runtime;
using ExectOS.Boot;
using ExectOS.Hardware;
using ExectOS.Text;
using Internal.Runtime;

namespace ExectOS.Kernel
{
    /// <summary>The kernel's entry point and start-up sequence.</summary>
    internal static unsafe class KernelMain
    {
        /// <summary>Entered from the loader's hand-off stub on the kernel stack, interrupts off, with the loader block.</summary>
        [RuntimeExport("KeStartSystem")]
        private static void Start(LoaderBlock* loaderBlock)
        {
            RuntimeHost.Initialize(&EarlyHeap.Allocate, &BugCheck.FromFailFast);
            KernelConsole.Initialize();
            PrintBanner();
            Traps.Initialize();

            LoaderBlockError error = LoaderBlock.Validate(loaderBlock, BuildInfo.BootArchitecture);
            if (error != LoaderBlockError.None)
                BugCheck.Raise(BugCheckCode.LoaderBlockInvalid, (ulong)error, (ulong)loaderBlock, loaderBlock == null ? 0 : loaderBlock->Signature, 0);
            PrintLoaderBlock(loaderBlock);
            MemoryMapCheck.Run(loaderBlock);
            LayoutReport.Run(loaderBlock);
            PagingCheck.Run(loaderBlock);
            MemoryManager.Initialize(loaderBlock);
            RunRequestedTests(loaderBlock);
            MemorySelfTest.Run();
            Pools.PrintTags();

            KernelConsole.WriteLine("XTOSKRNL: start-up checks passed");
            DebugExit.Exit(BootProtocol.KernelPassed);
            Cpu.HaltForever();
        }

        private static void PrintBanner()
        {
            TextLine line = default;
            Banner.Append(ref line, "XTOSKRNL: ExectOS kernel", BuildInfo.Version, BuildInfo.Architecture, BuildInfo.Configuration, BuildInfo.Commit);
            line.Append(", ilc ");
            line.Append(BuildInfo.CompilerVersion);
            line.Append(')');
            KernelConsole.WriteLine(line.AsSpan());
        }

        /// <summary>Parameters that make the kernel fail on purpose, so tests can prove the failure paths end to end.</summary>
        private static void RunRequestedTests(LoaderBlock* block)
        {
            var parameters = new ReadOnlySpan<byte>(block->Parameters, KernelParameters.Capacity);
            if (KernelParameters.Contains(parameters, "TEST=BUGCHECK"))
                BugCheck.Raise(BugCheckCode.ManuallyInitiatedCrash, 0x5445535400000001, 0, 0, 0);
            if (KernelParameters.Contains(parameters, "TEST=DOUBLE-FREE"))
            {
                if (!MemoryManager.TryAllocatePage(Memory.PageUse.Allocated, false, out ulong page))
                    BugCheck.Raise(BugCheckCode.MemoryManagement, 0x401, 0, 0, 0);
                MemoryManager.FreePage(page, Memory.PageUse.Allocated);
                MemoryManager.FreePage(page, Memory.PageUse.Allocated);
            }
            if (KernelParameters.Contains(parameters, "TEST=POOL-DOUBLE-FREE"))
            {
                uint tag = Tag('D', 'b', 'l', 'F');
                void* poolBlock = Pools.Allocate(Memory.PoolType.NonPaged, 100, tag);
                KernelConsole.WriteLine("XTOSKRNL: freeing a pool block twice (TEST=POOL-DOUBLE-FREE)");
                Pools.Free(poolBlock, tag);
                Pools.Free(poolBlock, tag);
            }
            if (KernelParameters.Contains(parameters, "TEST=POOL-OVERRUN"))
            {
                uint tag = Tag('O', 'v', 'r', 'n');
                byte* poolBlock = (byte*)Pools.Allocate(Memory.PoolType.Paged, 96, tag);
                Pools.Allocate(Memory.PoolType.Paged, 96, tag);
                KernelConsole.WriteLine("XTOSKRNL: writing 8 bytes past a 96-byte pool block, then freeing it (TEST=POOL-OVERRUN)");
                *(ulong*)(poolBlock + 96) = 0x4141414141414141;
                Pools.Free(poolBlock, tag);
            }
            if (KernelParameters.Contains(parameters, "TEST=SPECIAL-POOL-OVERRUN"))
            {
                // Needs SPECIAL-POOL=Spcl (or *): the allocation ends where its page ends, the guard page follows.
                byte* poolBlock = (byte*)Pools.Allocate(Memory.PoolType.NonPaged, 100, Tag('S', 'p', 'c', 'l'));
                KernelConsole.WriteLine("XTOSKRNL: writing past the end of a special-pool allocation (TEST=SPECIAL-POOL-OVERRUN)");
                for (ulong i = 0; i < Pools.NonPaged->PageSize; i++)
                    poolBlock[i] = (byte)i;
            }
            if (KernelParameters.Contains(parameters, "TEST=SPECIAL-POOL-USE-AFTER-FREE"))
            {
                uint tag = Tag('S', 'p', 'c', 'l');
                byte* poolBlock = (byte*)Pools.Allocate(Memory.PoolType.Paged, 200, tag);
                Pools.Free(poolBlock, tag);
                KernelConsole.WriteLine("XTOSKRNL: reading a special-pool allocation after its free (TEST=SPECIAL-POOL-USE-AFTER-FREE)");
                s_sink = poolBlock[10];
            }
            if (KernelParameters.Contains(parameters, "TEST=PAGE-FAULT"))
                s_sink = *(ulong*)0xFFFFF90000000000;
            if (KernelParameters.Contains(parameters, "TEST=STACK-OVERFLOW"))
            {
                // Unbounded recursion on a fresh 16 KiB stack: the push into its guard page faults, the fault
                // cannot be delivered on that stack, and the double fault runs on its own IST stack.
                if (MemoryManager.AllocateStack(16 * 1024, out Memory.KernelStack stack) != Memory.StackError.None)
                    BugCheck.Raise(BugCheckCode.MemoryManagement, 0x400, 0, 0, 0);
                KernelConsole.WriteLine("XTOSKRNL: overflowing a 16 KiB kernel stack (TEST=STACK-OVERFLOW)");
                Cpu.CallOnStack((void*)stack.Top.Value, (void*)(delegate*<nuint, void>)&Recurse, 0);
            }
        }

        private static ulong s_sink;

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

        private static void PrintLoaderBlock(LoaderBlock* block)
        {
            TextLine line = default;
            line.Append("XTOSKRNL: loader block v");
            line.AppendDecimal((ulong)block->MajorVersion);
            line.Append('.');
            line.AppendDecimal((ulong)block->MinorVersion);
            line.Append(", ");
            line.AppendDecimal((ulong)block->Size);
            line.Append(" bytes; image at ");
            line.AppendHexPrefixed(block->KernelPhysicalBase, 8);
            line.Append(" (");
            line.AppendSize(block->KernelImageSize);
            line.Append("), stack ");
            line.AppendSize(block->KernelStackSize);
            line.Append(", CR3 ");
            line.AppendHexPrefixed(block->PageTableRoot, 8);
            KernelConsole.WriteLine(line.AsSpan());

            line.Clear();
            line.Append("XTOSKRNL: parameters: ");
            for (int i = 0; i < KernelParameters.Capacity && block->Parameters[i] != 0; i++)
                line.Append((char)block->Parameters[i]);
            KernelConsole.WriteLine(line.AsSpan());
        }
    }
}
