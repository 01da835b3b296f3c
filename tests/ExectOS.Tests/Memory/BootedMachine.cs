using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using ExectOS.Boot;
using ExectOS.Memory;
using ExectOS.Tests.Xtos;
using Xunit;

namespace ExectOS.Tests.Memory;

/// <summary>A built PFN database over host memory, with the emulated machine of one mode and layout it describes.</summary>
internal sealed unsafe class Machine<TMode, TLayout> : IDisposable
    where TMode : struct, IPagingMode
    where TLayout : struct, ILayout
{
    /// <summary>What the database view holds before the build: pages the build never writes keep it.</summary>
    public const byte Poison = 0xA5;

    public EmulatedMemory Memory;
    public PageTable<TMode> Table;
    public LoaderMemoryDescriptor[] Map = [];
    public LayoutRegion[] Regions = [];
    /// <summary>The layout's PFN database region.</summary>
    public LayoutRegion Region;
    public PfnBuildReport Report;
    public PfnEntry* View;
    public ulong ViewBytes;
    public PfnDatabase* Database;
    public MappingPlanTests.Scenario Scenario = null!;
    public Mapping[] Plan = [];
    public ulong LoaderTables;

    public ref PfnDatabase Db => ref *Database;

    public static ulong Page => 1UL << TMode.PageShift;

    public static int Leaf => TMode.LevelCount - 1;

    /// <summary>The layout's region called <paramref name="name"/> for this machine.</summary>
    public LayoutRegion RegionNamed(string name)
    {
        int index = LayoutRegions.Find<TLayout>(name);
        Assert.True(index >= 0, $"{TLayout.Name} has no region {name}");
        return Regions[index];
    }

    public void Dispose()
    {
        NativeMemory.Free(View);
        NativeMemory.Free(Database);
    }
}

/// <summary>
/// Machines booted as at boot, for any mode: the map cut to the mode's reach, the loader's plan and tables (from
/// loader memory, carved), then the kernel's build of the PFN database.
/// </summary>
internal static unsafe class Machines
{
    /// <summary>
    /// The name of a small generated machine with 16 MiB of free RAM at 4 GiB, the frames the database hands out
    /// first: cheap to validate at every step, and a truncated physical address shows at once.
    /// </summary>
    public const string AboveFourGigabytes = "generated, RAM above 4 GiB";

    /// <summary>Boots a captured OVMF map (a file of tests/data/ovmf-maps), or the machine <see cref="AboveFourGigabytes"/>.</summary>
    public static Machine<TMode, TLayout> Boot<TMode, TLayout>(string machine) where TMode : struct, IPagingMode where TLayout : struct, ILayout
        => machine == AboveFourGigabytes ? BootGenerated<TMode, TLayout>(new Random(4), aboveFourGigabytes: true)
            : Boot<TMode, TLayout>(MappingPlanTests.FromOvmf<TMode, TLayout>(machine));

    public static Machine<TMode, TLayout> Boot<TMode, TLayout>(MappingPlanTests.Scenario s) where TMode : struct, IPagingMode where TLayout : struct, ILayout
    {
        ulong page = Machine<TMode, TLayout>.Page;
        var list = new Mapping[64];
        MappingProblem planned = MappingPlanTests.Plan<TMode>(s, s.Windows, list, out int count);
        Assert.True(planned.IsOk, $"{planned.Error} {planned.First} at 0x{planned.Detail:X}");
        Mapping[] plan = list[..count];

        var m = new Machine<TMode, TLayout> { Memory = new EmulatedMemory(new SparseMemory()), Scenario = s, Plan = plan };
        var tables = TrackingAllocator.For<TMode>(s.Root + page);
        m.Table = Entries.Tables<TMode>(ref m.Memory, ref tables, s.Root);
        Assert.Equal(MapStatus.Done, PageTable<TMode>.InstallSelfMap(ref m.Memory, ref tables, m.Table));
        Assert.Equal(MapStatus.Done, PlanTables.Commit(ref m.Memory, ref tables, m.Table, plan, out _));
        m.LoaderTables = (ulong)tables.Live.Count + 1;

        // The loader's carving: its allocations get their types, so the kernel finds none of them free.
        var map = s.Map.ToArray();
        Array.Resize(ref map, map.Length + 16);
        int mapCount = s.Map.Count;
        void Carve(ulong address, ulong pages, LoaderMemoryType type)
            => Assert.True(MemoryMap.Carve(map, ref mapCount, address >> FirmwarePage.Shift, pages << (TMode.PageShift - FirmwarePage.Shift), type).IsOk);
        Carve(s.KernelPhysical, s.ImageSize / page, LoaderMemoryType.LoaderSystemCode);
        Carve(s.Stack, s.StackPages, LoaderMemoryType.LoaderStartupKernelStack);
        Carve(s.BootData, s.BootDataPages, LoaderMemoryType.LoaderSystemBlock);
        Carve(s.Hyperspace, 1, LoaderMemoryType.LoaderMemoryData);
        Carve(s.HandOff, 1, LoaderMemoryType.LoaderMemoryData);
        Carve(s.Root, m.LoaderTables, LoaderMemoryType.LoaderMemoryData);
        // The loader's descriptors count firmware pages; the memory manager counts the mode's page frames.
        MemoryMap.ToFrames(map, ref mapCount, TMode.PageShift);
        m.Map = map[..mapCount];

        ulong frames = MemoryMap.RamPages(m.Map);
        m.Regions = new LayoutRegion[TLayout.RegionCount];
        Assert.True(TLayout.Compute(frames, m.Regions), $"{TLayout.Name} refuses {frames} page frames");
        m.Region = m.RegionNamed("PfnDatabase");
        m.ViewBytes = (frames * (ulong)sizeof(PfnEntry) + page - 1) / page * page;
        m.View = (PfnEntry*)NativeMemory.Alloc((nuint)m.ViewBytes);
        new Span<byte>(m.View, checked((int)m.ViewBytes)).Fill(Machine<TMode, TLayout>.Poison);
        m.Database = (PfnDatabase*)NativeMemory.AllocZeroed((nuint)sizeof(PfnDatabase));
        m.Report = PfnBuild<TMode>.Build(ref m.Memory, m.Table, m.Map, m.Region, m.View, m.Database);
        return m;
    }

