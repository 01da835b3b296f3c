using System;
using ExectOS.Boot;
using ExectOS.Hardware;
using ExectOS.Loader.Efi;
using ExectOS.Memory;
using ExectOS.Paging;
using ExectOS.Text;

namespace ExectOS.Loader
{
    /// <summary>
    /// The last steps: allocate what the kernel starts with, choose the paging mode (the image's modes in order
    /// of preference, the first whose features the processor has), plan the kernel's mappings, build its page
    /// tables with the generated walker, leave boot services and jump through the identity-mapped hand-off page.
    /// </summary>
    internal static unsafe class HandOff
    {
        /// <summary>The firmware's allocation unit (UEFI pages are 4 KiB on every architecture).</summary>
        private const ulong PageSize = FirmwarePage.Size;
        private const ulong KernelStackSize = 64 * 1024;
        /// <summary>The mapping list follows the loader block in its page.</summary>
        private const int MappingListOffset = 1024;
        private static int MappingCapacity => (int)(PageSize - MappingListOffset) / sizeof(Mapping);
        private const ulong FirstTablePool = 64;

        /// <summary>Boot parameter prefix that turns a feature off, so the modes needing it are skipped: XTLDR-NO-LA57, XTLDR-NO-PAE.</summary>
        internal const string NoFeaturePrefix = "XTLDR-NO-";

        /// <summary>Once set, no firmware service may be called (the allocator and fail-fast check it).</summary>
        internal static bool BootServicesExited;

        internal static nuint Start(void* imageHandle, EfiSystemTable* systemTable, in LoadedKernel kernel)
        {
            EfiBootServices* bs = systemTable->BootServices;
            var allocations = new LoaderAllocations
            {
                KernelImage = kernel.PhysicalBase,
                KernelImagePages = LoaderPages.Round(kernel.ImageSize) / PageSize,
                KernelStackPages = KernelStackSize / PageSize,
            };
            ulong stack, hyperspace, handOff = HandOffPage.Limit;
            // The hand-off page runs with paging being switched: identity-mapped, where the architecture needs it, and loader code.
            // Each a whole page of every mode the image has (LoaderPages): the hyperspace and hand-off pages are one.
            stack = hyperspace = 0;
            if (EfiStatus.IsError(LoaderPages.Allocate(bs, EfiAllocateType.AnyPages, EfiMemoryType.LoaderData, KernelStackSize, ref stack))
                || EfiStatus.IsError(LoaderPages.Allocate(bs, EfiAllocateType.AnyPages, EfiMemoryType.LoaderData, LoaderPages.Unit, ref hyperspace))
                || EfiStatus.IsError(LoaderPages.Allocate(bs, EfiAllocateType.MaxAddress, EfiMemoryType.LoaderCode, LoaderPages.Unit, ref handOff)))
            {
                LoaderConsole.Error("no memory for the kernel stack, the hyperspace page and the hand-off page");
                return EfiStatus.OutOfResources;
            }
            allocations.KernelStack = stack;
            // Where the kernel starts the other processors (the architecture's rule); without one it starts on one.
            allocations.ProcessorStart = ProcessorStartPage.Allocate(bs);
            allocations.Hyperspace = hyperspace;
            allocations.HandOff = handOff;
            new Span<byte>((void*)hyperspace, (int)LoaderPages.Unit).Clear();

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
            block->KernelImageSize = kernel.ImageSize;
            block->KernelStackSize = KernelStackSize;
            block->FirmwareSystemTable = (ulong)systemTable;
            block->FirmwareRevision = systemTable->FirmwareRevision;
            block->AcpiRootPointer = FindAcpiRoot(systemTable);
            block->ProcessorStartPage = allocations.ProcessorStart;
            status = BootParameters.Read(imageHandle, bs, block);
            if (EfiStatus.IsError(status))
                return status;

            uint mode = ChooseMode(block->Parameters);
            if (mode == 0)
            {
                LoaderConsole.Error("no paging mode of this image can run here: the processor lacks a feature each one needs, or the boot parameters turned it off");
                return EfiStatus.Unsupported;
            }
            var finish = new FinishInMode
            {
                ImageHandle = imageHandle,
                BootServices = bs,
                Block = block,
                Kernel = kernel,
                Allocations = allocations,
                Capacity = capacity,
            };
            if (!ImageModes.Dispatch(mode, ref finish))
            {
                LoaderConsole.Error("internal failure: the chosen paging mode is not one of this image's");
                return EfiStatus.LoadError;
            }
            return finish.Status;
        }

