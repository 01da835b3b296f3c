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
            KernelConsole.Initialize(loaderBlock);
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
            var parameters = new ReadOnlySpan<byte>(block->Parameters, KernelParameters.Capacity);
            for (int i = 0; i < parameters.Length && parameters[i] != 0; i++)
                line.Append((char)parameters[i]);
            AppendIgnored(ref line, parameters);
            KernelConsole.WriteLine(line.AsSpan());
            CheckParameters(parameters);
        }

        /// <summary>" (ignored: A B)": the parameters neither the kernel nor the loader reads, when there are any.</summary>
        private static void AppendIgnored(ref TextLine line, ReadOnlySpan<byte> parameters)
        {
            int position = 0;
            bool any = false;
            while (KernelParameters.NextToken(parameters, ref position, out ReadOnlySpan<byte> word))
            {
                if (KernelParameters.IsRead(word))
                    continue;
                line.Append(any ? " " : " (ignored: ");
                any = true;
                AppendAscii(ref line, word);
            }
            if (any)
                line.Append(')');
        }

        /// <summary>
        /// A parameter the kernel reads with a value it does not know ends the boot before anything uses it: a misspelled
        /// TEST= would otherwise pass as a boot without the test, a malformed SPECIAL-POOL= as a run without special pool.
        /// </summary>
        private static void CheckParameters(ReadOnlySpan<byte> parameters)
        {
            BootParameterError problem = KernelParameters.FindProblem(parameters, RequestedTests.Names, out int offset, out int length);
            if (problem == BootParameterError.None)
                return;
            TextLine line = default;
            line.Append(BootProtocol.KernelErrorPrefix);
            line.Append("boot parameter ");
            AppendAscii(ref line, parameters.Slice(offset, length));
            if (problem == BootParameterError.UnknownTest)
            {
                PrintKnownTests();
                line.Append(" names no test this kernel has (its tests are listed above)");
            }
            else if (problem == BootParameterError.NotAPoolTag)
                line.Append(" is not a pool tag (1 to 4 characters, or * for every tag)");
            else
                line.Append(" is not a processor count (a decimal number from 1 to 256)");
            KernelConsole.WriteLine(line.AsSpan());
            BugCheck.Raise(BugCheckCode.BadBootParameter, (ulong)problem, (ulong)offset, (ulong)length, 0);
        }

        /// <summary>"XTOSKRNL: tests this kernel has: ..." on as many lines as the names take.</summary>
        private static void PrintKnownTests()
        {
            const string Prefix = "XTOSKRNL: tests this kernel has:";
            TextLine line = default;
            line.Append(Prefix);
            ReadOnlySpan<char> names = RequestedTests.Names;
            for (int start = 0; start < names.Length;)
            {
                int end = start;
                while (end < names.Length && names[end] is not ('\n' or '\r' or ' '))
                    end++;
                if (end > start)
                {
                    if (line.Length + 1 + (end - start) > TextLine.Capacity - 1)
                    {
                        KernelConsole.WriteLine(line.AsSpan());
                        line.Clear();
                        line.Append(Prefix);
                    }
                    line.Append(' ');
                    line.Append(names.Slice(start, end - start));
                }
                start = end + 1;
            }
            KernelConsole.WriteLine(line.AsSpan());
        }

        private static void AppendAscii(ref TextLine line, ReadOnlySpan<byte> text)
        {
            for (int i = 0; i < text.Length; i++)
                line.Append((char)text[i]);
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
            LayoutReport.Run<TMode, TLayout>(block);
            PagingCheck.Run<TMode, TLayout>(block);
            // Armed before the memory manager starts: a fault while it builds the PFN database shows the tables.
            Faults<TMode>.Install();
            MemoryManager<TMode>.Initialize<TLayout>(block);
            Stacks<TMode>.Start(block);
            Processors.Discover<TMode>(block);
            RequestedTests<TMode, TLayout>.Run(block);
            MemorySelfTest<TMode>.Run();
            Pools.PrintTags();
            // Each processor chosen gets its own pool lists before any of them starts.
            Pools<TMode>.AttachProcessorCaches((uint)Processors.Count);
            Processors.StartOthers<TMode>(block);
            RequestedTests<TMode, TLayout>.RunWithProcessors(block);
            Stacks<TMode>.PrintUsage();
            ConcurrentSelfTest<TMode>.Run();
            BootData.Print<TMode, TLayout>(block);
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
