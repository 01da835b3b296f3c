using ExectOS.Boot;
using ExectOS.Hardware;
using ExectOS.Loader.Efi;
using ExectOS.Text;

namespace ExectOS.Loader
{
    /// <summary>The last steps: kernel stack and loader block, leave boot services, jump.</summary>
    internal static unsafe class HandOff
    {
        private const ulong PageSize = 4096;
        private const ulong KernelStackSize = 64 * 1024;

        /// <summary>Once set, no firmware service may be called (the allocator and fail-fast check it).</summary>
        internal static bool BootServicesExited;

        internal static nuint Start(void* imageHandle, EfiSystemTable* systemTable, in LoadedKernel kernel)
        {
            EfiBootServices* bs = systemTable->BootServices;
            ulong stack, blockPage;
            if (EfiStatus.IsError(bs->AllocatePages(EfiAllocateType.AnyPages, EfiMemoryType.LoaderData, (nuint)(KernelStackSize / PageSize), &stack))
                || EfiStatus.IsError(bs->AllocatePages(EfiAllocateType.AnyPages, EfiMemoryType.LoaderData, 1, &blockPage)))
            {
                LoaderConsole.Error("no memory for the kernel stack and loader block");
                return EfiStatus.OutOfResources;
            }

            LoaderBlock* block = (LoaderBlock*)blockPage;
            new System.Span<byte>(block, (int)PageSize).Clear();
            LoaderBlock.InitializeHeader(block, BuildInfo.BootArchitecture);
            block->KernelPhysicalBase = kernel.PhysicalBase;
            block->KernelVirtualBase = kernel.PhysicalBase;
            block->KernelImageSize = kernel.ImageSize;
            block->KernelStackBase = stack;
            block->KernelStackSize = KernelStackSize;
            block->PageTableRoot = Cpu.ReadCr3();
            block->FirmwareSystemTable = (ulong)systemTable;
            block->FirmwareRevision = systemTable->FirmwareRevision;
            nuint parameterStatus = BootParameters.Read(imageHandle, bs, block);
            if (EfiStatus.IsError(parameterStatus))
                return parameterStatus;

            var allocations = new LoaderAllocations
            {
                KernelImage = kernel.PhysicalBase,
                KernelImagePages = (kernel.ImageSize + PageSize - 1) / PageSize,
                KernelStack = stack,
                KernelStackPages = KernelStackSize / PageSize,
                LoaderBlock = blockPage,
            };
            nuint status = FirmwareExit.AllocateDescriptors(bs, ref allocations, out int capacity);
            if (EfiStatus.IsError(status))
            {
                LoaderConsole.Error("no memory for the kernel's memory descriptors");
                return status;
            }

            LoaderConsole.WriteLine("XTLDR: leaving boot services and starting the kernel");
            status = FirmwareExit.Exit(imageHandle, bs, block, in allocations, capacity);
            if (EfiStatus.IsError(status))
                return status; // FirmwareExit said why
            BootServicesExited = true;

            Cpu.TransferToKernel((nuint)block->PageTableRoot, kernel.Entry, (void*)(stack + KernelStackSize), block);
            return EfiStatus.LoadError; // not reached: the stub never returns
        }
    }
}