        /// <summary>The first of the image's modes (in the descriptor's order of preference) that can run; 0 if none.</summary>
        /// <summary>The ACPI root pointer from the configuration table: the 2.0 one when the firmware gives it, else 1.0; 0 when none.</summary>
        private static ulong FindAcpiRoot(EfiSystemTable* systemTable)
        {
            EfiGuid acpi20 = EfiGuid.Acpi20Table, acpi10 = EfiGuid.Acpi10Table;
            ulong found = 0;
            for (nuint i = 0; i < systemTable->NumberOfTableEntries; i++)
            {
                EfiConfigurationTable* entry = systemTable->ConfigurationTable + i;
                if (entry->VendorGuid.Equals(in acpi20))
                    return (ulong)entry->VendorTable;
                if (entry->VendorGuid.Equals(in acpi10))
                    found = (ulong)entry->VendorTable;
            }
            return found;
        }

        private static uint ChooseMode(byte* parameters)
        {
            for (int i = 0; i < ImageModes.ModeCount; i++)
            {
                var check = new ModeCheck { Parameters = parameters };
                ImageModes.Dispatch(ImageModes.ModeId(i), ref check);
                if (check.Usable)
                    return ImageModes.ModeId(i);
                TextLine line = default;
                line.Append("XTLDR: paging ");
                line.Append(check.Name);
                line.Append(" skipped: ");
                line.Append(check.Missing);
                line.Append(check.TurnedOff ? " turned off by " : " not offered by the processor");
                if (check.TurnedOff)
                {
                    line.Append(NoFeaturePrefix);
                    AppendUpper(ref line, check.Missing);
                }
                LoaderConsole.WriteLine(line.AsSpan());
            }
            return 0;
        }

        /// <summary>Whether a mode's features are all present and none is turned off by XTLDR-NO-&lt;FEATURE&gt;.</summary>
        private struct ModeCheck : IModeVisitor
        {
            public byte* Parameters;
            public bool Usable, TurnedOff;
            public string Name, Missing;

            public void Visit<TMode, TLayout>()
                where TMode : struct, IPagingMode
                where TLayout : struct, ILayout
            {
                Name = TMode.Name;
                for (int i = 0; i < TMode.RequirementCount; i++)
                {
                    FeatureRequirement feature = TMode.Requirement(i);
                    Missing = feature.Name;
                    if (TurnedOffBy(new ReadOnlySpan<byte>(Parameters, KernelParameters.Capacity), feature.Name))
                    {
                        TurnedOff = true;
                        return;
                    }
                    if (!Processor.HasFeature(in feature))
                        return;
                }
                Usable = true;
            }
        }

        /// <summary>Whether the parameters hold XTLDR-NO-&lt;NAME&gt; (the feature's name in capitals) as a whole word.</summary>
        private static bool TurnedOffBy(ReadOnlySpan<byte> parameters, string feature)
        {
            TextLine word = default;
            word.Append(NoFeaturePrefix);
            AppendUpper(ref word, feature);
            return KernelParameters.Contains(parameters, word.AsSpan());
        }

        private static void AppendUpper(ref TextLine line, string text)
        {
            for (int i = 0; i < text.Length; i++)
                line.Append(text[i] >= 'a' && text[i] <= 'z' ? (char)(text[i] - 'a' + 'A') : text[i]);
        }

        /// <summary>The rest of the hand-off in the chosen mode: its arguments, and the status if it came back.</summary>
        private struct FinishInMode : IModeVisitor
        {
            public void* ImageHandle;
            public EfiBootServices* BootServices;
            public LoaderBlock* Block;
            public LoadedKernel Kernel;
            public LoaderAllocations Allocations;
            public int Capacity;
            public nuint Status;

