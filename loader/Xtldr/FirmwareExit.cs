using System;
using ExectOS.Boot;
using ExectOS.Loader.Efi;
using ExectOS.Memory;
using ExectOS.Text;

namespace ExectOS.Loader
{
    /// <summary>What the loader allocated for the kernel: these pages get their own types in the memory map.</summary>
    internal struct LoaderAllocations
    {
        public ulong KernelImage, KernelImagePages;
        public ulong KernelStack, KernelStackPages;
        /// <summary>Loader block page (with the mapping list), then the descriptor array.</summary>
        public ulong BootData, BootDataPages;
        public ulong Hyperspace;
        public ulong HandOff;
        /// <summary>The application processors' start-up page below 1 MiB (0 when the firmware had none free).</summary>
        public ulong ProcessorStart;
        public ulong Tables, TablePages;

        public readonly ulong Descriptors => BootData + FirmwarePage.Size;
    }

    /// <summary>
    /// Leaves boot services with the memory map in the loader block. The final map is converted between
    /// GetMemoryMap and ExitBootServices: pure code, no allocation, so the map key stays valid and a bad
    /// map is still reported to a live firmware.
    /// </summary>
    internal static unsafe class FirmwareExit
    {
        /// <summary>Loader allocations and memory descriptors are in firmware pages, whatever the kernel's page size.</summary>
        private const ulong PageSize = FirmwarePage.Size;
        private const int ExitAttempts = 8;
        // Room for the firmware's own growth between calls and for the pieces carving adds.
        private const int SpareDescriptors = 64;

        /// <summary>Allocates the loader block page and the descriptor array after it; call before the final map is read (allocation changes it).</summary>
        internal static nuint AllocateBootData(EfiBootServices* bs, ref LoaderAllocations allocations, out int capacity)
        {
            capacity = 0;
            nuint status = MapSize(bs, out nuint mapSize, out nuint descriptorSize);
            if (EfiStatus.IsError(status))
                return status;
            capacity = (int)(mapSize / descriptorSize) + SpareDescriptors;
            // The block's page, then the descriptors, in whole pages of every mode (the kernel maps them).
            ulong bytes = LoaderPages.Round(PageSize + (ulong)capacity * (ulong)sizeof(LoaderMemoryDescriptor));
            ulong pages = bytes / PageSize - 1;
            ulong data = 0;
            status = LoaderPages.Allocate(bs, EfiAllocateType.AnyPages, EfiMemoryType.LoaderData, bytes, ref data);
            allocations.BootData = data;
            allocations.BootDataPages = 1 + pages;
            capacity = (int)(pages * PageSize / (ulong)sizeof(LoaderMemoryDescriptor));
            return status;
        }

        /// <summary>How many bytes the map needs now, and the firmware's descriptor size (never sizeof).</summary>
        private static nuint MapSize(EfiBootServices* bs, out nuint mapSize, out nuint descriptorSize)
        {
            nuint size = 0, mapKey, stride;
            uint version;
            nuint status = bs->GetMemoryMap(&size, null, &mapKey, &stride, &version);
            mapSize = size;
            descriptorSize = stride;
            if (status != EfiStatus.BufferTooSmall)
                return EfiStatus.IsError(status) ? status : EfiStatus.LoadError;
            return EfiStatus.Success;
        }

        /// <summary>Reads and converts the current map, cut to what the mode reaches (for planning; the final one is read at exit).</summary>
        internal static nuint ReadMap<TMode, TLayout>(EfiBootServices* bs, Span<LoaderMemoryDescriptor> descriptors, out int count, out MemoryCut cut)
            where TMode : struct, IPagingMode
            where TLayout : struct, ILayout
        {
            count = 0;
            cut = default;
            nuint status = MapSize(bs, out nuint mapSize, out nuint descriptorSize);
            if (EfiStatus.IsError(status))
                return status;
            nuint mapKey;
            uint version;
            mapSize += 16 * descriptorSize;
            void* map;
            status = bs->AllocatePool(EfiMemoryType.LoaderData, mapSize, &map);
            if (EfiStatus.IsError(status))
                return status;
            status = bs->GetMemoryMap(&mapSize, map, &mapKey, &descriptorSize, &version);
            if (!EfiStatus.IsError(status))
            {
                MemoryMapProblem problem = MemoryMap.Convert(new ReadOnlySpan<byte>(map, (int)mapSize), (int)descriptorSize, version, descriptors, out count);
                if (!problem.IsOk)
                {
                    Report(problem);
                    status = EfiStatus.LoadError;
                }
                else
                    cut = MemoryMap.CutToReach<TMode, TLayout>(descriptors, ref count);
            }
            bs->FreePool(map);
            return status;
        }

