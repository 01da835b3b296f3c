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
        private const int ExitAttempts = 8;

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

            LoaderConsole.WriteLine("XTLDR: leaving boot services and starting the kernel");
            nuint status = ExitBootServices(imageHandle, bs);
            if (EfiStatus.IsError(status))
            {
                TextLine line = default;
                line.Append("the firmware refused ExitBootServices (EFI status ");
                line.AppendDecimal(EfiStatus.Code(status));
                line.Append(')');
                LoaderConsole.Error(line.AsSpan());
                return status;
            }
            BootServicesExited = true;

            Cpu.TransferToKernel((nuint)block->PageTableRoot, kernel.Entry, (void*)(stack + KernelStackSize), block);
            return EfiStatus.LoadError; // not reached: the stub never returns
        }

        /// <summary>
        /// ExitBootServices needs the key of the current memory map; any allocation changes the map, so the
        /// buffer is sized with slack first and the map fetched again if the firmware says the key is stale.
        /// </summary>
        private static nuint ExitBootServices(void* imageHandle, EfiBootServices* bs)
        {
            nuint mapSize = 0, mapKey, descriptorSize;
            uint descriptorVersion;
            nuint status = bs->GetMemoryMap(&mapSize, null, &mapKey, &descriptorSize, &descriptorVersion);
            if (status != EfiStatus.BufferTooSmall)
                return status;
            nuint capacity = mapSize + 8 * descriptorSize;
            void* map;
            status = bs->AllocatePool(EfiMemoryType.LoaderData, capacity, &map);
            if (EfiStatus.IsError(status))
                return status;

            for (int attempt = 0; attempt < ExitAttempts; attempt++)
            {
                mapSize = capacity;
                status = bs->GetMemoryMap(&mapSize, map, &mapKey, &descriptorSize, &descriptorVersion);
                if (EfiStatus.IsError(status))
                    return status;
                status = bs->ExitBootServices(imageHandle, mapKey);
                if (status != EfiStatus.InvalidParameter)
                    return status;
            }
            return status;
        }
    }
}
