using System;
using ExectOS.Boot;
using ExectOS.Diagnostics;
using ExectOS.Memory;
using ExectOS.Text;

namespace ExectOS.Kernel
{
    /// <summary>Computes the kernel's virtual layout from the detected memory (descriptor layout rules) and prints it.</summary>
    internal static unsafe class LayoutReport
    {
        /// <summary>The layout for the machine's RAM in frames of the mode's pages (the loader block's map counts firmware pages).</summary>
        internal static void Run<TMode, TLayout>(LoaderBlock* block)
            where TMode : struct, IPagingMode
            where TLayout : struct, ILayout
        {
            ulong pages = MemoryMap.RamFrames(new ReadOnlySpan<LoaderMemoryDescriptor>((void*)block->MemoryDescriptors, (int)block->MemoryDescriptorCount), TMode.PageShift);
            LayoutRegions.Storage regions = default;
            Span<LayoutRegion> span = LayoutRegions.Compute<TLayout>(ref regions, pages);
            if (span.Length == 0)
                BugCheck.Raise(MemoryManagementCheck.LayoutUnavailable, pages, TLayout.MinimumPages, TLayout.MaximumPages);

            TextLine line = default;
            line.Append("XTOSKRNL: layout ");
            line.Append(TLayout.Name);
            line.Append(" for ");
            line.AppendDecimal(pages);
            line.Append(" page frames:");
            KernelConsole.WriteLine(line.AsSpan());
            for (int i = 0; i < TLayout.RegionCount; i++)
            {
                line.Clear();
                line.Append("XTOSKRNL:   ");
                line.AppendHexPrefixed(span[i].Start.Value, 16);
                line.Append(' ');
                line.AppendHexPrefixed(span[i].End.Value - 1, 16);
                line.Append(' ');
                line.Append(TLayout.RegionName(i));
                line.Append(' ');
                line.AppendSize(span[i].Size);
                KernelConsole.WriteLine(line.AsSpan());
            }
        }
    }
}
