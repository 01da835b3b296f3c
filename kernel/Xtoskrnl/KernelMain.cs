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
