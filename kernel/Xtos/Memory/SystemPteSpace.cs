using System.Runtime.CompilerServices;

namespace ExectOS.Memory
{
    /// <summary>
    /// The system PTE region as page slots: which are in use and where each allocation starts, in two
    /// bitmaps, so a release must name an allocation's exact start and length.
    /// </summary>
    public struct SystemPteSpace
    {
        /// <summary>Slots tracked: the largest region any layout gives (44000 PTEs), rounded up.</summary>
        public const int Capacity = 45056;

        private const int Words = Capacity / 64;

        private VirtualAddress _base;
        private ulong _count;
        private int _pageShift;
        private Bitmap _used;
        private Bitmap _starts;

        public ulong InUse;
        public ulong Allocations;

        public readonly VirtualAddress Base => _base;

        public readonly ulong Count => _count;

        public StackError Initialize(VirtualAddress start, ulong pages, int pageShift)
        {
            if (pages > Capacity)
                return StackError.RegionTooLarge;
            _pageShift = pageShift;
            _base = start;
            _count = pages;
            _used = default;
            _starts = default;
            InUse = Allocations = 0;
            return StackError.None;
        }

        /// <summary>First fit: <paramref name="pages"/> free slots in a row; returns the first.</summary>
        public StackError Reserve(ulong pages, out ulong first)
        {
            first = 0;
            if (pages == 0 || pages > _count)
                return StackError.BadSize;
            ulong run = 0;
            for (ulong slot = 0; slot < _count; slot++)
            {
                if (IsSet(in _used, slot))
                {
                    run = 0;
                    // Skip a whole word of used slots at once.
                    if ((slot & 63) == 0 && _used[(int)(slot >> 6)] == ulong.MaxValue)
                        slot += 63;
                    continue;
                }
                if (++run == pages)
                {
                    first = slot + 1 - pages;
                    for (ulong s = first; s <= slot; s++)
                        Set(ref _used, s, true);
                    Set(ref _starts, first, true);
                    InUse += pages;
                    Allocations++;
                    return StackError.None;
                }
            }
            return StackError.NoAddressSpace;
        }

        /// <summary>The length of the allocation starting at <paramref name="first"/>, or 0 when none starts there.</summary>
        public readonly ulong LengthAt(ulong first)
        {
            if (first >= _count || !IsSet(in _starts, first))
                return 0;
            ulong end = first + 1;
            while (end < _count && IsSet(in _used, end) && !IsSet(in _starts, end))
                end++;
            return end - first;
        }

        /// <summary>The allocation holding <paramref name="slot"/>: its first slot and length; false when the slot is free.</summary>
        public readonly bool Find(ulong slot, out ulong first, out ulong length)
        {
            first = length = 0;
            if (slot >= _count || !IsSet(in _used, slot))
                return false;
            first = slot;
            while (!IsSet(in _starts, first))
                first--;
            length = LengthAt(first);
            return true;
        }

        /// <summary>Releases an allocation; refused (nothing changes) unless one of exactly <paramref name="pages"/> starts at <paramref name="first"/>.</summary>
        public StackError Release(ulong first, ulong pages)
        {
            ulong length = LengthAt(first);
            if (length == 0)
                return StackError.NotAStack;
            if (length != pages)
                return StackError.WrongSize;
            for (ulong s = first; s < first + pages; s++)
                Set(ref _used, s, false);
            Set(ref _starts, first, false);
            InUse -= pages;
            Allocations--;
            return StackError.None;
        }

        /// <summary>Whether <paramref name="slot"/> belongs to an allocation.</summary>
        public readonly bool IsUsed(ulong slot)
            => slot < _count && (Unsafe.Add(ref Unsafe.AsRef(in _used[0]), (int)(slot >> 6)) & (1UL << (int)(slot & 63))) != 0; // the count is at most Capacity: no second bounds check

        /// <summary>Whether an allocation starts at <paramref name="slot"/>.</summary>
        public readonly bool IsStart(ulong slot) => slot < _count && IsSet(in _starts, slot);

        public readonly VirtualAddress AddressOf(ulong slot) => _base + (slot << _pageShift);

        /// <summary>The slot of an address in the region, or ulong.MaxValue.</summary>
        public readonly ulong SlotOf(VirtualAddress address)
            => address.Value >= _base.Value && (address.Value - _base.Value) >> _pageShift < _count ? (address.Value - _base.Value) >> _pageShift : ulong.MaxValue;

        private static bool IsSet(in Bitmap map, ulong slot) => (map[(int)(slot >> 6)] & (1UL << (int)(slot & 63))) != 0;

        private static void Set(ref Bitmap map, ulong slot, bool value)
        {
            if (value)
                map[(int)(slot >> 6)] |= 1UL << (int)(slot & 63);
            else
                map[(int)(slot >> 6)] &= ~(1UL << (int)(slot & 63));
        }

        [InlineArray(Words)]
        private struct Bitmap
        {
            private ulong _element;
        }
    }
}
