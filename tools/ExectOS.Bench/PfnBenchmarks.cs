using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using ExectOS.Boot;
using ExectOS.Memory;

namespace ExectOS.Bench;

/// <summary>
/// Building the PFN database (every entry filled, free frames linked) for machines of 1, 16 and 64 GiB,
/// against a memset of the database's bytes: how close the build comes to just touching its memory.
/// </summary>
internal static unsafe class PfnBenchmarks
{
    private const ulong Page = 4096;

    public static Benchmark[] Build()
    {
        var benchmarks = new List<Benchmark>();
        foreach (ulong gigabytes in new ulong[] { 1, 16, 64 })
        {
            LoaderMemoryDescriptor[] map = Map(gigabytes);
            ulong pages = MemoryMap.RamPages(map);
            ulong bytes = pages * (ulong)sizeof(PfnEntry);
            var view = (PfnEntry*)NativeMemory.AlignedAlloc((nuint)bytes, 4096);
            var database = (PfnDatabase*)NativeMemory.AllocZeroed((nuint)sizeof(PfnDatabase));
            new Span<byte>(view, checked((int)Math.Min(bytes, int.MaxValue))).Clear();
            benchmarks.Add(new Benchmark($"build the PFN database for {gigabytes} GiB ({pages} frames, {bytes >> 20} MiB)", "frames", (long)pages,
                "PfnDatabase.Initialize", () => Initialize(database, view, pages, map), "memset of the same bytes", () => Memset(view, bytes), () => { }));
        }
        return benchmarks.ToArray();
    }

    private static void Initialize(PfnDatabase* database, PfnEntry* view, ulong pages, LoaderMemoryDescriptor[] map)
    {
        PfnProblem problem = database->Initialize(view, pages, 12, map, ReadOnlySpan<EarlyAllocation>.Empty);
        if (!problem.IsOk)
            throw new InvalidOperationException($"benchmark build failed: {problem.Error} at page {problem.Page:X}");
    }

    private static void Memset(PfnEntry* view, ulong bytes)
    {
        for (ulong done = 0; done < bytes; done += 1UL << 30)
            new Span<byte>((byte*)view + done, (int)Math.Min(bytes - done, 1UL << 30)).Fill(0x5A);
    }

    /// <summary>A PC-shaped map: low memory, firmware below 1 MiB, RAM up to 3 GiB, the PCI hole, the rest above 4 GiB.</summary>
    private static LoaderMemoryDescriptor[] Map(ulong gigabytes)
    {
        ulong ram = gigabytes << 18;
        ulong low = Math.Min(ram, 3UL << 18);
        var map = new List<LoaderMemoryDescriptor>
        {
            new(LoaderMemoryType.LoaderFree, 1, 0x9F),
            new(LoaderMemoryType.LoaderFirmwarePermanent, 0xA0, 0x60),
            new(LoaderMemoryType.LoaderFree, 0x100, low - 0x100 - 0x800),
            new(LoaderMemoryType.LoaderSpecialMemory, low - 0x800, 0x800),
            new(LoaderMemoryType.LoaderFirmwarePermanent, 0xFFC00, 0x400),
        };
        if (ram > low)
            map.Add(new LoaderMemoryDescriptor(LoaderMemoryType.LoaderFree, 0x100000, ram - low));
        return map.ToArray();
    }
}
