namespace ExectOS.Memory
{
    /// <summary>
    /// Where the root's self-map slot shows page tables in virtual memory. With the slot at root index
    /// s, the last-level entry of any address lies at a fixed base plus the address's index bits
    /// times the entry size: how the kernel edits its own tables without a map of physical memory.
    /// Valid for modes whose self-map slot is in the root (<see cref="IPagingMode.SelfMapIndex"/> at least 0).
    /// </summary>
    public static class SelfMap<TMode> where TMode : struct, IPagingMode
    {
        /// <summary>The first address the slot covers (the layout's page-table region).</summary>
        public static VirtualAddress Base
        {
            get { return new VirtualAddress(SignExtend((ulong)TMode.SelfMapIndex << TMode.LevelShift(0))); }
        }

        /// <summary>An address with its top implemented bit copied upwards, where the mode is canonical.</summary>
        public static ulong SignExtend(ulong address)
        {
            int bits = TMode.VirtualBits;
            if (TMode.CanonicalAddresses && bits < 64 && ((address >> (bits - 1)) & 1) != 0)
                address |= ulong.MaxValue << bits;
            return address;
        }

        /// <summary>The virtual address of the last-level entry that maps <paramref name="address"/>.</summary>
        public static VirtualAddress LeafEntry(VirtualAddress address)
        {
            int bits = TMode.VirtualBits;
            ulong index = (bits < 64 ? address.Value & ((1UL << bits) - 1) : address.Value) >> TMode.PageShift;
            return Base + index * (ulong)TMode.EntryBytes;
        }

        /// <summary>
        /// The virtual address of the entry at <paramref name="level"/> that maps <paramref name="address"/>
        /// (level -1: the self-map slot itself). Each application of the self-map climbs one level, so this
        /// is <see cref="LeafEntry"/> applied LevelCount - level times. The entry that points at the table
        /// of level L covering an address is the one at level L - 1.
        /// </summary>
        public static VirtualAddress EntryAddress(VirtualAddress address, int level)
        {
            for (int i = level; i < TMode.LevelCount; i++)
                address = LeafEntry(address);
            return address;
        }
    }
}