            public void Visit<TMode, TLayout>()
                where TMode : struct, IPagingMode
                where TLayout : struct, ILayout
                => Status = HandOff.Finish<TMode, TLayout>(ImageHandle, BootServices, Block, ref Kernel, ref Allocations, Capacity);
        }

        private static nuint Finish<TMode, TLayout>(void* imageHandle, EfiBootServices* bs, LoaderBlock* block, ref LoadedKernel kernel, ref LoaderAllocations allocations, int capacity)
            where TMode : struct, IPagingMode
            where TLayout : struct, ILayout
        {
            var descriptors = new Span<LoaderMemoryDescriptor>((void*)allocations.Descriptors, capacity);
            var plan = new Span<Mapping>((byte*)block + MappingListOffset, MappingCapacity);
            int count = 0;
            ulong poolPages = FirstTablePool, pool = 0;
            // The plan needs the root's address, and the pool's size comes from the plan: plan, and grow the pool once if it was short.
            for (int attempt = 0; attempt < 2; attempt++)
            {
                pool = HandOffPage.TableLimit;
                // The pool counts the mode's pages.
                nuint status = LoaderPages.Allocate(bs, EfiAllocateType.MaxAddress, EfiMemoryType.LoaderData, poolPages << TMode.PageShift, ref pool);
                if (EfiStatus.IsError(status))
                {
                    LoaderConsole.Error("no memory for the kernel's page tables where the hand-off can load them");
                    return status;
                }
                status = FirmwareExit.ReadMap<TMode, TLayout>(bs, descriptors, out int mapCount, out MemoryCut cut);
                if (EfiStatus.IsError(status))
                    return status;
                if (attempt == 0 && cut.LeftOutAny)
                {
                    TextLine left = default;
                    left.Append("XTLDR: memory left out: ");
                    MemoryCut.Describe(ref left, cut.PagesLeftOut, cut.FreePagesLeftOut, cut.Reason, TMode.Name);
                    LoaderConsole.WriteLine(left.AsSpan());
                }
                ReadOnlySpan<LoaderMemoryDescriptor> map = descriptors.Slice(0, mapCount);
                if (!PlanWindows.Compute<TMode, TLayout>(MemoryMap.RamFrames(map, TMode.PageShift), out PlanWindows windows))
                {
                    LoaderConsole.Error("the memory map is outside the range the kernel's layout supports");
                    return EfiStatus.LoadError;
                }
                // The kernel runs at the start of its layout's loader-mappings window, wherever it was linked.
                if (kernel.File != null)
                {
                    status = KernelImage.Place(bs, ref kernel, windows.Window.Start.Value);
                    if (EfiStatus.IsError(status))
                        return status;
                    block->KernelVirtualBase = kernel.VirtualBase;
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
                    KernelRanges = System.Runtime.InteropServices.MemoryMarshal.CreateReadOnlySpan(ref kernel.Ranges.First, kernel.RangeCount),
                    Stack = new PhysicalAddress(allocations.KernelStack),
                    StackPages = KernelStackSize >> TMode.PageShift,
                    BootData = new PhysicalAddress(allocations.BootData),
                    BootDataPages = (allocations.BootDataPages << FirmwarePage.Shift) >> TMode.PageShift,
                    HyperspacePage = new PhysicalAddress(allocations.Hyperspace),
                    HandOff = new PhysicalAddress(allocations.HandOff),
                    ConsoleDevice = new PhysicalAddress(SerialPort.ConsoleRegisters),
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
                bs->FreePages(pool, (nuint)((poolPages << TMode.PageShift) >> FirmwarePage.Shift));
                poolPages = bound;
                pool = 0;
            }
            if (pool == 0)
            {
                LoaderConsole.Error("the page-table pool did not cover the plan after growing");
                return EfiStatus.LoadError;
            }

            nuint built = BuildTables<TMode>(bs, plan.Slice(0, count), pool, poolPages, ref allocations, out ulong highRoot);
            if (EfiStatus.IsError(built))
                return built;
            PrintPlan<TMode>(plan.Slice(0, count), in allocations);

            ulong stackTop = 0, bootData = 0, console = 0;
            for (int i = 0; i < count; i++)
            {
                if (plan[i].Kind == MappingKind.KernelStack)
                    stackTop = plan[i].VirtualBase + (plan[i].PageCount << TMode.PageShift);
                else if (plan[i].Kind == MappingKind.BootData)
                    bootData = plan[i].VirtualBase;
                else if (plan[i].Kind == MappingKind.ConsoleDevice)
                    console = plan[i].VirtualBase + (SerialPort.ConsoleRegisters - plan[i].PhysicalBase);
            }
            block->KernelStackBase = stackTop - KernelStackSize;
            block->PageTableRoot = pool;
            block->HighPageTableRoot = highRoot;
            block->Mappings = bootData + MappingListOffset;
            block->MappingCount = (uint)count;
            block->PagingLevels = (uint)TMode.LevelCount;
            block->PagingMode = TMode.Id;
            block->MemoryDescriptors = bootData + PageSize;

            byte* parameters = HandOffPage.Prepare<TMode>(allocations.HandOff, pool, highRoot, kernel.Entry, stackTop, bootData, console);
            if (parameters == null)
                return EfiStatus.LoadError;

            LoaderConsole.WriteLine("XTLDR: leaving boot services and starting the kernel");
            nuint exited = FirmwareExit.Exit<TMode, TLayout>(imageHandle, bs, block, in allocations, capacity, plan.Slice(0, count));
            if (EfiStatus.IsError(exited))
                return exited; // FirmwareExit said why
            BootServicesExited = true;

            // The copy is called as the stub is declared: a managed-convention import, so with the managed calling convention.
            ((delegate*<void*, void>)(nuint)allocations.HandOff)(parameters);
            return EfiStatus.LoadError; // not reached: the hand-off never returns
        }

        /// <summary>Commits the plan into tables from the pool, checks them against the plan, and gives back the pages not used.</summary>
        private static nuint BuildTables<TMode>(EfiBootServices* bs, ReadOnlySpan<Mapping> plan, ulong pool, ulong poolPages, ref LoaderAllocations allocations, out ulong highRoot)
            where TMode : struct, IPagingMode
        {
            highRoot = 0;
            var memory = new IdentityMappedMemory();
            var root = new PhysicalAddress(pool);
            memory.Zero(root, 1UL << TMode.PageShift);
            var table = new PageTable<TMode>(root);
            var allocator = new RunAllocator(root + (1UL << TMode.PageShift), poolPages - 1, TMode.PageShift);
            MapStatus status = MapStatus.Done;
            // A split mode walks each half from a root of its own (TableBound counts both): the high half's is the
            // pool's next page; the loader block and the hand-off carry it (AArch64: TTBR1_EL1).
            if (TMode.RootCount > 1)
            {
                status = allocator.TryAllocate(out PhysicalAddress high) ? MapStatus.Done : MapStatus.OutOfMemory;
                if (status == MapStatus.Done)
                {
                    memory.Zero(high, 1UL << TMode.PageShift);
                    table = new PageTable<TMode>(root, high);
                    highRoot = high.Value;
                }
            }
            if (status == MapStatus.Done)
                status = PageTable<TMode>.InstallSelfMap(ref memory, ref allocator, table);
            int failed = -1;
            if (status == MapStatus.Done)
                status = PlanTables.Commit(ref memory, ref allocator, table, plan, out failed);
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
            // In firmware pages from here on (the memory map's unit), as many as the tables the mode's pages took.
            ulong used = (allocator.Next - pool) / PageSize, reserved = (poolPages << TMode.PageShift) / PageSize;
            if (used < reserved)
                bs->FreePages(pool + used * PageSize, (nuint)(reserved - used));
            allocations.Tables = pool;
            allocations.TablePages = used;
            return EfiStatus.Success;
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
