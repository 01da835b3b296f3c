using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using ExectOS.Memory;
using ExectOS.Paging.X86;

namespace ExectOS.Bench;

/// <summary>Physical memory as one block of host memory at a fixed physical base: what a direct map gives the kernel.</summary>
internal unsafe struct FlatMemory : IPhysicalMemory
{
    public byte* Host;
    public ulong Base;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private byte* At(PhysicalAddress address) => Host + (address.Value - Base);

    public ulong Read64(PhysicalAddress address) => *(ulong*)At(address);
    public void Write64(PhysicalAddress address, ulong value) => *(ulong*)At(address) = value;
    public uint Read32(PhysicalAddress address) => *(uint*)At(address);
    public void Write32(PhysicalAddress address, uint value) => *(uint*)At(address) = value;
    public void Zero(PhysicalAddress address, ulong bytes) => new Span<byte>(At(address), (int)bytes).Clear();
}

/// <summary>Hands out consecutive frames: the cheapest allocator, so the walker's own cost is what is measured.</summary>
internal struct BumpAllocator : IFrameAllocator
{
    public ulong Next;

    public bool TryAllocate(out PhysicalAddress frame)
    {
        frame = new PhysicalAddress(Next);
        Next += 4096;
        return true;
    }

    public void Free(PhysicalAddress frame) { }
}

/// <summary>Mapping 1 GiB as 4 KiB pages: the generated walker against a loop storing the same entries.</summary>
internal static unsafe class PageTableBenchmarks
{
    private const ulong TableBase = 0x1000_0000;         // where page tables live, physically
    private const ulong RegionBytes = 4UL << 20;          // root + PDPT + PD + 512 PTs fit easily
    private const ulong MappedBase = 0xFFFF_8000_0000_0000; // a kernel-half address, 1 GiB aligned
    private const ulong FrameBase = 0x4000_0000;
    private const int Pages = 1 << 18;                    // 1 GiB / 4 KiB

    public static Benchmark[] MapOneGiB()
    {
        byte* host = (byte*)NativeMemory.AlignedAlloc((nuint)RegionBytes, 4096);
        var memory = new FlatMemory { Host = host, Base = TableBase };
        Action clear = () => new Span<byte>(host, (int)RegionBytes).Clear();
        return
        [
            new Benchmark("map 1 GiB in 4 KiB pages, one Map per page (Amd64)", "pages", Pages,
                "generated walker", () => MapWithWalker(memory), "plain store loop", () => StoreEntries(host), clear),
            new Benchmark("map 1 GiB in 4 KiB pages, one MapRange (Amd64)", "pages", Pages,
                "generated walker", () => MapRangeWithWalker(memory), "plain store loop", () => StoreEntries(host), clear),
        ];
    }

    private static void MapRangeWithWalker(FlatMemory memory)
    {
        var allocator = new BumpAllocator { Next = TableBase };
        PageTable<Amd64>.Create(ref memory, ref allocator, selfMap: false, out PageTable<Amd64> table);
        MapStatus status = table.MapRange(ref memory, ref allocator, new VirtualAddress(MappedBase), new PhysicalAddress(FrameBase), Pages, Amd64.PtLevel, PageProtection.Writable, out ulong mapped);
        if (status != MapStatus.Done || mapped != Pages)
            throw new InvalidOperationException($"benchmark mapping failed: {status} after {mapped} pages");
    }

    private static void MapWithWalker(FlatMemory memory)
    {
        var allocator = new BumpAllocator { Next = TableBase };
        PageTable<Amd64>.Create(ref memory, ref allocator, selfMap: false, out PageTable<Amd64> table);
        WalkCache walk = default;
        for (int i = 0; i < Pages; i++)
        {
            ulong offset = (ulong)i << 12;
            MapStatus status = table.Map(ref memory, ref allocator, ref walk, new VirtualAddress(MappedBase + offset), new PhysicalAddress(FrameBase + offset), Amd64.PtLevel, PageProtection.Writable, out TlbFlush flush);
            flush.Ignore();
            if (status != MapStatus.Done)
                throw new InvalidOperationException($"benchmark mapping failed: {status}");
        }
    }

    // What a careful hand-written loader would do: tables laid out in advance, entries stored in order.
    private static void StoreEntries(byte* host)
    {
        ulong* pml4 = (ulong*)host, pdpt = pml4 + 512, pd = pdpt + 512, pt = pd + 512;
        const ulong tableBits = 0x3, pageBits = 0x8000_0000_0000_0063; // P, RW (+ A, D, NX for pages)
        pml4[(MappedBase >> 39) & 0x1FF] = (TableBase + 0x1000) | tableBits;
        pdpt[(MappedBase >> 30) & 0x1FF] = (TableBase + 0x2000) | tableBits;
        for (int i = 0; i < 512; i++)
            pd[i] = (TableBase + 0x3000 + ((ulong)i << 12)) | tableBits;
        for (int i = 0; i < Pages; i++)
            pt[i] = (FrameBase + ((ulong)i << 12)) | pageBits;
    }
}
