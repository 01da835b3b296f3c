using System;
using ExectOS.Boot;
using ExectOS.Hardware;
using ExectOS.Loader.Efi;
using ExectOS.Memory;
using ExectOS.Paging.X86;
using ExectOS.Text;

namespace ExectOS.Loader
{
    /// <summary>
    /// The last steps: allocate what the kernel starts with, plan its mappings, build its page tables
    /// with the generated walker, leave boot services and jump through the identity-mapped hand-off page.
    /// </summary>
    internal static unsafe class HandOff
    {
        private const ulong PageSize = 4096;
        private const ulong KernelStackSize = 64 * 1024;
        /// <summary>The mapping list follows the loader block in its page.</summary>
        private const int MappingListOffset = 1024;
        private static int MappingCapacity => (int)(PageSize - MappingListOffset) / sizeof(Mapping);
        private const ulong Below4GiB = 0xFFFFFFFF;
        private const ulong FirstTablePool = 64;

        /// <summary>Boot parameter that keeps 4-level paging where 5-level is offered (as ExectOS's NOXPA).</summary>
        internal const string NoFiveLevelParameter = "XTLDR-NO-LA57";

        /// <summary>Once set, no firmware service may be called (the allocator and fail-fast check it).</summary>
        internal static bool BootServicesExited;

        internal static nuint Start(void* imageHandle, EfiSystemTable* systemTable, in LoadedKernel kernel)
        {
            EfiBootServices* bs = systemTable->BootServices;
            var allocations = new LoaderAllocations
            {
                KernelImage = kernel.PhysicalBase,
                KernelImagePages = (kernel.ImageSize + PageSize - 1) / PageSize,
                KernelStackPages = KernelStackSize / PageSize,
            };
            ulong stack, hyperspace, handOff = Below4GiB;
            // The hand-off page runs 32-bit code on the way to 5-level paging: below 4 GiB, and loader code.
            if (EfiStatus.IsError(bs->AllocatePages(EfiAllocateType.AnyPages, EfiMemoryType.LoaderData, (nuint)allocations.KernelStackPages, &stack))
                || EfiStatus.IsError(bs->AllocatePages(EfiAllocateType.AnyPages, EfiMemoryType.LoaderData, 1, &hyperspace))
                || EfiStatus.IsError(bs->AllocatePages(EfiAllocateType.MaxAddress, EfiMemoryType.LoaderCode, 1, &handOff)))
            {
                LoaderConsole.Error("no memory for the kernel stack, the hyperspace page and the hand-off page");
                return EfiStatus.OutOfResources;
            }
            allocations.KernelStack = stack;
            allocations.Hyperspace = hyperspace;
            allocations.HandOff = handOff;
            new Span<byte>((void*)hyperspace, (int)PageSize).Clear();

            nuint status = FirmwareExit.AllocateBootData(bs, ref allocations, out int capacity);
            if (EfiStatus.IsError(status))
            {
                LoaderConsole.Error("no memory for the loader block and the kernel's memory descriptors");
                return status;
            }
            LoaderBlock* block = (LoaderBlock*)allocations.BootData;
            new Span<byte>(block, (int)PageSize).Clear();
            LoaderBlock.InitializeHeader(block, BuildInfo.BootArchitecture);
            block->KernelPhysicalBase = kernel.PhysicalBase;
            block->KernelVirtualBase = kernel.VirtualBase;
            block->KernelImageSize = kernel.ImageSize;
            block->KernelStackSize = KernelStackSize;
            block->FirmwareSystemTable = (ulong)systemTable;
            block->FirmwareRevision = systemTable->FirmwareRevision;
            status = BootParameters.Read(imageHandle, bs, block);
            if (EfiStatus.IsError(status))
                return status;

            bool fiveLevel = FiveLevelOffered() && !KernelParameters.Contains(new ReadOnlySpan<byte>(block->Parameters, KernelParameters.Capacity), NoFiveLevelParameter);
            return fiveLevel
                ? Finish<Amd64La57, Amd64La57Kernel>(imageHandle, bs, block, in kernel, ref allocations, capacity, Amd64La57Kernel.LoaderMappings, Amd64La57Kernel.PageTables, Amd64La57Kernel.Hyperspace)
                : Finish<Amd64, Amd64Kernel>(imageHandle, bs, block, in kernel, ref allocations, capacity, Amd64Kernel.LoaderMappings, Amd64Kernel.PageTables, Amd64Kernel.Hyperspace);
        }

        /// <summary>Whether the processor offers everything the 5-level mode needs (its descriptor's CPUID requirements).</summary>
        private static bool FiveLevelOffered()
        {
            if (Cpu.CpuId(0).Eax < 7)
                return false;
            for (int i = 0; i < Amd64La57.RequirementCount; i++)
            {
                CpuIdRequirement need = Amd64La57.Requirement(i);
                CpuIdResult result = Cpu.CpuId(need.Leaf, need.Subleaf);
                uint value = need.Register switch { CpuIdRegister.Eax => result.Eax, CpuIdRegister.Ebx => result.Ebx, CpuIdRegister.Ecx => result.Ecx, _ => result.Edx };
                if ((value & (1u << need.Bit)) == 0)
                    return false;
            }
            return true;
        }

