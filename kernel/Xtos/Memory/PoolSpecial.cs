using System.Runtime.CompilerServices;
using ExectOS.Diagnostics;
using ExectOS.Threading;

namespace ExectOS.Memory
{
    /// <summary>The special pool: one allocation per data page, against a guard page, freed pages kept in quarantine. Part of <see cref="Pool"/>; the fields are in Pool.cs.</summary>
    public unsafe partial struct Pool
    {
        private void* AllocateSpecial<TPages>(ref TPages pages, ulong bytes, uint tag, ref PoolProblem problem) where TPages : struct, IPoolPages
        {
            // A data page and the guard page after it, which is never mapped. When the range is full, the
            // oldest quarantined pair is given up first; when that is not enough either, the caller falls back
            // to the ordinary pool (as NT's special pool does).
            ulong slot;
            while (_special.Reserve(2, out slot) != StackError.None)
            {
                if (!ReleaseOldestQuarantined())
                    return null;
            }
            VirtualAddress va = _special.AddressOf(slot);
            if (!pages.Commit(va, 1, _type == PoolType.Paged, ref problem))
            {
                _special.Release(slot, 2);
                return null;
            }
            _counters.CommittedPages++;
            byte* page = (byte*)(va.Value + (ulong)_displacement);
            byte* data = page + _pageSize - SpecialRound(bytes);
            var header = (SpecialHeader*)page;
            header->Tag = tag;
            header->Requested = (uint)bytes;
            header->Magic = SpecialMagic(page, tag, bytes);
            byte pattern = SpecialPattern(page);
            for (byte* p = page + sizeof(SpecialHeader); p < data; p++)
                *p = pattern;
            for (byte* p = data + bytes; p < page + _pageSize; p++)
                *p = pattern;
            _counters.SpecialAllocations++;
            Account(tag, bytes);
            return data;
        }

        private PoolProblem FreeSpecial<TPages>(ref TPages pages, byte* address, uint tag) where TPages : struct, IPoolPages
        {
            ulong slot = _special.SlotOf(new VirtualAddress((ulong)address - (ulong)_displacement));
            ulong first = slot & ~1UL;
            if ((slot & 1) != 0 || _special.LengthAt(first) != 2 || IsQuarantined(first))
                return PoolProblem.SpecialPool((ulong)address, 0, 0, SpecialPoolCheck.NotAllocated);
            byte* page = (byte*)(_special.AddressOf(first).Value + (ulong)_displacement);
            var header = (SpecialHeader*)page;
            if (header->Magic != SpecialMagic(page, header->Tag, header->Requested))
                return PoolProblem.SpecialPool((ulong)address, (ulong)page, 0, SpecialPoolCheck.NotAllocated);
            ulong bytes = header->Requested;
            byte* data = page + _pageSize - SpecialRound(bytes);
            if (address != data)
                return PoolProblem.SpecialPool((ulong)address, bytes, (ulong)data, SpecialPoolCheck.BadAddress);
            if (tag != 0 && header->Tag != tag)
                return PoolProblem.Of(BadPoolCallerCheck.WrongTag, (ulong)address, tag, header->Tag);
            byte pattern = SpecialPattern(page);
            for (byte* p = page + sizeof(SpecialHeader); p < data; p++)
            {
                if (*p != pattern)
                    return PoolProblem.SpecialPool((ulong)address, (ulong)p, 0, SpecialPoolCheck.BytesBeforeCorrupt);
            }
            for (byte* p = data + bytes; p < page + _pageSize; p++)
            {
                if (*p != pattern)
                    return PoolProblem.SpecialPool((ulong)address, (ulong)p, 0, SpecialPoolCheck.BytesAfterCorrupt);
            }
            PoolProblem problem = default;
            uint owner = header->Tag;
            header->Magic = 0;
            pages.Decommit(_special.AddressOf(first), 1, false, ref problem);
            // Kept reserved (unmapped) for a while; the oldest quarantined pair is released instead.
            ulong oldest = _quarantine[_quarantineNext];
            if (oldest != 0)
                _special.Release(oldest - 1, 2);
            _quarantine[_quarantineNext] = first + 1;
            _quarantineNext = (_quarantineNext + 1) % SpecialQuarantine;
            _counters.CommittedPages--;
            _counters.SpecialAllocations--;
            Release(owner, bytes);
            return problem;
        }

        /// <summary>Room a special allocation takes at its page's end: its bytes rounded to 16, at least 16 (a zero-byte one is still inside its page).</summary>
        private static ulong SpecialRound(ulong bytes) => bytes == 0 ? UnitSize : Round(bytes);

        private bool ReleaseOldestQuarantined()
        {
            for (int i = 0; i < SpecialQuarantine; i++)
            {
                int index = (_quarantineNext + i) % SpecialQuarantine;
                if (_quarantine[index] != 0)
                {
                    _special.Release(_quarantine[index] - 1, 2);
                    _quarantine[index] = 0;
                    return true;
                }
            }
            return false;
        }

        private readonly bool IsQuarantined(ulong first)
        {
            for (int i = 0; i < SpecialQuarantine; i++)
            {
                if (_quarantine[i] == first + 1)
                    return true;
            }
            return false;
        }

        private readonly ulong SpecialMagic(byte* page, uint tag, ulong bytes) => (((ulong)page ^ _cookie) * 0x9E3779B97F4A7C15UL) ^ ((ulong)tag << 32 | bytes) ^ 0x5370634C;

        private readonly byte SpecialPattern(byte* page) => (byte)(0xA5 ^ (byte)(_cookie >> 40) ^ (byte)((ulong)page >> _pageShift));

        private struct SpecialHeader
        {
            public ulong Magic;
            public uint Tag;
            public uint Requested;
        }
    }
}
