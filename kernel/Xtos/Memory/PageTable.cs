using System.Runtime.CompilerServices;

namespace ExectOS.Memory
{
    /// <summary>
    /// A hierarchy of page tables for any paging mode, walked with the mode's generated operations:
    /// one loop over levels, no level named. Intermediate tables are allocated on demand and freed
    /// when their last entry is unmapped; the root is never freed.
    /// </summary>
    public readonly partial struct PageTable<TMode> where TMode : struct, IPagingMode
    {
        private const int MaxLevels = 8;

        /// <summary>Intermediate tables restrict nothing: each leaf carries its own protection.</summary>
        private const PageProtection TableProtection = PageProtection.Writable | PageProtection.Executable;

        public readonly PhysicalAddress Root;

        /// <summary>The high half's root in a split mode (<see cref="IPagingMode.RootCount"/> 2); unused otherwise.</summary>
        public readonly PhysicalAddress HighRoot;

        public PageTable(PhysicalAddress root)
        {
            Root = root;
            HighRoot = default;
        }

        /// <summary>A split mode's two trees: <paramref name="low"/> for the low half, <paramref name="high"/> for the high one.</summary>
        public PageTable(PhysicalAddress low, PhysicalAddress high)
        {
            Root = low;
            HighRoot = high;
        }

        /// <summary>The root that translates <paramref name="address"/>.</summary>
        public PhysicalAddress RootOf(VirtualAddress address) => TMode.RootOf(address) == 0 ? Root : HighRoot;

        private static ulong PageBytes => 1UL << TMode.PageShift;

        /// <summary>
        /// Allocates and clears a root table (a split mode: one for each half); with <paramref name="selfMap"/>, installs the
        /// mode's self-map slot.
        /// </summary>
        public static MapStatus Create<TMemory, TAllocator>(ref TMemory memory, ref TAllocator allocator, bool selfMap, out PageTable<TMode> table)
            where TMemory : struct, IPhysicalMemory
            where TAllocator : struct, IFrameAllocator
        {
            table = default;
            MapStatus status = AllocateRoot(ref memory, ref allocator, out PhysicalAddress root);
            PhysicalAddress high = default;
            if (status == MapStatus.Done && TMode.RootCount > 1)
                status = AllocateRoot(ref memory, ref allocator, out high);
            if (status != MapStatus.Done)
                return status;
            table = new PageTable<TMode>(root, high);
            if (selfMap)
            {
                status = InstallSelfMap(ref memory, ref allocator, table);
                if (status != MapStatus.Done)
                    return status;
            }
            return MapStatus.Done;
        }

        private static MapStatus AllocateRoot<TMemory, TAllocator>(ref TMemory memory, ref TAllocator allocator, out PhysicalAddress root)
            where TMemory : struct, IPhysicalMemory
            where TAllocator : struct, IFrameAllocator
        {
            if (!allocator.TryAllocate(out root))
                return MapStatus.OutOfMemory;
            if (!TMode.CanHoldTable(0, root))
            {
                allocator.Free(root);
                return MapStatus.FrameOutOfRange;
            }
            memory.Zero(root, PageBytes);
            return MapStatus.Done;
        }

        /// <summary>A self-map slot's entry: the table it shows, writable, never executable (page tables are data).</summary>
        public static ulong SelfMapEntry(PhysicalAddress table) => TMode.MakeTable(SelfMap<TMode>.SlotLevel, table, PageProtection.Writable);

        /// <summary>The root the self-map slots are in: a split mode's high half's (the kernel's), else the one root.</summary>
        public PhysicalAddress SelfMapRoot => TMode.RootCount > 1 ? HighRoot : Root;

        /// <summary>
        /// Writes the mode's self-map slots, where it has them. In the root, one slot pointing at the root. Across two
        /// levels (PAE), every root entry first gets its table (allocated when missing: the root's entries are then
        /// fixed for good, as PAE's page-directory pointers must be), and slot k points at the k-th of those tables.
        /// </summary>
        public static MapStatus InstallSelfMap<TMemory, TAllocator>(ref TMemory memory, ref TAllocator allocator, PageTable<TMode> table)
            where TMemory : struct, IPhysicalMemory
            where TAllocator : struct, IFrameAllocator
        {
            if (TMode.SelfMapIndex < 0)
                return MapStatus.Done;
            PhysicalAddress root = table.SelfMapRoot;
            int level = SelfMap<TMode>.SlotLevel;
            if (level == 0)
            {
                WriteEntry(ref memory, Slot(root, TMode.SelfMapIndex), SelfMapEntry(root));
                return MapStatus.Done;
            }
            if (level != 1)
                return MapStatus.LevelCannotMapPages; // the descriptor compiler allows a self-map across at most two levels
            int count = SelfMap<TMode>.SlotCount, bits = TMode.LevelIndexBits(1);
            for (int k = 0; k < count; k++)
            {
                PhysicalAddress slot = Slot(root, k);
                if (TMode.Classify(0, ReadEntry(ref memory, slot)) == EntryKind.NotPresent)
                {
                    MapStatus created = CreateTable(ref memory, ref allocator, slot, 0, TableProtection, out _);
                    if (created != MapStatus.Done)
                        return created;
                }
            }
            for (int k = 0; k < count; k++)
            {
                int merged = TMode.SelfMapIndex + k;
                PhysicalAddress holder = TMode.TableAddress(0, ReadEntry(ref memory, Slot(root, merged >> bits)));
                PhysicalAddress shown = TMode.TableAddress(0, ReadEntry(ref memory, Slot(root, k)));
                WriteEntry(ref memory, Slot(holder, merged & ((1 << bits) - 1)), SelfMapEntry(shown));
            }
            return MapStatus.Done;
        }

        /// <summary>
        /// Whether every self-map slot points at the table <see cref="InstallSelfMap"/> gave it (the loader's and kernel's
        /// check; the processor's accessed bits may differ from what was written).
        /// </summary>
        public bool HasSelfMap<TMemory>(ref TMemory memory) where TMemory : struct, IPhysicalMemory
        {
            if (TMode.SelfMapIndex < 0)
                return false;
            int level = SelfMap<TMode>.SlotLevel;
            if (level == 0)
                return Shows(ReadEntry(ref memory, Slot(SelfMapRoot, TMode.SelfMapIndex)), 0, SelfMapRoot);
            int count = SelfMap<TMode>.SlotCount, bits = TMode.LevelIndexBits(1);
            for (int k = 0; k < count; k++)
            {
                ulong top = ReadEntry(ref memory, Slot(Root, k));
                int merged = TMode.SelfMapIndex + k;
                ulong holder = ReadEntry(ref memory, Slot(Root, merged >> bits));
                if (TMode.Classify(0, top) != EntryKind.Table || TMode.Classify(0, holder) != EntryKind.Table
                    || !Shows(ReadEntry(ref memory, Slot(TMode.TableAddress(0, holder), merged & ((1 << bits) - 1))), level, TMode.TableAddress(0, top)))
                    return false;
            }
            return true;
        }

        private static bool Shows(ulong entry, int level, PhysicalAddress table)
            => TMode.Classify(level, entry) == EntryKind.Table && TMode.TableAddress(level, entry) == table;

        /// <summary>
        /// The raw entries a walk of <paramref name="address"/> reads, root first, up to the first that is not a table;
        /// how many were read (for diagnostics: a fault handler prints them).
        /// </summary>
        public int ReadPath<TMemory>(ref TMemory memory, VirtualAddress address, System.Span<ulong> entries)
            where TMemory : struct, IPhysicalMemory
        {
            if (!TMode.IsCanonical(address))
                return 0;
            PhysicalAddress table = RootOf(address);
            int level = 0;
            for (; level < TMode.LevelCount && level < entries.Length; level++)
            {
                ulong entry = ReadEntry(ref memory, Slot(table, TMode.Index(level, address)));
                entries[level] = entry;
                if (TMode.Classify(level, entry) != EntryKind.Table)
                    return level + 1;
                table = TMode.TableAddress(level, entry);
            }
            return level;
        }

        /// <summary>Follows <paramref name="address"/> to its page; false when any level is not present.</summary>
        public bool Translate<TMemory>(ref TMemory memory, VirtualAddress address, out Translation translation)
            where TMemory : struct, IPhysicalMemory
        {
            translation = default;
            if (!TMode.IsCanonical(address))
                return false;
            const PageProtection Inherited = PageProtection.Writable | PageProtection.Executable | PageProtection.User;
            PageProtection combined = Inherited;
            PhysicalAddress table = RootOf(address);
            for (int level = 0; level < TMode.LevelCount; level++)
            {
                ulong entry = ReadEntry(ref memory, Slot(table, TMode.Index(level, address)));
                EntryKind kind = TMode.Classify(level, entry);
                if (kind == EntryKind.NotPresent)
                    return false;
                PageProtection own = TMode.Protection(level, entry);
                combined &= own | ~Inherited;
                if (kind == EntryKind.Page)
                {
                    ulong offset = address.Value & ((1UL << TMode.LevelShift(level)) - 1);
                    translation.Address = TMode.PageAddress(level, entry) + offset;
                    translation.Level = level;
                    translation.Protection = (combined & Inherited) | (own & (PageProtection.Global | PageProtection.Device));
                    return true;
                }
                table = TMode.TableAddress(level, entry);
            }
            return false;
        }

        /// <summary>Maps the page of <paramref name="level"/>'s size at <paramref name="address"/> to <paramref name="frame"/>.</summary>
        public MapStatus Map<TMemory, TAllocator>(ref TMemory memory, ref TAllocator allocator, VirtualAddress address, PhysicalAddress frame, int level, PageProtection protection, out TlbFlush flush)
            where TMemory : struct, IPhysicalMemory
            where TAllocator : struct, IFrameAllocator
        {
            WalkCache walk = default;
            return MapWalking(ref memory, ref allocator, ref walk, address, frame, level, protection, false, out flush);
        }

        /// <summary>The full map: every check, then the walk; with <paramref name="learn"/>, what the cache's fast path needs is kept (a throw-away cache skips it).</summary>
        private MapStatus MapWalking<TMemory, TAllocator>(ref TMemory memory, ref TAllocator allocator, ref WalkCache cache, VirtualAddress address, PhysicalAddress frame, int level, PageProtection protection, bool learn, out TlbFlush flush)
            where TMemory : struct, IPhysicalMemory
            where TAllocator : struct, IFrameAllocator
        {
            flush = default;
            if (!TMode.IsCanonical(address))
                return MapStatus.NotCanonical;
            if (level < 0 || level >= TMode.LevelCount || !TMode.LevelMapsPages(level))
                return MapStatus.LevelCannotMapPages;
            int shift = TMode.LevelShift(level);
            if (!address.IsAligned(shift) || !frame.IsAligned(shift))
                return MapStatus.Misaligned;
            if (!TMode.CanHoldPage(level, frame))
                return MapStatus.FrameOutOfRange;

            MapStatus walked = WalkToTable(ref memory, ref allocator, ref cache, address, level, protection, out PhysicalAddress table);
            if (walked != MapStatus.Done)
                return walked;

            PhysicalAddress target = Slot(table, TMode.Index(level, address));
            EntryKind existing = TMode.Classify(level, ReadEntry(ref memory, target));
            if (existing != EntryKind.NotPresent)
                return existing == EntryKind.Page ? MapStatus.AlreadyMapped : MapStatus.TablesInTheWay;
            ulong made = TMode.MakePage(level, frame, protection);
            WriteEntry(ref memory, target, made);
            if (learn)
                Learn(ref cache, frame, made, level, protection);
            if (learn && cache.Key == WalkCache.KeyOf(level, protection))
            {
                cache.LeafTable = table;
                cache.LeafTag = address.Value >> cache.SpanShift;
            }
            // The entry was not present: nothing of it can be cached, so no invalidation is owed.
            flush = new TlbFlush(address, false);
            return MapStatus.Done;
        }

        /// <summary>
        /// Maps <paramref name="count"/> consecutive pages of <paramref name="level"/>'s size: one walk per table
        /// reached, then entries stored in order. Stops at the first page that cannot be mapped and says how
        /// many were (<paramref name="mapped"/>); those stay mapped. New entries need no TLB flush.
        /// </summary>
        public MapStatus MapRange<TMemory, TAllocator>(ref TMemory memory, ref TAllocator allocator, VirtualAddress address, PhysicalAddress frame, ulong count, int level, PageProtection protection, out ulong mapped)
            where TMemory : struct, IPhysicalMemory
            where TAllocator : struct, IFrameAllocator
        {
            mapped = 0;
            if (count == 0)
                return MapStatus.Done;
            if (level < 0 || level >= TMode.LevelCount || !TMode.LevelMapsPages(level))
                return MapStatus.LevelCannotMapPages;
            int shift = TMode.LevelShift(level);
            ulong size = 1UL << shift;
            if (!address.IsAligned(shift) || !frame.IsAligned(shift))
                return MapStatus.Misaligned;
            int entries = 1 << TMode.LevelIndexBits(level);
            WalkCache walk = default;
            while (mapped < count)
            {
                VirtualAddress current = address + mapped * size;
                PhysicalAddress target = frame + mapped * size;
                if (!TMode.IsCanonical(current) || current.Value < address.Value)
                    return MapStatus.NotCanonical; // the range left the mode's addresses, or wrapped past the top
                MapStatus walked = WalkToTable(ref memory, ref allocator, ref walk, current, level, protection, out PhysicalAddress table);
                if (walked != MapStatus.Done)
                    return walked;
                // The run that fits in this table. Frame fields are linear in the address, so once the run's
                // last frame fits, every entry is the previous one plus a constant stride.
                int first = TMode.Index(level, current);
                ulong run = (ulong)(entries - first) < count - mapped ? (ulong)(entries - first) : count - mapped;
                if (!TMode.CanHoldPage(level, target + (run - 1) * size))
                    run = CountHeld(level, target, run, size);
                ulong entry = TMode.MakePage(level, target, protection);
                ulong stride = run > 1 ? TMode.MakePage(level, target + size, protection) - entry : 0;
                ulong present = TMode.PresentMask(level);
                ulong stored = StoreRun(ref memory, Slot(table, first), run, entry, stride, present, out ulong existing);
                mapped += stored;
                if (stored < run)
                    return TMode.Classify(level, existing) == EntryKind.Page ? MapStatus.AlreadyMapped : MapStatus.TablesInTheWay;
                if (mapped < count && !TMode.CanHoldPage(level, frame + mapped * size))
                    return MapStatus.FrameOutOfRange;
            }
            return MapStatus.Done;
        }

        /// <summary>Removes the page mapped at <paramref name="address"/> (of any size) and frees tables left empty.</summary>
        public MapStatus Unmap<TMemory, TAllocator>(ref TMemory memory, ref TAllocator allocator, VirtualAddress address, out PhysicalAddress frame, out int level, out TlbFlush flush)
            where TMemory : struct, IPhysicalMemory
            where TAllocator : struct, IFrameAllocator
        {
            frame = default;
            level = -1;
            flush = default;
            if (!TMode.IsCanonical(address))
                return MapStatus.NotCanonical;

            TablePath path = default;
            PhysicalAddress table = RootOf(address);
            for (int current = 0; current < TMode.LevelCount; current++)
            {
                path[current] = table;
                PhysicalAddress slot = Slot(table, TMode.Index(current, address));
                ulong entry = ReadEntry(ref memory, slot);
                EntryKind kind = TMode.Classify(current, entry);
                if (kind == EntryKind.NotPresent)
                    return MapStatus.NotMapped;
                if (kind == EntryKind.Table)
                {
                    table = TMode.TableAddress(current, entry);
                    continue;
                }
                frame = TMode.PageAddress(current, entry);
                level = current;
                WriteEntry(ref memory, slot, 0);
                FreeEmptyTables(ref memory, ref allocator, ref path, address, current);
                flush = new TlbFlush(address, true);
                return MapStatus.Done;
            }
            return MapStatus.NotMapped;
        }

        /// <summary>
        /// Calls <paramref name="visitor"/> for every present page, in ascending virtual order, with the
        /// protection combined over its levels. The self-map slots are skipped (they would show every
        /// table as a page). Stops early when the visitor returns false; returns false then.
        /// </summary>
        public bool VisitPages<TMemory, TVisitor>(ref TMemory memory, ref TVisitor visitor)
            where TMemory : struct, IPhysicalMemory
            where TVisitor : struct, IPageVisitor
            => Visit(ref memory, ref visitor, Root, 0, 0, PageProtection.Writable | PageProtection.Executable | PageProtection.User)
                && (TMode.RootCount < 2 || Visit(ref memory, ref visitor, HighRoot, 0, HighHalf, PageProtection.Writable | PageProtection.Executable | PageProtection.User));

        /// <summary>The first address of a split mode's high half.</summary>
        private static ulong HighHalf => ulong.MaxValue << TMode.VirtualBits;

        private bool Visit<TMemory, TVisitor>(ref TMemory memory, ref TVisitor visitor, PhysicalAddress table, int level, ulong baseAddress, PageProtection inherited)
            where TMemory : struct, IPhysicalMemory
            where TVisitor : struct, IPageVisitor
        {
            const PageProtection Inherited = PageProtection.Writable | PageProtection.Executable | PageProtection.User;
            int entries = 1 << TMode.LevelIndexBits(level);
            int shift = TMode.LevelShift(level);
            for (int i = 0; i < entries; i++)
            {
                ulong address = baseAddress | ((ulong)i << shift);
                if (level == 0)
                    address = SelfMap<TMode>.SignExtend(address);
                if (SelfMap<TMode>.IsSlot(level, new VirtualAddress(address)))
                    continue;
                ulong entry = ReadEntry(ref memory, Slot(table, i));
                EntryKind kind = TMode.Classify(level, entry);
                if (kind == EntryKind.NotPresent)
                    continue;
                PageProtection own = TMode.Protection(level, entry);
                PageProtection combined = inherited & (own | ~Inherited);
                if (kind == EntryKind.Page)
                {
                    if (!visitor.Visit(new VirtualAddress(address), TMode.PageAddress(level, entry), level, (combined & Inherited) | (own & (PageProtection.Global | PageProtection.Device))))
                        return false;
                }
                else if (!Visit(ref memory, ref visitor, TMode.TableAddress(level, entry), level + 1, address, combined))
                    return false;
            }
            return true;
        }

        /// <summary>
        /// Calls <paramref name="visitor"/> for every table, the root first, then each table before those
        /// below it, in ascending address order; the self-map slots are not followed. False when stopped.
        /// </summary>
        public bool VisitTables<TMemory, TVisitor>(ref TMemory memory, ref TVisitor visitor)
            where TMemory : struct, IPhysicalMemory
            where TVisitor : struct, ITableVisitor
            => VisitTable(ref memory, ref visitor, Root, 0, 0) && (TMode.RootCount < 2 || VisitTable(ref memory, ref visitor, HighRoot, 0, HighHalf));

        private bool VisitTable<TMemory, TVisitor>(ref TMemory memory, ref TVisitor visitor, PhysicalAddress table, int level, ulong baseAddress)
            where TMemory : struct, IPhysicalMemory
            where TVisitor : struct, ITableVisitor
        {
            if (!visitor.VisitTable(table, level, new VirtualAddress(baseAddress)))
                return false;
            if (level == TMode.LevelCount - 1)
                return true;
            int entries = 1 << TMode.LevelIndexBits(level);
            int shift = TMode.LevelShift(level);
            for (int i = 0; i < entries; i++)
            {
                ulong address = baseAddress | ((ulong)i << shift);
                if (level == 0)
                    address = SelfMap<TMode>.SignExtend(address);
                if (SelfMap<TMode>.IsSlot(level, new VirtualAddress(address)))
                    continue;
                ulong entry = ReadEntry(ref memory, Slot(table, i));
                if (TMode.Classify(level, entry) != EntryKind.Table)
                    continue;
                if (!VisitTable(ref memory, ref visitor, TMode.TableAddress(level, entry), level + 1, address))
                    return false;
            }
            return true;
        }

        /// <summary>
        /// Stores <paramref name="run"/> entries from <paramref name="slot"/> on, each the previous plus <paramref name="stride"/>,
        /// up to the first slot already present (its entry in <paramref name="existing"/>). Returns how many were stored.
        /// </summary>
        private static ulong StoreRun<TMemory>(ref TMemory memory, PhysicalAddress slot, ulong run, ulong entry, ulong stride, ulong present, out ulong existing)
            where TMemory : struct, IPhysicalMemory
        {
            for (ulong i = 0; i < run; i++, entry += stride, slot += (ulong)TMode.EntryBytes)
            {
                existing = ReadEntry(ref memory, slot);
                if ((existing & present) != 0)
                    return i;
                WriteEntry(ref memory, slot, entry);
            }
            existing = 0;
            return run;
        }

        /// <summary>How many of <paramref name="run"/> frames from <paramref name="start"/> the level's entries can hold (they fit up to a limit).</summary>
        private static ulong CountHeld(int level, PhysicalAddress start, ulong run, ulong size)
        {
            ulong held = 0;
            while (held < run && TMode.CanHoldPage(level, start + held * size))
                held++;
            return held;
        }

        private void FreeEmptyTables<TMemory, TAllocator>(ref TMemory memory, ref TAllocator allocator, ref TablePath path, VirtualAddress address, int deepest)
            where TMemory : struct, IPhysicalMemory
            where TAllocator : struct, IFrameAllocator
        {
            // The tables the self-map's slots live in and show (PAE: the four page directories) stay for good.
            for (int current = deepest; current > 0 && current >= TMode.SelfMapLevels; current--)
            {
                PhysicalAddress table = path[current];
                int entries = 1 << TMode.LevelIndexBits(current);
                for (int i = 0; i < entries; i++)
                {
                    if (TMode.Classify(current, ReadEntry(ref memory, Slot(table, i))) != EntryKind.NotPresent)
                        return;
                }
                // Before the table can be handed out again: walk caches that know it stop being used.
                TableEpoch.Advance();
                WriteEntry(ref memory, Slot(path[current - 1], TMode.Index(current - 1, address)), 0);
                allocator.Free(table);
            }
        }

        private static MapStatus CreateTable<TMemory, TAllocator>(ref TMemory memory, ref TAllocator allocator, PhysicalAddress slot, int level, PageProtection protection, out PhysicalAddress table)
            where TMemory : struct, IPhysicalMemory
            where TAllocator : struct, IFrameAllocator
        {
            if (!allocator.TryAllocate(out table))
                return MapStatus.OutOfMemory;
            if (!TMode.CanHoldTable(level, table))
            {
                allocator.Free(table);
                return MapStatus.FrameOutOfRange;
            }
            memory.Zero(table, PageBytes);
            WriteEntry(ref memory, slot, TMode.MakeTable(level, table, TableProtection | (protection & PageProtection.User)));
            return MapStatus.Done;
        }

        private static PhysicalAddress Slot(PhysicalAddress table, int index) => table + (ulong)index * (ulong)TMode.EntryBytes;

        private static ulong ReadEntry<TMemory>(ref TMemory memory, PhysicalAddress slot) where TMemory : struct, IPhysicalMemory
            => TMode.EntryBytes == 8 ? memory.Read64(slot) : memory.Read32(slot);

        private static void WriteEntry<TMemory>(ref TMemory memory, PhysicalAddress slot, ulong entry) where TMemory : struct, IPhysicalMemory
        {
            if (TMode.EntryBytes == 8)
                memory.Write64(slot, entry);
            else
                memory.Write32(slot, (uint)entry);
        }

        [InlineArray(MaxLevels)]
        private struct TablePath
        {
            private PhysicalAddress _element;
        }
    }
}
