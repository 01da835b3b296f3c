using System.Runtime.CompilerServices;
using ExectOS.Diagnostics;
using ExectOS.Threading;

namespace ExectOS.Memory
{
    /// <summary>Statistics per tag. Part of <see cref="Pool"/>; the fields are in Pool.cs.</summary>
    public unsafe partial struct Pool
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void Account(uint tag, ulong bytes)
        {
            PoolTagStats* stats = TagEntry(tag);
            stats->Allocations++;
            stats->BytesInUse += bytes;
            _counters.Allocations++;
            _counters.BytesInUse += bytes;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void Release(uint tag, ulong bytes)
        {
            PoolTagStats* stats = TagEntry(tag);
            stats->Frees++;
            stats->BytesInUse -= bytes;
            _counters.Frees++;
            _counters.BytesInUse -= bytes;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private PoolTagStats* TagEntry(uint tag)
        {
            if (tag == _lastTag && _lastTagEntry != null)
                return _lastTagEntry;
            PoolTagStats* entry = FindTag(tag);
            _lastTag = tag;
            _lastTagEntry = entry;
            return entry;
        }

        private PoolTagStats* FindTag(uint tag)
        {
            int index = (int)((tag * 0x9E3779B1u) >> 24);
            for (int probe = 0; probe < TagCapacity; probe++)
            {
                PoolTagStats* entry = (PoolTagStats*)Unsafe.AsPointer(ref _tags[(index + probe) & (TagCapacity - 1)]);
                if (entry->Tag == tag)
                    return entry;
                if (entry->Tag == 0)
                {
                    entry->Tag = tag;
                    return entry;
                }
            }
            _overflow.Tag = OverflowTag;
            return (PoolTagStats*)Unsafe.AsPointer(ref _overflow);
        }

        /// <summary>The statistics of one tag; false when the tag never allocated here.</summary>
        public readonly bool TryGetTag(uint tag, out PoolTagStats stats)
        {
            int index = (int)((tag * 0x9E3779B1u) >> 24);
            for (int probe = 0; probe < TagCapacity; probe++)
            {
                int slot = (index + probe) & (TagCapacity - 1);
                PoolTagStats entry = _tags[slot];
                if (entry.Tag == tag)
                {
                    stats = WithParts(entry, TagSlot(slot));
                    return true;
                }
                if (entry.Tag == 0)
                    break;
            }
            stats = default;
            return false;
        }

        /// <summary>Tag table slot <paramref name="index"/> (0 to <see cref="TagCapacity"/>, the last being the overflow entry); Tag 0 when empty.</summary>
        public readonly PoolTagStats TagAt(int index) => WithParts(index < TagCapacity ? _tags[index] : _overflow, TagSlot(index));

        /// <summary>The address of tag table slot <paramref name="index"/> (the overflow entry past the last).</summary>
        private readonly PoolTagStats* TagSlot(int index)
            => index < TagCapacity ? (PoolTagStats*)Unsafe.AsPointer(ref Unsafe.AsRef(in _tags[index])) : (PoolTagStats*)Unsafe.AsPointer(ref Unsafe.AsRef(in _overflow));
    }
}