        /// <summary>
        /// Reads the final map, carves the loader's allocations, checks the committed plan against it (the
        /// check the kernel repeats) and leaves boot services.
        /// </summary>
        internal static nuint Exit<TMode, TLayout>(void* imageHandle, EfiBootServices* bs, LoaderBlock* block, in LoaderAllocations allocations, int capacity, ReadOnlySpan<Mapping> plan)
            where TMode : struct, IPagingMode
            where TLayout : struct, ILayout
        {
            nuint mapSize = 0, mapKey, descriptorSize;
            uint version;
            nuint status = bs->GetMemoryMap(&mapSize, null, &mapKey, &descriptorSize, &version);
            if (status != EfiStatus.BufferTooSmall)
                return status;
            nuint bufferSize = mapSize + 16 * descriptorSize;
            void* map;
            status = bs->AllocatePool(EfiMemoryType.LoaderData, bufferSize, &map);
            if (EfiStatus.IsError(status))
                return status;

            var descriptors = new Span<LoaderMemoryDescriptor>((void*)allocations.Descriptors, capacity);
            for (int attempt = 0; attempt < ExitAttempts; attempt++)
            {
                mapSize = bufferSize;
                status = bs->GetMemoryMap(&mapSize, map, &mapKey, &descriptorSize, &version);
                if (EfiStatus.IsError(status))
                    return status;
                var raw = new ReadOnlySpan<byte>(map, (int)mapSize);
                MemoryMapProblem problem = Describe(raw, (int)descriptorSize, version, descriptors, in allocations, out int count);
                // Serial output is port I/O, not a firmware call: the map key stays valid.
                if (KernelParameters.Contains(new ReadOnlySpan<byte>(block->Parameters, KernelParameters.Capacity), DumpMapParameter))
                    Dump(raw, (int)descriptorSize);
                if (!problem.IsOk)
                {
                    Report(problem);
                    return EfiStatus.LoadError;
                }
                // What the mode cannot reach is left out, as when the plan was made (no firmware call: the key stays valid).
                MemoryCut cut = MemoryMap.CutToReach<TMode, TLayout>(descriptors, ref count);
                block->PagesLeftOut = cut.PagesLeftOut;
                block->FreePagesLeftOut = cut.FreePagesLeftOut;
                block->LeftOutReason = cut.Reason;
                MappingProblem planProblem = MappingPlan.Check<TMode>(plan, descriptors.Slice(0, count));
                if (!planProblem.IsOk)
                {
                    TextLine mismatch = default;
                    mismatch.Append("the mapping plan no longer matches the final memory map: it ");
                    planProblem.AppendTo(ref mismatch);
                    LoaderConsole.Error(mismatch.AsSpan());
                    return EfiStatus.LoadError;
                }
                status = bs->ExitBootServices(imageHandle, mapKey);
                if (status == EfiStatus.Success)
                {
                    block->MemoryDescriptorCount = (uint)count;
                    return status;
                }
                if (status != EfiStatus.InvalidParameter)
                    break;
            }
            TextLine line = default;
            line.Append("the firmware refused ExitBootServices (EFI status ");
            line.AppendDecimal(EfiStatus.Code(status));
            line.Append(')');
            LoaderConsole.Error(line.AsSpan());
            return EfiStatus.IsError(status) ? status : EfiStatus.LoadError;
        }

