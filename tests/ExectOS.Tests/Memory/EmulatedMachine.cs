using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using ExectOS.Memory;

namespace ExectOS.Tests.Memory;

/// <summary>
/// Physical memory as a sparse set of host pages, so tables can live anywhere up to 2^64 (PAE above 4 GiB included).
/// Its granule is the host's storage unit, not a paging mode's page: <see cref="Fill"/> and <see cref="AnyExcept"/>
/// span pages of any size, and an entry never crosses a granule.
/// </summary>
internal sealed class SparseMemory
{
    public const int GranuleShift = 12;
    public const int Granule = 1 << GranuleShift;

    // Concurrent: the multiprocessor tests touch different frames from several threads at once.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<ulong, byte[]> _pages = new();

    public Span<byte> At(PhysicalAddress address, int length)
    {
        ulong page = address.Value >> GranuleShift;
        int offset = (int)(address.Value & (Granule - 1));
        if (offset + length > Granule)
            throw new InvalidOperationException($"access at {address.Value:X} crosses a granule");
        if (!_pages.TryGetValue(page, out byte[]? bytes))
            bytes = _pages.GetOrAdd(page, _ => new byte[Granule]);
        return bytes.AsSpan(offset, length);
    }

    /// <summary>Whether any byte of [address, address + bytes) differs from <paramref name="value"/> (granules never touched read as zero).</summary>
    public bool AnyExcept(PhysicalAddress address, ulong bytes, byte value)
    {
        for (ulong done = 0; done < bytes; done += (ulong)Chunk(address + done, bytes - done))
        {
            if (At(address + done, Chunk(address + done, bytes - done)).IndexOfAnyExcept(value) >= 0)
                return true;
        }
        return false;
    }

    /// <summary>Fills [address, address + bytes) with <paramref name="value"/>.</summary>
    public void Fill(PhysicalAddress address, ulong bytes, byte value)
    {
        for (ulong done = 0; done < bytes; done += (ulong)Chunk(address + done, bytes - done))
            At(address + done, Chunk(address + done, bytes - done)).Fill(value);
    }

    // The bytes from an address to the end of its granule, at most those left: a range need not start on a granule.
    private static int Chunk(PhysicalAddress address, ulong left)
        => (int)Math.Min((ulong)(Granule - (int)(address.Value & (Granule - 1))), left);
}

/// <summary>IPhysicalMemory over <see cref="SparseMemory"/>; counts accesses so tests can see work done.</summary>
internal struct EmulatedMemory : IPhysicalMemory
{
    public SparseMemory Memory;
    public long Writes;

    public EmulatedMemory(SparseMemory memory)
    {
        Memory = memory;
        Writes = 0;
    }

    public ulong Read64(PhysicalAddress address) => BinaryPrimitives.ReadUInt64LittleEndian(Memory.At(Aligned(address, 8), 8));

    public void Write64(PhysicalAddress address, ulong value)
    {
        Writes++;
        BinaryPrimitives.WriteUInt64LittleEndian(Memory.At(Aligned(address, 8), 8), value);
    }

    public uint Read32(PhysicalAddress address) => BinaryPrimitives.ReadUInt32LittleEndian(Memory.At(Aligned(address, 4), 4));

    public void Write32(PhysicalAddress address, uint value)
    {
        Writes++;
        BinaryPrimitives.WriteUInt32LittleEndian(Memory.At(Aligned(address, 4), 4), value);
    }

    public void Zero(PhysicalAddress address, ulong bytes) => Memory.Fill(address, bytes, 0);

    private static PhysicalAddress Aligned(PhysicalAddress address, int size)
        => (address.Value & (ulong)(size - 1)) == 0 ? address : throw new InvalidOperationException($"misaligned {size}-byte entry access at {address.Value:X}");
}

/// <summary>Hands out page frames of a mode's page size from a chosen base (say, just below its physical limit) and tracks what is live.</summary>
internal struct TrackingAllocator : IFrameAllocator
{
    public HashSet<ulong> Live;
    public ulong Next;
    public int Remaining;
    private readonly ulong _pageBytes;

