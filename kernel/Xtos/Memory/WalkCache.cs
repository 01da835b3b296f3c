using System.Runtime.CompilerServices;
using ExectOS.Hardware;

namespace ExectOS.Memory
{
    /// <summary>
    /// The tables a map walk last passed through, one per level, so the next walk starts at the deepest table the
    /// two addresses share instead of at the root (<see cref="PageTable{TMode}.Map{TMemory, TAllocator}(ref TMemory, ref TAllocator, ref WalkCache, VirtualAddress, PhysicalAddress, int, PageProtection, out TlbFlush)"/>).
    /// It cannot go stale: it is keyed by the roots and by <see cref="TableEpoch"/>, which every freed table moves, and a
    /// cache from another root or epoch is refilled from the root. One cache serves one hierarchy in one memory;
    /// <c>default</c> is empty.
    /// </summary>
    public struct WalkCache
    {
        internal const int MaxLevels = 8;

        /// <summary>The hierarchy's roots (<see cref="PageTable{TMode}.Root"/>, and a split mode's high half's).</summary>
        internal PhysicalAddress Root;
        internal PhysicalAddress HighRoot;
        internal nuint Epoch;
        internal ulong Address;

        /// <summary>Levels whose table is known for <see cref="Address"/>: <see cref="Tables"/>[0] (the root) up to [Known - 1].</summary>
        internal int Known;

        /// <summary>Every entry above the known tables allows user access (a user mapping may start below the root).</summary>
        internal bool User;

        internal TableArray Tables;

        // What the last map at one level and protection learnt, so the next page of the same table needs no walk and
        // no generated call: the table, the level's shifts and masks, and an entry made there, from which any frame's
        // entry is an offset (frame fields are linear, as MapRange relies on) while the frame is no higher than the
        // highest the level holds (frames fit up to a limit). Key is 0 (as in default) when nothing is learnt.

        internal ulong Key;
        internal PhysicalAddress LeafTable;
        /// <summary>The address bits that select <see cref="LeafTable"/> (those from <see cref="SpanShift"/> up); equal bits mean the same table, and a canonical address.</summary>
        internal ulong LeafTag;
        internal int SpanShift;
        internal ulong PageMask;
        /// <summary>The slot's byte offset in its table is (address &gt;&gt; SlotShift) &amp; SlotMask.</summary>
        internal int SlotShift;
        internal ulong SlotMask;
        internal ulong PresentMask;
        internal ulong Frame;
        internal ulong Entry;
        /// <summary>A frame's entry is <see cref="Entry"/> plus its distance from <see cref="Frame"/> shifted right by this (both aligned, so exact).</summary>
        internal int FrameShift;
        internal ulong HeldMax;

        /// <summary>No address has this tag: an empty leaf.</summary>
        internal const ulong NoTag = ulong.MaxValue;

        internal static ulong KeyOf(int level, PageProtection protection) => ((ulong)(uint)protection << 32) | (uint)(level + 1);

        /// <summary>Forgets every table (the next walk starts at the root).</summary>
        public void Clear()
        {
            Known = 0;
            Key = 0;
        }

        [InlineArray(MaxLevels)]
        internal struct TableArray
        {
            private PhysicalAddress _element;
        }
    }

    /// <summary>
    /// A count of page tables freed, by every hierarchy: what keys <see cref="WalkCache"/>. A walk cache remembers the
    /// epoch it was filled in and is used only while the epoch is unchanged, so no cached table can be one that was
    /// freed (and perhaps reused) since. Hierarchies share the count; one's frees only make another's caches walk again.
    /// A word wide: on a 32-bit kernel a cache left unused across exactly 2^32 frees would be trusted again, which no
    /// caller does (caches live for one run of maps).
    /// </summary>
    public static unsafe class TableEpoch
    {
        private static nuint s_value;

        public static nuint Current => s_value;

        /// <summary>Called before a table leaves its hierarchy. Atomic, so frees on other processors (or test threads) are never lost.</summary>
        internal static void Advance()
        {
            fixed (nuint* value = &s_value)
            {
                nuint seen;
                do
                    seen = Atomic.Read(value);
                while (Atomic.CompareExchange(value, seen + 1, seen) != seen);
            }
        }
    }
}
