using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using ExectOS.Memory;

namespace ExectOS.Tests.Memory;

/// <summary>Physical memory as a sparse set of host pages, so tables can live anywhere up to 2^64 (PAE above 4 GiB included).</summary>
internal sealed class SparseMemory
{
    private readonly Dictionary<ulong, byte[]> _pages = new();

    public Span<byte> At(PhysicalAddress address, int length)
    {
        ulong page = address.Value >> 12;
        int offset = (int)(address.Value & 0xFFF);
        if (offset + length > 4096)
            throw new InvalidOperationException($"access at {address.Value:X} crosses a page");
        if (!_pages.TryGetValue(page, out byte[]? bytes))
            _pages[page] = bytes = new byte[4096];
        return bytes.AsSpan(offset, length);
    }
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

    public void Zero(PhysicalAddress address, ulong bytes)
    {
        for (ulong done = 0; done < bytes; done += 4096)
            Memory.At(address + done, 4096).Clear();
    }

    private static PhysicalAddress Aligned(PhysicalAddress address, int size)
        => (address.Value & (ulong)(size - 1)) == 0 ? address : throw new InvalidOperationException($"misaligned {size}-byte entry access at {address.Value:X}");
}

/// <summary>Hands out page frames from a chosen base (say, just below a mode's physical limit) and tracks what is live.</summary>
internal struct TrackingAllocator : IFrameAllocator
{
    public HashSet<ulong> Live;
    public ulong Next;
    public int Remaining;

    public TrackingAllocator(ulong firstFrame, int limit = int.MaxValue)
    {
        Live = new HashSet<ulong>();
        Next = firstFrame;
        Remaining = limit;
    }

    public bool TryAllocate(out PhysicalAddress frame)
    {
        frame = default;
        if (Remaining == 0)
            return false;
        Remaining--;
        frame = new PhysicalAddress(Next);
        Live.Add(Next);
        Next += 4096;
        return true;
    }

    public void Free(PhysicalAddress frame)
    {
        if (!Live.Remove(frame.Value))
            throw new InvalidOperationException($"frame {frame.Value:X} freed but not allocated");
    }
}