        /// <summary>Boot parameter that prints the firmware's raw map (how tests/data/ovmf-maps was captured).</summary>
        internal const string DumpMapParameter = "XTLDR-DUMP-MAP";

        private static void Dump(ReadOnlySpan<byte> map, int descriptorSize)
        {
            for (int offset = 0; offset + descriptorSize <= map.Length; offset += descriptorSize)
            {
                ReadOnlySpan<byte> entry = map.Slice(offset, descriptorSize);
                TextLine line = default;
                line.Append("XTLDR: efi-map ");
                line.AppendDecimal(Read64(entry, 0) & 0xFFFFFFFF);
                line.Append(' ');
                line.AppendHexPrefixed(Read64(entry, 8), 16);
                line.Append(' ');
                line.AppendHexPrefixed(Read64(entry, 24), 1);
                line.Append(' ');
                line.AppendHexPrefixed(Read64(entry, 32), 16);
                LoaderConsole.WriteLine(line.AsSpan());
            }
        }

        private static ulong Read64(ReadOnlySpan<byte> data, int offset)
        {
            ulong value = 0;
            for (int i = 7; i >= 0; i--)
                value = (value << 8) | (ulong)data[offset + i];
            return value;
        }

        private static MemoryMapProblem Describe(ReadOnlySpan<byte> map, int descriptorSize, uint version, Span<LoaderMemoryDescriptor> descriptors, in LoaderAllocations a, out int count)
        {
            MemoryMapProblem problem = MemoryMap.Convert(map, descriptorSize, version, descriptors, out count);
            if (problem.IsOk)
                problem = MemoryMap.Carve(descriptors, ref count, a.KernelImage >> FirmwarePage.Shift, a.KernelImagePages, LoaderMemoryType.LoaderSystemCode);
            if (problem.IsOk)
                problem = MemoryMap.Carve(descriptors, ref count, a.KernelStack >> FirmwarePage.Shift, a.KernelStackPages, LoaderMemoryType.LoaderStartupKernelStack);
            if (problem.IsOk)
                problem = MemoryMap.Carve(descriptors, ref count, a.BootData >> FirmwarePage.Shift, 1, LoaderMemoryType.LoaderSystemBlock);
            if (problem.IsOk)
                problem = MemoryMap.Carve(descriptors, ref count, (a.BootData >> FirmwarePage.Shift) + 1, a.BootDataPages - 1, LoaderMemoryType.LoaderMemoryData);
            if (problem.IsOk)
                problem = MemoryMap.Carve(descriptors, ref count, a.Hyperspace >> FirmwarePage.Shift, LoaderPages.UnitPages, LoaderMemoryType.LoaderMemoryData);
            if (problem.IsOk)
                problem = MemoryMap.Carve(descriptors, ref count, a.HandOff >> FirmwarePage.Shift, LoaderPages.UnitPages, LoaderMemoryType.LoaderMemoryData);
            if (problem.IsOk && a.ProcessorStart != 0)
                problem = MemoryMap.Carve(descriptors, ref count, a.ProcessorStart >> FirmwarePage.Shift, 1, LoaderMemoryType.LoaderMemoryData);
            // Page tables are the kernel's from the first instruction: never free memory (ExectOS #25).
            if (problem.IsOk)
                problem = MemoryMap.Carve(descriptors, ref count, a.Tables >> FirmwarePage.Shift, a.TablePages, LoaderMemoryType.LoaderMemoryData);
            return problem;
        }

        private static void Report(in MemoryMapProblem problem)
        {
            TextLine line = default;
            line.Append("the firmware memory map ");
            line.Append(MemoryMapProblem.Describe(problem.Error));
            line.Append(" (entries ");
            line.AppendDecimal((long)problem.First);
            line.Append(" and ");
            line.AppendDecimal((long)problem.Second);
            line.Append(", detail ");
            line.AppendHexPrefixed(problem.Detail, 1);
            line.Append(')');
            LoaderConsole.Error(line.AsSpan());
        }
    }
}