        private static nuint Finish<TMode, TLayout>(void* imageHandle, EfiBootServices* bs, LoaderBlock* block, in LoadedKernel kernel, ref LoaderAllocations allocations, int capacity,
            int loaderMappings, int pageTables, int hyperspaceRegion)
            where TMode : struct, IPagingMode
            where TLayout : struct, ILayout
        {
            var descriptors = new Span<LoaderMemoryDescriptor>((void*)allocations.Descriptors, capacity);
            LoadedKernel image = kernel;
            var plan = new Span<Mapping>((byte*)block + MappingListOffset, MappingCapacity);
            int count = 0;
            ulong poolPages = FirstTablePool, pool = 0;
            // The plan needs the root's address, and the pool's size comes from the plan: plan, and grow the pool once if it was short.
            for (int attempt = 0; attempt < 2; attempt++)
            {
                pool = Below4GiB; // a 5-level root is loaded from 32-bit code
                nuint status = bs->AllocatePages(EfiAllocateType.MaxAddress, EfiMemoryType.LoaderData, (nuint)poolPages, &pool);
                if (EfiStatus.IsError(status))
                {
                    LoaderConsole.Error("no memory below 4 GiB for the kernel's page tables");
                    return status;
                }
                status = FirmwareExit.ReadMap(bs, descriptors, out int mapCount);
                if (EfiStatus.IsError(status))
                    return status;
                ReadOnlySpan<LoaderMemoryDescriptor> map = descriptors.Slice(0, mapCount);
                if (!PlanWindows.Compute<TLayout>(MemoryMap.RamPages(map), loaderMappings, pageTables, hyperspaceRegion, out PlanWindows windows))
                {
                    LoaderConsole.Error("the memory map is outside the range the kernel's layout supports");
                    return EfiStatus.LoadError;
                }
                var request = new MappingRequest
                {
                    Memory = map,
                    Window = windows.Window,
                    SelfMapRegion = windows.SelfMap,
                    HyperspaceRegion = windows.Hyperspace,
                    TableRoot = new PhysicalAddress(pool),
                    KernelPhysical = new PhysicalAddress(kernel.PhysicalBase),
                    KernelVirtual = new VirtualAddress(kernel.VirtualBase),
                    KernelImageSize = kernel.ImageSize,
                    KernelRanges = System.Runtime.InteropServices.MemoryMarshal.CreateReadOnlySpan(ref image.Ranges.First, image.RangeCount),
                    Stack = new PhysicalAddress(allocations.KernelStack),
                    StackPages = allocations.KernelStackPages,
                    BootData = new PhysicalAddress(allocations.BootData),
                    BootDataPages = allocations.BootDataPages,
                    HyperspacePage = new PhysicalAddress(allocations.Hyperspace),
                    HandOff = new PhysicalAddress(allocations.HandOff),
                };
                MappingProblem problem = MappingPlan.Build<TMode>(in request, plan, out count);
                if (!problem.IsOk)
                {
                    TextLine line = default;
                    line.Append("cannot plan the kernel's mappings: the request ");
                    problem.AppendTo(ref line);
                    LoaderConsole.Error(line.AsSpan());
                    return EfiStatus.LoadError;
                }
                ulong bound = MappingPlan.TableBound<TMode>(plan.Slice(0, count));
                if (bound <= poolPages)
                    break;
                bs->FreePages(pool, (nuint)poolPages);
                poolPages = bound;
                pool = 0;
            }
            if (pool == 0)
            {
                LoaderConsole.Error("the page-table pool did not cover the plan after growing");
                return EfiStatus.LoadError;
            }

            nuint built = BuildTables<TMode>(bs, plan.Slice(0, count), pool, poolPages, ref allocations);
            if (EfiStatus.IsError(built))
                return built;
            PrintPlan<TMode>(plan.Slice(0, count), in allocations);

            ulong stackTop = 0, bootData = 0;
            for (int i = 0; i < count; i++)
            {
                if (plan[i].Kind == MappingKind.KernelStack)
                    stackTop = plan[i].VirtualBase + plan[i].PageCount * PageSize;
                else if (plan[i].Kind == MappingKind.BootData)
                    bootData = plan[i].VirtualBase;
            }
            block->KernelStackBase = stackTop - KernelStackSize;
            block->PageTableRoot = pool;
            block->Mappings = bootData + MappingListOffset;
            block->MappingCount = (uint)count;
            block->PagingLevels = (uint)TMode.LevelCount;
            block->MemoryDescriptors = bootData + PageSize;

            byte* parameters = PrepareHandOffPage(allocations.HandOff, pool, kernel.Entry, stackTop, bootData, TMode.LevelCount == 5);
            if (parameters == null)
                return EfiStatus.LoadError;

            LoaderConsole.WriteLine("XTLDR: leaving boot services and starting the kernel");
            nuint exited = FirmwareExit.Exit<TMode>(imageHandle, bs, block, in allocations, capacity, plan.Slice(0, count));
            if (EfiStatus.IsError(exited))
                return exited; // FirmwareExit said why
            BootServicesExited = true;

            ((delegate* unmanaged<void*, void>)allocations.HandOff)(parameters);
            return EfiStatus.LoadError; // not reached: the hand-off never returns
        }

