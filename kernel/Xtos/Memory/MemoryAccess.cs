namespace ExectOS.Memory
{
    /// <summary>How page-table code reaches physical memory: the kernel through its mapping of RAM, tests through host memory.</summary>
    public interface IPhysicalMemory
    {
        ulong Read64(PhysicalAddress address);
        void Write64(PhysicalAddress address, ulong value);
        uint Read32(PhysicalAddress address);
        void Write32(PhysicalAddress address, uint value);
        void Zero(PhysicalAddress address, ulong bytes);
    }

    /// <summary>Where page tables come from: one page-aligned page at a time.</summary>
    public interface IFrameAllocator
    {
        bool TryAllocate(out PhysicalAddress frame);
        void Free(PhysicalAddress frame);
    }

    /// <summary>Receives the pages of a table walk (see <see cref="PageTable{TMode}.VisitPages"/>); false stops the walk.</summary>
    public interface IPageVisitor
    {
        bool Visit(VirtualAddress address, PhysicalAddress frame, int level, PageProtection protection);
    }

    /// <summary>Receives the tables of a walk (see <see cref="PageTable{TMode}.VisitTables"/>), the root first; false stops the walk.</summary>
    public interface ITableVisitor
    {
        /// <param name="firstAddress">The lowest address the table covers.</param>
        bool VisitTable(PhysicalAddress table, int level, VirtualAddress firstAddress);
    }

    /// <summary>Drops one page's translation from the processor's cache (invlpg, sfence.vma ...).</summary>
    public interface ITranslationCache
    {
        static abstract void Invalidate(VirtualAddress address);
    }

    /// <summary>
    /// The TLB work a page-table change leaves: call <see cref="Flush{TCache}"/> once the tables are live,
    /// or <see cref="Ignore"/> when they are not loaded yet (the loader building tables for the kernel).
    /// </summary>
    public readonly struct TlbFlush
    {
        public readonly VirtualAddress Address;
        public readonly bool Needed;

        public TlbFlush(VirtualAddress address, bool needed)
        {
            Address = address;
            Needed = needed;
        }

        public void Flush<TCache>() where TCache : struct, ITranslationCache
        {
            if (Needed)
                TCache.Invalidate(Address);
        }

        public void Ignore() { }
    }

    /// <summary>Outcome of a page-table change; anything but Done changed nothing visible.</summary>
    public enum MapStatus
    {
        Done = 0,
        NotCanonical,
        Misaligned,
        FrameOutOfRange,
        LevelCannotMapPages,
        AlreadyMapped,
        LargePageInTheWay,
        TablesInTheWay,
        OutOfMemory,
        NotMapped,
    }

    /// <summary>Where a virtual address leads: the physical address, the level of the page and its combined protection.</summary>
    public struct Translation
    {
        public PhysicalAddress Address;
        public int Level;
        public PageProtection Protection;
    }
}
