using System;
using ExectOS.Boot;
using ExectOS.Diagnostics;
using ExectOS.Hardware;
using ExectOS.Memory;
using ExectOS.Text;

namespace ExectOS.Kernel
{
    /// <summary>
    /// The kernel's side of the hand-off: the committed plan checked against the memory map, and the live
    /// tables walked with the generated walker and matched against the plan, page by page.
    /// </summary>
    internal static unsafe class PagingCheck
    {
        internal static void Run<TMode, TLayout>(LoaderBlock* block)
            where TMode : struct, IPagingMode
            where TLayout : struct, ILayout
        {
            ulong root = Processor.PageTableRoot(TMode.PageShift).Value;
            if (root != block->PageTableRoot || block->PagingLevels != (uint)TMode.LevelCount)
                BugCheck.Raise(MemoryManagementCheck.TableRootMismatch, root, block->PageTableRoot, block->PagingLevels);
            // A split mode's high half (the kernel's) has a root of its own, which the loader block names too.
            ulong highRoot = Processor.HighPageTableRoot(TMode.PageShift).Value;
            if (TMode.RootCount > 1 && (highRoot == 0 || highRoot != block->HighPageTableRoot))
                BugCheck.Raise(MemoryManagementCheck.TableRootMismatch, highRoot, block->HighPageTableRoot, block->PagingLevels);

            var plan = new ReadOnlySpan<Mapping>((void*)block->Mappings, (int)block->MappingCount);
            var memoryMap = new ReadOnlySpan<LoaderMemoryDescriptor>((void*)block->MemoryDescriptors, (int)block->MemoryDescriptorCount);
            MappingProblem problem = MappingPlan.Check<TMode>(plan, memoryMap);
            if (!problem.IsOk)
                Fail(MemoryManagementCheck.PlanInvalid, problem);

            // The plan must be the one this kernel's layout makes: same windows, kernel where it was linked.
            if (!PlanWindows.Compute<TMode, TLayout>(MemoryMap.RamFrames(memoryMap, TMode.PageShift), out PlanWindows windows))
                BugCheck.Raise(MemoryManagementCheck.PlanWindowsUnavailable, MemoryMap.RamFrames(memoryMap, TMode.PageShift), 0, 0);
            ulong code = (ulong)(delegate*<LoaderBlock*, void>)&Run<TMode, TLayout>;
            int handOff = -1, hyperspaceIndex = -1;
            for (int i = 0; i < plan.Length; i++)
            {
                Mapping mapping = plan[i];
                bool inWindow = mapping.VirtualBase >= windows.Window.Start.Value && mapping.VirtualBase - windows.Window.Start.Value < windows.Window.Size;
                if ((mapping.Kind is MappingKind.KernelImage or MappingKind.KernelStack or MappingKind.BootData or MappingKind.FirmwareRuntime or MappingKind.ConsoleDevice) != inWindow
                    || (mapping.Kind == MappingKind.Hyperspace && mapping.VirtualBase != windows.Hyperspace.Start.Value)
                    || (mapping.Kind == MappingKind.SelfMap && mapping.VirtualBase != windows.SelfMap.Start.Value))
                    BugCheck.Raise(MemoryManagementCheck.MappingOutsideWindow, (ulong)mapping.Kind, mapping.VirtualBase, (ulong)i);
                if (mapping.Kind == MappingKind.HandOff)
                    handOff = i;
                if (mapping.Kind == MappingKind.Hyperspace)
                    hyperspaceIndex = i;
            }
            if (handOff < 0 || hyperspaceIndex < 0 || code - block->KernelVirtualBase >= block->KernelImageSize)
                BugCheck.Raise(MemoryManagementCheck.PlanIncomplete, (ulong)handOff, (ulong)hyperspaceIndex, code);

            var memory = new HyperspaceMemory<TMode>(new VirtualAddress(plan[hyperspaceIndex].VirtualBase));
            problem = PlanTables.Verify(ref memory, new PageTable<TMode>(new PhysicalAddress(root), new PhysicalAddress(highRoot)), plan, out PlanCensus census);
            memory.Release();
            if (!problem.IsOk)
                Fail(MemoryManagementCheck.TablesDifferFromPlan, problem);

            TextLine line = default;
            line.Append("XTOSKRNL: paging ");
            line.Append(TMode.Name);
            line.Append(", ");
            line.AppendDecimal((ulong)TMode.LevelCount);
            line.Append(" levels: ");
            line.AppendDecimal((ulong)census.Mappings);
            line.Append(" mappings, ");
            line.AppendDecimal(census.Pages);
            line.Append(" pages as planned (");
            AppendPages(ref line, plan, MappingKind.KernelImage, "image ");
            AppendPages(ref line, plan, MappingKind.KernelStack, ", stack ");
            AppendPages(ref line, plan, MappingKind.BootData, ", boot ");
            AppendPages(ref line, plan, MappingKind.FirmwareRuntime, ", firmware ");
            line.Append("), W^X, identity only ");
            line.AppendHexPrefixed(plan[handOff].PhysicalBase, 8);
            KernelConsole.WriteLine(line.AsSpan());
        }

        private static void AppendPages(ref TextLine line, ReadOnlySpan<Mapping> plan, MappingKind kind, string label)
        {
            ulong pages = 0;
            for (int i = 0; i < plan.Length; i++)
            {
                if (plan[i].Kind == kind)
                    pages += plan[i].PageCount;
            }
            line.Append(label);
            line.AppendDecimal(pages);
        }

        private static void Fail(MemoryManagementCheck check, in MappingProblem problem)
        {
            TextLine line = default;
            line.Append("XTOSKRNL: the loader's mappings ");
            problem.AppendTo(ref line);
            KernelConsole.WriteLine(line.AsSpan());
            BugCheck.Raise(check, (ulong)problem.Error, (ulong)problem.First, problem.Detail);
        }
    }
}
