using ExectOS.Hardware;
using ExectOS.Memory;

namespace ExectOS.Kernel
{
    /// <summary>
    /// Physical memory through a hyperspace page: its last-level entry (reached through the self-map)
    /// is pointed at the frame wanted, one frame at a time. That entry's own slot reads as the planned
    /// value while it is borrowed, so a walk of the tables sees them as the loader left them. Each processor
    /// has a page of its own (<see cref="MemoryManager{TMode}.Physical"/>): the loader's, then the pages after it
    /// in the same last-level table, empty until borrowed. A window is only ever used by its processor, so
    /// flushing its entry from that processor's TLB is enough.
    /// </summary>
    internal unsafe struct HyperspaceMemory<TMode> : IPhysicalMemory where TMode : struct, IPagingMode
    {
        private readonly VirtualAddress _window;
        private readonly byte* _entry;
        private readonly PhysicalAddress _ownSlot;
        private readonly ulong _planned;
        private ulong _current;

        public HyperspaceMemory(VirtualAddress window)
        {
            _window = window;
            VirtualAddress entry = SelfMap<TMode>.LeafEntry(window);
            _entry = (byte*)(nuint)entry.Value;
            // The table holding that entry, through the self-map once more: the entry of the entry's address.
            int leaf = TMode.LevelCount - 1;
            ulong parent = ReadEntry((byte*)(nuint)SelfMap<TMode>.LeafEntry(entry).Value);
            _ownSlot = TMode.TableAddress(leaf - 1, parent) + (entry.Value & ((1UL << TMode.PageShift) - 1));
            _planned = ReadEntry(_entry);
            _current = Planned(_planned);
        }

        // The frame the planned entry shows, or none when the window starts empty (every processor's but the first).
        private static ulong Planned(ulong entry)
            => TMode.Classify(TMode.LevelCount - 1, entry) == EntryKind.Page ? TMode.PageAddress(TMode.LevelCount - 1, entry).Value : ulong.MaxValue;

        // Entries are as wide as the mode says (4 bytes in 2-level i686 paging, 8 elsewhere).
        private static ulong ReadEntry(byte* at) => TMode.EntryBytes == 8 ? *(ulong*)at : *(uint*)at;

        private static void WriteEntry(byte* at, ulong value)
        {
            if (TMode.EntryBytes == 8)
                *(ulong*)at = value;
            else
                *(uint*)at = (uint)value;
        }

        /// <summary>Puts the planned frame back.</summary>
        public void Release()
        {
            WriteEntry(_entry, _planned);
            Processor.InvalidatePage(_window);
            _current = Planned(_planned);
        }

        private byte* At(PhysicalAddress address)
        {
            ulong mask = (1UL << TMode.PageShift) - 1;
            ulong frame = address.Value & ~mask;
            if (frame != _current)
            {
                WriteEntry(_entry, TMode.MakePage(TMode.LevelCount - 1, new PhysicalAddress(frame), PageProtection.Writable));
                Processor.InvalidatePage(_window);
                _current = frame;
            }
            return (byte*)(nuint)_window.Value + (address.Value & mask);
        }

        // The window's own slot reads as planned while it is borrowed: the low word of a 64-bit read, or all of it.
        public ulong Read64(PhysicalAddress address) => address == _ownSlot ? _planned : *(ulong*)At(address);
        public uint Read32(PhysicalAddress address) => address == _ownSlot ? (uint)_planned : *(uint*)At(address);
        public void Write64(PhysicalAddress address, ulong value) => *(ulong*)At(address) = value;
        public void Write32(PhysicalAddress address, uint value) => *(uint*)At(address) = value;

        public void Zero(PhysicalAddress address, ulong bytes)
        {
            for (ulong done = 0; done < bytes; done += 8)
                Write64(address + done, 0);
        }
    }
}
