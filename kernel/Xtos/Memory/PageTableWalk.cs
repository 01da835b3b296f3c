using System.Runtime.CompilerServices;

namespace ExectOS.Memory
{
    /// <summary>Walking to the table that holds an address, and the walk cache that lets pages mapped one after another skip the walk.</summary>
    public readonly partial struct PageTable<TMode>
    {
        /// <summary>
        /// <see cref="Map{TMemory, TAllocator}(ref TMemory, ref TAllocator, VirtualAddress, PhysicalAddress, int, PageProtection, out TlbFlush)"/>
        /// starting the walk at the deepest table <paramref name="cache"/> shares with <paramref name="address"/>: pages
        /// mapped one after another walk from the root once per table.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public MapStatus Map<TMemory, TAllocator>(ref TMemory memory, ref TAllocator allocator, ref WalkCache cache, VirtualAddress address, PhysicalAddress frame, int level, PageProtection protection, out TlbFlush flush)
            where TMemory : struct, IPhysicalMemory
            where TAllocator : struct, IFrameAllocator
        {
            // The next page of the table mapped last: every check the full path makes is known to pass (or is one
            // comparison), so it takes no generated call. Anything else, or any doubt, takes the full path.
            if (cache.Key == WalkCache.KeyOf(level, protection) && (address.Value >> cache.SpanShift) == cache.LeafTag
                && cache.Root == Root && cache.HighRoot == HighRoot && cache.Epoch == TableEpoch.Current
                && ((address.Value | frame.Value) & cache.PageMask) == 0 && frame.Value <= cache.HeldMax)
            {
                PhysicalAddress slot = cache.LeafTable + ((address.Value >> cache.SlotShift) & cache.SlotMask);
                if ((ReadEntry(ref memory, slot) & cache.PresentMask) == 0)
                {
                    WriteEntry(ref memory, slot, cache.Entry + (ulong)((long)(frame.Value - cache.Frame) >> cache.FrameShift));
                    flush = new TlbFlush(address, false);
                    return MapStatus.Done;
                }
            }
            return MapWalking(ref memory, ref allocator, ref cache, address, frame, level, protection, true, out flush);
        }

        /// <summary>Keeps what the fast path of <see cref="Map{TMemory, TAllocator}(ref TMemory, ref TAllocator, ref WalkCache, VirtualAddress, PhysicalAddress, int, PageProtection, out TlbFlush)"/> needs after a full map of <paramref name="frame"/>.</summary>
        private static void Learn(ref WalkCache cache, PhysicalAddress frame, ulong made, int level, PageProtection protection)
        {
            ulong key = WalkCache.KeyOf(level, protection);
            if (cache.Key == key)
                return;
            cache.Key = 0;
            // Level 0's table is the root, which the span test cannot vouch for (it would take any address).
            int shift = TMode.LevelShift(level);
            ulong size = 1UL << shift;
            if (level == 0 || frame.Value + size < frame.Value || !TMode.CanHoldPage(level, frame + size))
                return;
            ulong stride = TMode.MakePage(level, frame + size, protection) - made;
            // One page more moves the frame field by a power of two no larger than the page (x86: the page, RISC-V: 1 << 10).
            if (stride == 0 || (stride & (stride - 1)) != 0 || stride > size)
                return;
            int entryShift = TMode.EntryBytes == 8 ? 3 : 2;
            cache.SpanShift = TMode.LevelShift(level - 1);
            cache.PageMask = size - 1;
            cache.SlotShift = shift - entryShift;
            cache.SlotMask = ((1UL << TMode.LevelIndexBits(level)) - 1) << entryShift;
            cache.PresentMask = TMode.PresentMask(level);
            cache.Frame = frame.Value;
            cache.Entry = made;
            cache.FrameShift = shift - Log2(stride);
            cache.HeldMax = HighestHeld(level, frame.Value, size);
            cache.LeafTag = WalkCache.NoTag;
            cache.Key = key;
        }

        private static int Log2(ulong power)
        {
            int log = 0;
            while ((1UL << log) != power)
                log++;
            return log;
        }

        /// <summary>The highest frame of the level's size that its entries hold, found from <paramref name="held"/> (one they hold) by halving, as frames fit up to a limit.</summary>
        private static ulong HighestHeld(int level, ulong held, ulong size)
        {
            ulong beyond = ulong.MaxValue & ~(size - 1);
            if (TMode.CanHoldPage(level, new PhysicalAddress(beyond)))
                return beyond;
            while (beyond - held > size)
            {
                ulong middle = held + (((beyond - held) >> 1) & ~(size - 1));
                if (TMode.CanHoldPage(level, new PhysicalAddress(middle)))
                    held = middle;
                else
                    beyond = middle;
            }
            return held;
        }

        /// <summary>
        /// Finds (creating what is missing) the table at <paramref name="level"/> that holds <paramref name="address"/>,
        /// from the deepest table <paramref name="cache"/> knows on its path (the root when it knows none), and leaves
        /// the path walked in the cache.
        /// </summary>
        private MapStatus WalkToTable<TMemory, TAllocator>(ref TMemory memory, ref TAllocator allocator, ref WalkCache cache, VirtualAddress address, int level, PageProtection protection, out PhysicalAddress table)
            where TMemory : struct, IPhysicalMemory
            where TAllocator : struct, IFrameAllocator
        {
            bool user = (protection & PageProtection.User) != 0;
            int start = SharedLevels(ref cache, address, level, user);
            table = cache.Tables[start];
            cache.Known = start + 1;
            cache.Address = address.Value;
            // The entries above the start allow user access when the cache said so; those walked now, when the mapping is a user one.
            cache.User = (start == 0 || cache.User) && user;
            for (int current = start; current < level; current++)
            {
                PhysicalAddress slot = Slot(table, TMode.Index(current, address));
                ulong entry = ReadEntry(ref memory, slot);
                switch (TMode.Classify(current, entry))
                {
                    case EntryKind.Page:
                        return MapStatus.LargePageInTheWay;
                    case EntryKind.NotPresent:
                        MapStatus created = CreateTable(ref memory, ref allocator, slot, current, protection, out table);
                        if (created != MapStatus.Done)
                            return created;
                        break;
                    default:
                        table = TMode.TableAddress(current, entry);
                        // A user mapping needs every table above it to allow user access.
                        if (user && (TMode.Protection(current, entry) & PageProtection.User) == 0)
                            WriteEntry(ref memory, slot, TMode.MakeTable(current, table, TableProtection | PageProtection.User));
                        break;
                }
                cache.Tables[current + 1] = table;
                cache.Known = current + 2;
            }
            return MapStatus.Done;
        }

        /// <summary>
        /// The deepest level, at most <paramref name="level"/>, whose table <paramref name="cache"/> holds for
        /// <paramref name="address"/> too (their indices agree above it); 0, with the cache reset to this root and the
        /// current epoch, when the cache is of another hierarchy or epoch, or cannot vouch for user access; the root of the
        /// address's half is then the walk's start.
        /// </summary>
        private int SharedLevels(ref WalkCache cache, VirtualAddress address, int level, bool user)
        {
            if (cache.Known == 0 || cache.Root != Root || cache.HighRoot != HighRoot || cache.Epoch != TableEpoch.Current || (user && !cache.User))
            {
                cache.Root = Root;
                cache.HighRoot = HighRoot;
                cache.Epoch = TableEpoch.Current;
                cache.LeafTag = WalkCache.NoTag;
                cache.Tables[0] = RootOf(address);
                cache.Known = 1;
                return 0;
            }
            int shared = cache.Known - 1 < level ? cache.Known - 1 : level;
            ulong differs = address.Value ^ cache.Address;
            while (shared > 0 && (differs >> TMode.LevelShift(shared - 1)) != 0)
                shared--;
            // Nothing shared: a split mode's other half has the other root.
            if (shared == 0)
                cache.Tables[0] = RootOf(address);
            return shared;
        }
    }
}
