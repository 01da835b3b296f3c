namespace ExectOS.Memory
{
    /// <summary>How an architecture layer tests for a feature (the probe's keyword in a descriptor).</summary>
    public enum FeatureProbe
    {
        None = 0,
        /// <summary>x86 CPUID: Selector = leaf, Subselector = subleaf, Word = result register (0-3: eax-edx), Bit.</summary>
        CpuId = 1,
        /// <summary>
        /// A field of a register the architecture layer reads by name (AArch64: an ID register such as
        /// ID_AA64MMFR0_EL1): Register, Selector = its identifier, Word = the field's low bit, Bit = its width;
        /// the feature is there when <see cref="FeatureRequirement.Holds"/> says so of the register's value.
        /// </summary>
        Register = 2,
    }

    /// <summary>How a register probe's field is compared with its value.</summary>
    public enum FeatureComparison
    {
        None = 0,
        Equal = 1,
        NotEqual = 2,
        /// <summary>Unsigned, as the Arm ARM compares most ID register fields.</summary>
        AtLeast = 3,
    }

    /// <summary>A processor feature a paging mode needs (a descriptor's `feature`), tested by the architecture layer.</summary>
    public readonly struct FeatureRequirement
    {
        public readonly string Name;
        public readonly FeatureProbe Probe;
        public readonly uint Selector;
        public readonly uint Subselector;
        public readonly int Word;
        public readonly int Bit;

        /// <summary>The register a <see cref="FeatureProbe.Register"/> probe reads (its name), or null for a CPUID bit.</summary>
        public readonly string? Register;
        public readonly FeatureComparison Comparison;
        public readonly ulong Value;

        public FeatureRequirement(string name, FeatureProbe probe, uint selector, uint subselector, int word, int bit)
        {
            Name = name;
            Probe = probe;
            Selector = selector;
            Subselector = subselector;
            Word = word;
            Bit = bit;
            Register = null;
            Comparison = FeatureComparison.None;
            Value = 0;
        }

        /// <summary>A register probe: bits low .. low + width - 1 of <paramref name="register"/> compared with <paramref name="value"/>.</summary>
        public FeatureRequirement(string name, string register, uint registerId, int low, int width, FeatureComparison comparison, ulong value)
        {
            Name = name;
            Probe = FeatureProbe.Register;
            Selector = registerId;
            Subselector = 0;
            Word = low;
            Bit = width;
            Register = register;
            Comparison = comparison;
            Value = value;
        }

        /// <summary>Whether a register probe's field, read from <paramref name="registerValue"/>, passes its comparison.</summary>
        public bool Holds(ulong registerValue)
        {
            if (Probe != FeatureProbe.Register || Word < 0 || Bit < 1 || Word + Bit > 64)
                return false;
            ulong field = (registerValue >> Word) & (Bit == 64 ? ulong.MaxValue : (1UL << Bit) - 1);
            return Comparison switch
            {
                FeatureComparison.Equal => field == Value,
                FeatureComparison.NotEqual => field != Value,
                FeatureComparison.AtLeast => field >= Value,
                _ => false,
            };
        }
    }

    /// <summary>
    /// Code entered once per boot with the running mode and its layout as type arguments (an image's generated
    /// <c>Dispatch</c> calls it); everything below is generic, so no call chooses between modes again.
    /// </summary>
    public interface IModeVisitor
    {
        void Visit<TMode, TLayout>()
            where TMode : struct, IPagingMode
            where TLayout : struct, ILayout;
    }

    /// <summary>
    /// What generic memory-manager code knows of a paging mode. Generated from descriptors/ for every
    /// mode; used as a generic struct parameter, so every call is direct and folds to constants.
    /// Levels are numbered from the root (0) to the last level (LevelCount - 1).
    /// </summary>
    public interface IPagingMode
    {
        static abstract string Name { get; }

        /// <summary>The mode's identity in the loader block (a hash of architecture and mode name, stable across builds).</summary>
        static abstract uint Id { get; }

        static abstract int VirtualBits { get; }
        static abstract bool CanonicalAddresses { get; }
        static abstract int PhysicalBits { get; }
        static abstract int PageShift { get; }
        static abstract int EntryBytes { get; }
        static abstract int LevelCount { get; }

        /// <summary>
        /// The first self-map slot, or -1: an index into the top <see cref="SelfMapLevels"/> levels taken as one
        /// table. With one level it is the root slot that maps the root itself; with two (PAE) the tables of the
        /// second level are mapped, in order, at that slot and the ones after it.
        /// </summary>
        static abstract int SelfMapIndex { get; }

        /// <summary>How many top levels the self-map index spans (1: a slot in the root).</summary>
        static abstract int SelfMapLevels { get; }

        /// <summary>
        /// Roots of the address space: 1, or 2 for a split mode, whose low half (addresses below 2^VirtualBits) and
        /// high half (the top 2^VirtualBits bytes) are translated from roots of their own (AArch64 TTBR0, TTBR1).
        /// </summary>
        static abstract int RootCount { get; }

        /// <summary>Which root translates <paramref name="address"/>: 0, or 1 for the high half of a split mode.</summary>
        static abstract int RootOf(VirtualAddress address);

        /// <summary>The lowest address bit a level's index covers.</summary>
        static abstract int LevelShift(int level);

        static abstract int LevelIndexBits(int level);

        /// <summary>True when the level has a page format: the last level, or one that maps large pages.</summary>
        static abstract bool LevelMapsPages(int level);

        /// <summary>The index into a level's table for <paramref name="address"/>.</summary>
        static abstract int Index(int level, VirtualAddress address);

        /// <summary>True when the address is representable (sign-extended where the mode is canonical).</summary>
        static abstract bool IsCanonical(VirtualAddress address);

        static abstract int RequirementCount { get; }

        static abstract FeatureRequirement Requirement(int index);

        /// <summary>The present bit of a level's entries (its formats keep it in one place: the descriptor compiler checks).</summary>
        static abstract ulong PresentMask(int level);

        /// <summary>Whether a raw entry (read at <paramref name="level"/>) is absent, points to a table, or maps a page.</summary>
        static abstract EntryKind Classify(int level, ulong entry);

        /// <summary>The next table's address held by a table entry.</summary>
        static abstract PhysicalAddress TableAddress(int level, ulong entry);

        /// <summary>The page's address held by a page entry.</summary>
        static abstract PhysicalAddress PageAddress(int level, ulong entry);

        static abstract bool CanHoldTable(int level, PhysicalAddress table);

        static abstract bool CanHoldPage(int level, PhysicalAddress page);

        /// <summary>
        /// A present table entry allowing what <paramref name="protection"/> says, for everything below it. The
        /// walker asks for <see cref="PageProtection.Writable"/> | <see cref="PageProtection.Executable"/> (leaves
        /// decide); the self-map slot asks for writable alone, so page tables are never executable.
        /// </summary>
        static abstract ulong MakeTable(int level, PhysicalAddress table, PageProtection protection);

        /// <summary>A present page entry with the protection's bits set through the format's roles.</summary>
        static abstract ulong MakePage(int level, PhysicalAddress page, PageProtection protection);

        /// <summary>What an entry allows by itself; a translation combines every level's.</summary>
        static abstract PageProtection Protection(int level, ulong entry);

        static abstract bool HasReservedBits(int level, ulong entry);
    }
}