        /// <summary>Commits the plan into tables from the pool, checks them against the plan, and gives back the pages not used.</summary>
        private static nuint BuildTables<TMode>(EfiBootServices* bs, ReadOnlySpan<Mapping> plan, ulong pool, ulong poolPages, ref LoaderAllocations allocations)
            where TMode : struct, IPagingMode
        {
            var memory = new IdentityMappedMemory();
            var root = new PhysicalAddress(pool);
            memory.Zero(root, PageSize);
            var table = new PageTable<TMode>(root);
            PageTable<TMode>.InstallSelfMap(ref memory, root);
            var allocator = new RunAllocator(root + PageSize, poolPages - 1, TMode.PageShift);
            MapStatus status = PlanTables.Commit(ref memory, ref allocator, table, plan, out int failed);
            if (status != MapStatus.Done || allocator.Returned != 0)
            {
                TextLine line = default;
                line.Append("could not build the kernel's page tables: status ");
                line.AppendDecimal((ulong)status);
                line.Append(" at the ");
                line.Append(Mapping.Describe(failed >= 0 ? plan[failed].Kind : MappingKind.None));
                LoaderConsole.Error(line.AsSpan());
                return EfiStatus.LoadError;
            }
            MappingProblem problem = PlanTables.Verify(ref memory, table, plan, out _);
            if (!problem.IsOk)
            {
                TextLine line = default;
                line.Append("the kernel's page tables do not hold the plan: the plan ");
                problem.AppendTo(ref line);
                LoaderConsole.Error(line.AsSpan());
                return EfiStatus.LoadError;
            }
            ulong used = (allocator.Next - pool) / PageSize;
            if (used < poolPages)
                bs->FreePages(pool + used * PageSize, (nuint)(poolPages - used));
            allocations.Tables = pool;
            allocations.TablePages = used;
            return EfiStatus.Success;
        }

        /// <summary>Copies the hand-off stub into its page and fills the parameter block and GDT; null if the copy is not the stub.</summary>
        private static byte* PrepareHandOffPage(ulong page, ulong root, ulong entry, ulong stackTop, ulong block, bool fiveLevel)
        {
            byte* target = (byte*)page;
            byte* stub = (byte*)(delegate*<void*, void>)&Cpu.HandOff;
            new Span<byte>(target, (int)PageSize).Fill(0xCC);
            for (int i = 0; i < HandOffLayout.CodeBytes; i++)
                target[i] = stub[i];
            if (target[0] != 0xFA) // cli: the address taken was a thunk, not the stub
            {
                LoaderConsole.Error("internal failure: the hand-off stub could not be located for copying");
                return null;
            }
            byte* p = target + HandOffLayout.Parameters;
            *(ulong*)(p + HandOffLayout.PageTableRoot) = root;
            *(ulong*)(p + HandOffLayout.Entry) = entry;
            *(ulong*)(p + HandOffLayout.StackTop) = stackTop;
            *(ulong*)(p + HandOffLayout.Argument) = block;
            *(ulong*)(p + HandOffLayout.Flags) = fiveLevel ? HandOffLayout.FiveLevel : 0;
            ulong* gdt = (ulong*)(p + HandOffLayout.Gdt);
            gdt[0] = 0;
            gdt[HandOffLayout.Code64Selector / 8] = HandOffLayout.Code64Descriptor;
            gdt[HandOffLayout.Code32Selector / 8] = HandOffLayout.Code32Descriptor;
            gdt[HandOffLayout.DataSelector / 8] = HandOffLayout.DataDescriptor;
            *(ushort*)(p + HandOffLayout.GdtLimit) = HandOffLayout.GdtEntries * 8 - 1;
            *(ulong*)(p + HandOffLayout.GdtBase) = (ulong)gdt;
            return p;
        }

        private static void PrintPlan<TMode>(ReadOnlySpan<Mapping> plan, in LoaderAllocations allocations) where TMode : struct, IPagingMode
        {
            TextLine line = default;
            line.Append("XTLDR: paging ");
            line.Append(TMode.Name);
            line.Append(" (");
            line.AppendDecimal((ulong)TMode.LevelCount);
            line.Append(" levels): ");
            line.AppendDecimal((ulong)plan.Length);
            line.Append(" mappings, ");
            line.AppendDecimal(allocations.TablePages);
            line.Append(" table pages at ");
            line.AppendHexPrefixed(allocations.Tables, 8);
            line.Append(", hand-off page ");
            line.AppendHexPrefixed(allocations.HandOff, 8);
            LoaderConsole.WriteLine(line.AsSpan());
        }
    }
}