    /// <summary>
    /// A small generated machine (so that validating after every step stays cheap), loader allocations in its loader
    /// memory; with <paramref name="aboveFourGigabytes"/>, 16 MiB more of free RAM at 4 GiB, cut away where the mode does not reach it.
    /// </summary>
    public static Machine<TMode, TLayout> BootGenerated<TMode, TLayout>(Random random, bool aboveFourGigabytes = false) where TMode : struct, IPagingMode where TLayout : struct, ILayout
    {
        ulong page = Machine<TMode, TLayout>.Page;
        LoaderMemoryDescriptor[] map = GenerateMap(random, out ulong loaderPage, TMode.PageShift - FirmwarePage.Shift);
        if (aboveFourGigabytes)
            map = [.. map, new LoaderMemoryDescriptor(LoaderMemoryType.LoaderFree, (1UL << 32) >> FirmwarePage.Shift, (16UL << 20) >> FirmwarePage.Shift)];
        MappingPlanTests.Scenario s = MappingPlanTests.OnMap<TMode, TLayout>(map);
        MappingPlanTests.Allocate<TMode>(s, loaderPage, [new ImageRange(0, 0x400, PageProtection.Read), new ImageRange((uint)page, (uint)(8 * page), PageProtection.Executable),
            new ImageRange((uint)(9 * page), (uint)(2 * page), PageProtection.Writable)], 11, 4, 2);
        return Boot<TMode, TLayout>(s);
    }

    /// <summary>
    /// RAM from 8 to 48 MiB in pieces with holes, some bad and reserved runs, and one loader-memory run of
    /// 96 pages (returned in <paramref name="loaderPage"/>) for the loader's allocations and tables. Pages are the
    /// firmware's; the loader run and the last free run are 2^<paramref name="scale"/> times larger, for a mode whose
    /// pages are that many firmware pages.
    /// </summary>
    public static LoaderMemoryDescriptor[] GenerateMap(Random random, out ulong loaderPage, int scale = 0)
    {
        var map = new List<LoaderMemoryDescriptor>();
        ulong page = (ulong)random.Next(0, 16);
        ulong end = (ulong)random.Next(2048, 12288);
        loaderPage = 0;
        bool loaderPlaced = false;
        while (page < end)
        {
            ulong pages = (ulong)random.Next(1, 700);
            int kind = random.Next(20);
            LoaderMemoryType type = kind switch
            {
                < 12 => LoaderMemoryType.LoaderFree,
                12 => LoaderMemoryType.LoaderBad,
                13 or 14 => LoaderMemoryType.LoaderFirmwarePermanent,
                15 => LoaderMemoryType.LoaderSpecialMemory,
                _ => LoaderMemoryType.LoaderFirmwareTemporary,
            };
            if (!loaderPlaced && page > 600)
            {
                type = LoaderMemoryType.LoaderFirmwareTemporary;
                pages = 96UL << scale;
                loaderPage = page;
                loaderPlaced = true;
            }
            if (map.Count > 0 && map[^1].Type == type && map[^1].EndPage == page)
                type = LoaderMemoryType.LoaderFree == type ? LoaderMemoryType.LoaderFirmwareTemporary : LoaderMemoryType.LoaderFree;
            map.Add(new LoaderMemoryDescriptor(type, page, pages));
            page += pages;
            if (random.Next(6) == 0)
                page += (ulong)random.Next(1, 300);
        }
        if (!loaderPlaced)
        {
            loaderPage = page;
            map.Add(new LoaderMemoryDescriptor(LoaderMemoryType.LoaderFirmwareTemporary, page, 96UL << scale));
        }
        // A free run big enough for the database and its tables, and MMIO far above RAM (an I/O APIC's page: not described).
        ulong top = map[^1].EndPage;
        map.Add(new LoaderMemoryDescriptor(map[^1].Type == LoaderMemoryType.LoaderFree ? LoaderMemoryType.LoaderFirmwareTemporary : LoaderMemoryType.LoaderFree, top, 1024UL << scale));
        map.Add(new LoaderMemoryDescriptor(LoaderMemoryType.LoaderFirmwarePermanent, 0xFEC00000 >> FirmwarePage.Shift, 1));
        return map.ToArray();
    }
}