    public TrackingAllocator(ulong firstFrame, int pageShift, int limit = int.MaxValue)
    {
        Live = new HashSet<ulong>();
        Next = firstFrame;
        Remaining = limit;
        _pageBytes = 1UL << pageShift;
    }

    /// <summary>An allocator handing out <typeparamref name="TMode"/>'s pages from <paramref name="firstFrame"/> (an address).</summary>
    public static TrackingAllocator For<TMode>(ulong firstFrame, int limit = int.MaxValue) where TMode : struct, IPagingMode
        => new(firstFrame, TMode.PageShift, limit);

    public bool TryAllocate(out PhysicalAddress frame)
    {
        frame = default;
        if (Remaining == 0)
            return false;
        Remaining--;
        frame = new PhysicalAddress(Next);
        Live.Add(Next);
        Next += _pageBytes;
        return true;
    }

    public void Free(PhysicalAddress frame)
    {
        if (!Live.Remove(frame.Value))
            throw new InvalidOperationException($"frame {frame.Value:X} freed but not allocated");
    }
}

/// <summary>A mode's entries in emulated memory, at the mode's entry width: what tests read and tamper with.</summary>
internal static class Entries
{
    public static PhysicalAddress Slot<TMode>(PhysicalAddress table, int index) where TMode : struct, IPagingMode
        => table + (ulong)index * (ulong)TMode.EntryBytes;

    public static ulong Read<TMode>(EmulatedMemory memory, PhysicalAddress slot) where TMode : struct, IPagingMode
        => TMode.EntryBytes == 8 ? memory.Read64(slot) : memory.Read32(slot);

    public static void Write<TMode>(EmulatedMemory memory, PhysicalAddress slot, ulong entry) where TMode : struct, IPagingMode
    {
        if (TMode.EntryBytes == 8)
            memory.Write64(slot, entry);
        else
            memory.Write32(slot, checked((uint)entry));
    }

    /// <summary>
    /// The loader's tables at <paramref name="root"/>: in a split mode the high half's root comes first from
    /// <paramref name="allocator"/>, cleared (the loader allocates it as the first table).
    /// </summary>
    public static PageTable<TMode> Tables<TMode>(ref EmulatedMemory memory, ref TrackingAllocator allocator, ulong root) where TMode : struct, IPagingMode
    {
        if (TMode.RootCount < 2)
            return new PageTable<TMode>(new PhysicalAddress(root));
        if (!allocator.TryAllocate(out PhysicalAddress high))
            throw new InvalidOperationException("no frame for the high half's root");
        memory.Zero(high, 1UL << TMode.PageShift);
        return new PageTable<TMode>(new PhysicalAddress(root), high);
    }

    /// <summary>The slot of <paramref name="address"/>'s entry at <paramref name="level"/>, through tables that must exist above it.</summary>
    public static PhysicalAddress SlotOf<TMode>(EmulatedMemory memory, PageTable<TMode> table, VirtualAddress address, int level) where TMode : struct, IPagingMode
    {
        PhysicalAddress current = table.RootOf(address);
        for (int above = 0; above < level; above++)
        {
            ulong entry = Read<TMode>(memory, Slot<TMode>(current, TMode.Index(above, address)));
            if (TMode.Classify(above, entry) != EntryKind.Table)
                throw new InvalidOperationException($"no table at level {above + 1} for {address.Value:X}");
            current = TMode.TableAddress(above, entry);
        }
        return Slot<TMode>(current, TMode.Index(level, address));
    }

    /// <summary>What a leaf of the mode keeps of <paramref name="protection"/> (2-level i686 cannot refuse execution).</summary>
    public static PageProtection Expressible<TMode>(PageProtection protection) where TMode : struct, IPagingMode
    {
        int leaf = TMode.LevelCount - 1;
        return TMode.Protection(leaf, TMode.MakePage(leaf, default, protection)) & (PageProtection.Writable | PageProtection.Executable | PageProtection.User);
    }
}
