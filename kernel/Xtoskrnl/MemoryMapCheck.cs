using ExectOS.Boot;
using ExectOS.Diagnostics;
using ExectOS.Text;

namespace ExectOS.Kernel
{
    /// <summary>Checks the loader's memory map and says what it holds, page type by page type.</summary>
    internal static unsafe class MemoryMapCheck
    {
        internal static void Run(LoaderBlock* block)
        {
            var descriptors = (LoaderMemoryDescriptor*)block->MemoryDescriptors;
            uint count = block->MemoryDescriptorCount;
            if (descriptors == null || count == 0)
                BugCheck.Raise(MemoryManagementCheck.MemoryMapMissing, (ulong)descriptors, count, 0);
            for (uint i = 1; i < count; i++)
            {
                if (descriptors[i].BasePage < descriptors[i - 1].EndPage)
                    BugCheck.Raise(MemoryManagementCheck.MemoryMapUnsorted, i, descriptors[i].BasePage, descriptors[i - 1].EndPage);
            }

            // What the loader allocated for the kernel must be recorded as such, never as free memory. The stack
            // and boot data are virtual addresses now: PagingCheck checks their frames through the mapping list.
            Expect(descriptors, count, block->KernelPhysicalBase >> FirmwarePage.Shift, (block->KernelImageSize + FirmwarePage.Size - 1) >> FirmwarePage.Shift, LoaderMemoryType.LoaderSystemCode);

            PrintSummary(descriptors, count);
        }

        private static void Expect(LoaderMemoryDescriptor* descriptors, uint count, ulong basePage, ulong pages, LoaderMemoryType type)
        {
            for (uint i = 0; i < count; i++)
            {
                if (descriptors[i].BasePage <= basePage && descriptors[i].EndPage >= basePage + pages && descriptors[i].Type == type)
                    return;
            }
            BugCheck.Raise(MemoryManagementCheck.KernelImageNotDescribed, basePage, pages, (ulong)type);
        }

        private static void PrintSummary(LoaderMemoryDescriptor* descriptors, uint count)
        {
            ulong total = 0, free = 0;
            for (uint i = 0; i < count; i++)
            {
                total += descriptors[i].PageCount;
                if (LoaderMemoryDescriptor.IsFree(descriptors[i].Type))
                    free += descriptors[i].PageCount;
            }
            TextLine line = default;
            line.Append("XTOSKRNL: memory map: ");
            line.AppendDecimal((ulong)count);
            line.Append(" descriptors, ");
            line.AppendDecimal(total);
            line.Append(" pages described, ");
            line.AppendDecimal(free);
            line.Append(" free (");
            line.AppendDecimal(free >> 8);
            line.Append(" MiB), highest page ");
            line.AppendHexPrefixed(descriptors[count - 1].EndPage - 1, 1);
            KernelConsole.WriteLine(line.AsSpan());

            for (uint type = 0; type < (uint)LoaderMemoryType.LoaderMaximum; type++)
            {
                ulong pages = 0;
                for (uint i = 0; i < count; i++)
                {
                    if ((uint)descriptors[i].Type == type)
                        pages += descriptors[i].PageCount;
                }
                if (pages == 0)
                    continue;
                line.Clear();
                line.Append("XTOSKRNL:   ");
                line.Append(Name((LoaderMemoryType)type));
                line.Append(' ');
                line.AppendDecimal(pages);
                line.Append(" pages");
                KernelConsole.WriteLine(line.AsSpan());
            }
        }

        internal static string Name(LoaderMemoryType type) => type switch
        {
            LoaderMemoryType.LoaderSystemBlock => "LoaderSystemBlock",
            LoaderMemoryType.LoaderFree => "LoaderFree",
            LoaderMemoryType.LoaderBad => "LoaderBad",
            LoaderMemoryType.LoaderFirmwareTemporary => "LoaderFirmwareTemporary",
            LoaderMemoryType.LoaderFirmwarePermanent => "LoaderFirmwarePermanent",
            LoaderMemoryType.LoaderSystemCode => "LoaderSystemCode",
            LoaderMemoryType.LoaderStartupKernelStack => "LoaderStartupKernelStack",
            LoaderMemoryType.LoaderMemoryData => "LoaderMemoryData",
            LoaderMemoryType.LoaderSpecialMemory => "LoaderSpecialMemory",
            _ => "LoaderOther",
        };
    }
}
