using System;
using ExectOS.Boot;
using ExectOS.Hardware;
using ExectOS.Memory;
using ExectOS.Paging.X86;
using ExectOS.Text;

namespace ExectOS.Kernel
{
    /// <summary>
    /// Physical memory through the hyperspace page: its last-level entry (reached through the self-map)
    /// is pointed at the frame wanted, one frame at a time. That entry's own slot reads as the planned
    /// value while it is borrowed, so a walk of the tables sees them as the loader left them.
    /// </summary>
    internal unsafe struct HyperspaceMemory<TMode> : IPhysicalMemory where TMode : struct, IPagingMode
    {
        private readonly ulong _window;
        private readonly ulong* _entry;
        private readonly PhysicalAddress _ownSlot;
        private readonly ulong _planned;
        private ulong _current;

        public HyperspaceMemory(VirtualAddress window)
        {
            _window = window.Value;
            _entry = (ulong*)SelfMap<TMode>.LeafEntry(window).Value;
            // The table holding that entry, through the self-map once more: the entry of the entry's address.
            int leaf = TMode.LevelCount - 1;
            ulong parent = *(ulong*)SelfMap<TMode>.LeafEntry(new VirtualAddress((ulong)_entry)).Value;
            _ownSlot = TMode.TableAddress(leaf - 1, parent) + ((ulong)_entry & ((1UL << TMode.PageShift) - 1));
            _planned = *_entry;
            _current = TMode.PageAddress(leaf, _planned).Value;
        }

        /// <summary>Puts the planned frame back.</summary>
        public void Release()
        {
            *_entry = _planned;
            Cpu.InvalidatePage((void*)_window);
            _current = TMode.PageAddress(TMode.LevelCount - 1, _planned).Value;
        }

        private byte* At(PhysicalAddress address)
        {
            ulong mask = (1UL << TMode.PageShift) - 1;
            ulong frame = address.Value & ~mask;
            if (frame != _current)
            {
                *_entry = TMode.MakePage(TMode.LevelCount - 1, new PhysicalAddress(frame), PageProtection.Writable);
                Cpu.InvalidatePage((void*)_window);
                _current = frame;
            }
            return (byte*)_window + (address.Value & mask);
        }

        public ulong Read64(PhysicalAddress address) => address == _ownSlot ? _planned : *(ulong*)At(address);
        public uint Read32(PhysicalAddress address) => address == _ownSlot ? (uint)_planned : *(uint*)At(address);
        public void Write64(PhysicalAddress address, ulong value) => *(ulong*)At(address) = value;
        public void Write32(PhysicalAddress address, uint value) => *(uint*)At(address) = value;

        public void Zero(PhysicalAddress address, ulong bytes)
        {
            for (ulong done = 0; done < bytes; done += 8)
                Write64(address + done, 0);
        }
    }

    /// <summary>Which paging mode the processor runs now.</summary>
    internal static class ActivePaging
    {
        private const int Cr4La57 = 1 << 12;

        internal static bool FiveLevel => (Cpu.ReadCr4() & Cr4La57) != 0;
    }

    /// <summary>
    /// The kernel's side of the hand-off: the committed plan checked against the memory map, and the live
    /// tables walked with the generated walker and matched against the plan, page by page.
    /// </summary>
    internal static unsafe class PagingCheck
    {
        internal static void Run(LoaderBlock* block)
        {
            if (ActivePaging.FiveLevel)
                Check<Amd64La57, Amd64La57Kernel>(block, Amd64La57Kernel.LoaderMappings, Amd64La57Kernel.PageTables, Amd64La57Kernel.Hyperspace);
            else
                Check<Amd64, Amd64Kernel>(block, Amd64Kernel.LoaderMappings, Amd64Kernel.PageTables, Amd64Kernel.Hyperspace);
        }

        private static void Check<TMode, TLayout>(LoaderBlock* block, int loaderMappings, int pageTables, int hyperspace)
            where TMode : struct, IPagingMode
            where TLayout : struct, ILayout
        {
            ulong root = Cpu.ReadCr3() & ~((1UL << TMode.PageShift) - 1);
            if (root != block->PageTableRoot || block->PagingLevels != (uint)TMode.LevelCount)
                BugCheck.Raise(BugCheckCode.MemoryManagement, 0x100, root, block->PageTableRoot, block->PagingLevels);

            var plan = new ReadOnlySpan<Mapping>((void*)block->Mappings, (int)block->MappingCount);
            var memoryMap = new ReadOnlySpan<LoaderMemoryDescriptor>((void*)block->MemoryDescriptors, (int)block->MemoryDescriptorCount);
            MappingProblem problem = MappingPlan.Check<TMode>(plan, memoryMap);
            if (!problem.IsOk)
                Fail(0x101, problem);

            // The plan must be the one this kernel's layout makes: same windows, kernel where it was linked.
            if (!PlanWindows.Compute<TLayout>(MemoryMap.RamPages(memoryMap), loaderMappings, pageTables, hyperspace, out PlanWindows windows))
                BugCheck.Raise(BugCheckCode.MemoryManagement, 0x102, MemoryMap.RamPages(memoryMap), 0, 0);
            ulong code = (ulong)(delegate*<LoaderBlock*, void>)&Run;
            int handOff = -1, hyperspaceIndex = -1;
            for (int i = 0; i < plan.Length; i++)
            {
                Mapping mapping = plan[i];
                bool inWindow = mapping.VirtualBase >= windows.Window.Start.Value && mapping.VirtualBase - windows.Window.Start.Value < windows.Window.Size;
                if ((mapping.Kind is MappingKind.KernelImage or MappingKind.KernelStack or MappingKind.BootData or MappingKind.FirmwareRuntime) != inWindow
                    || (mapping.Kind == MappingKind.Hyperspace && mapping.VirtualBase != windows.Hyperspace.Start.Value)
                    || (mapping.Kind == MappingKind.SelfMap && mapping.VirtualBase != windows.SelfMap.Start.Value))
                    BugCheck.Raise(BugCheckCode.MemoryManagement, 0x103, (ulong)mapping.Kind, mapping.VirtualBase, (ulong)i);
                if (mapping.Kind == MappingKind.HandOff)
                    handOff = i;
                if (mapping.Kind == MappingKind.Hyperspace)
                    hyperspaceIndex = i;
            }
            if (handOff < 0 || hyperspaceIndex < 0 || code - block->KernelVirtualBase >= block->KernelImageSize)
                BugCheck.Raise(BugCheckCode.MemoryManagement, 0x104, (ulong)handOff, (ulong)hyperspaceIndex, code);

            var memory = new HyperspaceMemory<TMode>(new VirtualAddress(plan[hyperspaceIndex].VirtualBase));
            problem = PlanTables.Verify(ref memory, new PageTable<TMode>(new PhysicalAddress(root)), plan, out PlanCensus census);
            memory.Release();
            if (!problem.IsOk)
                Fail(0x105, problem);

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

        private static void Fail(ulong where, in MappingProblem problem)
        {
            TextLine line = default;
            line.Append("XTOSKRNL: the loader's mappings ");
            problem.AppendTo(ref line);
            KernelConsole.WriteLine(line.AsSpan());
            BugCheck.Raise(BugCheckCode.MemoryManagement, where, (ulong)problem.Error, (ulong)problem.First, problem.Detail);
        }
    }
}
