namespace ExectOS.Memory
{
    /// <summary>
    /// Where the self-map shows page tables in virtual memory. The self-map slots are entries of the top
    /// <see cref="IPagingMode.SelfMapLevels"/> levels taken as one table (one level: a root slot that points to
    /// the root; PAE: the four page directories, mapped through four consecutive directory slots). Then the
    /// last-level entry of any address lies at a fixed base plus the address's index bits times the entry
    /// size: how the kernel edits its own tables without a map of physical memory. Valid for modes with a
    /// self-map (<see cref="IPagingMode.SelfMapIndex"/> at least 0). A split mode's self-map is a slot of the high half's
    /// root: it shows the high half's tables (the kernel's), and the low half's are not reached through it.
    /// </summary>
    public static class SelfMap<TMode> where TMode : struct, IPagingMode
    {
        /// <summary>The level whose entries are the self-map slots: the lowest of the levels the index spans.</summary>
        public static int SlotLevel => TMode.SelfMapLevels - 1;

        /// <summary>How many slots there are: one per table of <see cref="SlotLevel"/> (1 for a slot in the root).</summary>
        public static int SlotCount
        {
            get
            {
                int bits = 0;
                for (int level = 0; level < SlotLevel; level++)
                    bits += TMode.LevelIndexBits(level);
                return 1 << bits;
            }
        }

        /// <summary>The first address the slots cover (the layout's page-table region).</summary>
        public static VirtualAddress Base
        {
            get { return new VirtualAddress(SignExtend((ulong)TMode.SelfMapIndex << TMode.LevelShift(SlotLevel)) | HalfBase); }
        }

        /// <summary>The first address of the half the self-map lives in: a split mode's high half, else 0.</summary>
        private static ulong HalfBase => TMode.RootCount > 1 ? ulong.MaxValue << TMode.VirtualBits : 0;

        /// <summary>Whether the tables that translate <paramref name="address"/> are those the self-map shows (a split mode: the high half's).</summary>
        public static bool Shows(VirtualAddress address) => TMode.SelfMapIndex >= 0 && TMode.RootOf(address) == TMode.RootCount - 1;

        /// <summary>The bytes of address space the slots cover.</summary>
        public static ulong Size => (ulong)SlotCount << TMode.LevelShift(SlotLevel);

        /// <summary>Whether the entry at <paramref name="level"/> covering <paramref name="address"/> is a self-map slot (walks skip them).</summary>
        public static bool IsSlot(int level, VirtualAddress address)
            => TMode.SelfMapIndex >= 0 && level == SlotLevel && address.Value - Base.Value < Size;

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
        /// Whether the entries of <paramref name="level"/> can be reached through the self-map: every level's, and the
        /// slot itself (level -1), for a slot in the root; not the root's for a self-map across two levels (PAE).
        /// </summary>
        public static bool Reaches(int level) => TMode.SelfMapIndex >= 0 && level >= (SlotLevel == 0 ? -1 : SlotLevel);

        /// <summary>Whether the entry at <paramref name="level"/> that maps <paramref name="address"/> has a self-map address (<see cref="EntryAddress"/>).</summary>
        public static bool Reaches(VirtualAddress address, int level) => Reaches(level) && Shows(address);

        /// <summary>
        /// The virtual address of the entry at <paramref name="level"/> that maps <paramref name="address"/>
        /// (see <see cref="Reaches"/>). Each application of the self-map climbs one level, so this is
        /// <see cref="LeafEntry"/> applied LevelCount - level times. The entry that points at the table of
        /// level L covering an address is the one at level L - 1.
        /// </summary>
        public static VirtualAddress EntryAddress(VirtualAddress address, int level)
        {
            for (int i = level; i < TMode.LevelCount; i++)
                address = LeafEntry(address);
            return address;
        }
    }
}
