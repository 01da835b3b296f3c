using System;
using System.Runtime;
using ExectOS.Boot;
using ExectOS.Diagnostics;
using ExectOS.Hardware;
using ExectOS.Memory;
using ExectOS.Paging;
using ExectOS.Text;
using Internal.Runtime;

namespace ExectOS.Kernel
{
    /// <summary>
    /// The kernel's entry point: what needs no paging mode (console, traps, the loader block's header), then
    /// one switch, generated from the descriptors, into <see cref="Kernel{TMode, TLayout}"/> with the mode the
    /// loader block names. Nothing below chooses between modes again.
    /// </summary>
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
            ArithmeticCheck.Run();

            LoaderBlockError error = LoaderBlock.Validate(loaderBlock, BuildInfo.BootArchitecture);
            if (error != LoaderBlockError.None)
                BugCheck.Raise(BugCheckCode.LoaderBlockInvalid, (ulong)error, (ulong)loaderBlock, loaderBlock == null ? 0 : loaderBlock->Signature, 0);
            PrintLoaderBlock(loaderBlock);

            var kernel = new Entry { Block = loaderBlock };
            if (!ImageModes.Dispatch(loaderBlock->PagingMode, ref kernel))
                BugCheck.Raise(BugCheckCode.LoaderBlockInvalid, (ulong)LoaderBlockError.UnknownPagingMode, (ulong)loaderBlock, loaderBlock->PagingMode, 0);

            KernelConsole.WriteLine("XTOSKRNL: start-up checks passed");
            DebugExit.Exit(BootProtocol.KernelPassed);
            Processor.HaltForever();
        }

        private struct Entry : IModeVisitor
        {
            public LoaderBlock* Block;

            public void Visit<TMode, TLayout>()
                where TMode : struct, IPagingMode
                where TLayout : struct, ILayout
                => Kernel<TMode, TLayout>.Start(Block);
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
            line.Append(", page-table root ");
            line.AppendHexPrefixed(block->PageTableRoot, 8);
            KernelConsole.WriteLine(line.AsSpan());

            line.Clear();
            line.Append("XTOSKRNL: parameters: ");
            for (int i = 0; i < KernelParameters.Capacity && block->Parameters[i] != 0; i++)
                line.Append((char)block->Parameters[i]);
            KernelConsole.WriteLine(line.AsSpan());
        }
    }

    /// <summary>
    /// The kernel for one paging mode and its layout, entered once from <see cref="KernelMain"/>: the memory map
    /// checked, the layout computed from it, the loader's tables checked against the plan, the memory manager and
    /// pools started, the fault handlers armed, and the self-tests run.
    /// </summary>
    internal static unsafe class Kernel<TMode, TLayout>
        where TMode : struct, IPagingMode
        where TLayout : struct, ILayout
    {
        internal static void Start(LoaderBlock* block)
        {
            MemoryMapCheck.Run(block);
            if (block->PagesLeftOut != 0)
            {
                TextLine line = default;
                line.Append("XTOSKRNL: memory left out: ");
                MemoryCut.Describe(ref line, block->PagesLeftOut, block->FreePagesLeftOut, block->LeftOutReason, TMode.Name);
                KernelConsole.WriteLine(line.AsSpan());
            }
            LayoutReport.Run<TLayout>(block);
            PagingCheck.Run<TMode, TLayout>(block);
            // Armed before the memory manager starts: a fault while it builds the PFN database shows the tables.
            Faults<TMode>.Install();
            MemoryManager<TMode>.Initialize<TLayout>(block);
            Stacks<TMode>.Start(block);
            Processors.Discover<TMode>(block);
            RequestedTests<TMode, TLayout>.Run(block);
            MemorySelfTest<TMode>.Run();
            Pools.PrintTags();
            Processors.StartOthers<TMode>(block);
            Stacks<TMode>.PrintUsage();
        }
    }

    /// <summary>Regions of the running layout by name: a layout without one the kernel needs is a bug check.</summary>
    internal static class KernelLayout
    {
        internal static int Require<TLayout>(string region) where TLayout : struct, ILayout
        {
            int index = LayoutRegions.Find<TLayout>(region);
            if (index < 0)
            {
                TextLine line = default;
                line.Append("XTOSKRNL: layout ");
                line.Append(TLayout.Name);
                line.Append(" has no region ");
                line.Append(region);
                KernelConsole.WriteLine(line.AsSpan());
                BugCheck.Raise(MemoryManagementCheck.LayoutRegionMissing, (ulong)TLayout.RegionCount, 0, 0);
            }
            return index;
        }
    }
}
