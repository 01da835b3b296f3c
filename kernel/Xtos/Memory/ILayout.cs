namespace ExectOS.Memory
{
    /// <summary>One region of the kernel's virtual address space: [Start, Start + Size).</summary>
    public readonly struct LayoutRegion
    {
        public readonly VirtualAddress Start;
        public readonly ulong Size;

        public LayoutRegion(VirtualAddress start, ulong size)
        {
            Start = start;
            Size = size;
        }

        public VirtualAddress End => Start + Size;
    }

    /// <summary>
    /// A kernel address-space layout generated from a descriptor's layout rules: regions placed and
    /// sized from the number of physical pages, proven free of overlaps across the supported range.
    /// </summary>
    public interface ILayout
    {
        static abstract string Name { get; }
        static abstract ulong MinimumPages { get; }
        static abstract ulong MaximumPages { get; }
        static abstract int RegionCount { get; }
        static abstract string RegionName(int region);

        /// <summary>Whether an address belongs to the layout's paging mode (its canonical form).</summary>
        static abstract bool IsCanonical(VirtualAddress address);

        /// <summary>Fills <paramref name="regions"/> (RegionCount entries) for a machine with <paramref name="pages"/> pages; false outside the supported range.</summary>
        static abstract bool Compute(ulong pages, System.Span<LayoutRegion> regions);
    }
}
