using System;
using System.Collections.Generic;
using System.Linq;
using ExectOS.Boot;
using ExectOS.Memory;
using ExectOS.Tests.Descriptors;
using ExectOS.Tests.Memory;
using Xunit;

namespace ExectOS.Tests.Xtos;

/// <summary>
/// The mapping planner for every mode a descriptor gives a kernel layout, on generated adversarial requests
/// and on real OVMF maps: a plan that is made has no overlaps, matches the documented placement, accounts
/// every page once after carving and commits to tables that hold exactly it; a request that cannot be
/// honoured gets an error, never a plan.
/// </summary>
public class MappingPlanTests
{
    private const int Rounds = 10000;

    /// <summary>
    /// Where the tables of a test's commit come from: 3 GiB, below 4 GiB and so within every mode's reach, and above
    /// all memory the scenarios hold below 4 GiB (the roots among it), so no table lands on a root.
    /// </summary>
    private const ulong TablePool = 0xC000_0000;

    internal sealed class Scenario
    {
        public List<LoaderMemoryDescriptor> Map = new();
        /// <summary>What cutting the map to the mode's reach left out (the adversarial requests plan their maps uncut).</summary>
        public MemoryCut Cut;
        public PlanWindows Windows;
        public ulong KernelPhysical, KernelVirtual, ImageSize, Stack, StackPages, BootData, BootDataPages, Hyperspace, HandOff, Root;
        public List<ImageRange> Ranges = new();
        public string Mutation = "none";
    }

    public static IEnumerable<object[]> LayoutModes() => GeneratedTypes.LayoutModeData();

    public static IEnumerable<object[]> OvmfMaps() => OvmfMemoryMapTests.Maps();

    public static IEnumerable<object[]> LayoutModesAndMaps() => GeneratedTypes.Cross(LayoutModes(), OvmfMaps());

    [Theory]
    [MemberData(nameof(LayoutModes))]
    public void TenThousandAdversarialRequestsGiveExactPlansOrErrors(string mode) => GeneratedTypes.RunForMode(typeof(MappingPlanTests), nameof(Adversarial), mode);

    [Theory]
    [MemberData(nameof(LayoutModesAndMaps))]
    public void RealOvmfMapsPlanWithTheirRuntimeRegionsInTheWindow(string mode, string file) => GeneratedTypes.RunForMode(typeof(MappingPlanTests), nameof(RealMap), mode, file);

    [Theory]
    [MemberData(nameof(LayoutModes))]
    public void TheTableCheckNamesEveryKindOfTampering(string mode) => GeneratedTypes.RunForMode(typeof(MappingPlanTests), nameof(Tampering), mode);

    /// <summary>Only modes with a self-map.</summary>
    [Theory]
    [MemberData(nameof(GeneratedTypes.SelfMapLayoutModeData), MemberType = typeof(GeneratedTypes))]
    public void TheSelfMapFormulaFindsEveryLeafEntry(string mode) => GeneratedTypes.RunForMode(typeof(MappingPlanTests), nameof(SelfMapFormula), mode);

    private static void Adversarial<TMode, TLayout>() where TMode : struct, IPagingMode where TLayout : struct, ILayout
    {
        var random = new Random(2311);
        var outcomes = new Dictionary<string, int>();
        PlanWindows windows = WindowsOf<TMode, TLayout>(Math.Max(TLayout.MinimumPages, 0x20000));
        for (int round = 0; round < Rounds; round++)
        {
            // As many commits per mode as when the four x86 modes shared the rounds: one round in 40.
            string outcome = Round<TMode>(random, windows, commit: round % 40 == 0);
            outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
        }
        int planned = outcomes.Where(o => o.Key == "planned").Sum(o => o.Value);
        int refused = Rounds - planned;
        Assert.True(planned > 3000 && refused > 3000, "generator too one-sided: " + string.Join(", ", outcomes.Select(o => $"{o.Key} {o.Value}")));
        Assert.True(outcomes.Count > 10, "too few kinds of refusal: " + string.Join(", ", outcomes.Keys));
    }

    /// <summary>The layout's plan windows for a machine of <paramref name="pages"/> page frames (asserted to exist).</summary>
    internal static PlanWindows WindowsOf<TMode, TLayout>(ulong pages) where TMode : struct, IPagingMode where TLayout : struct, ILayout
    {
        Assert.True(PlanWindows.Compute<TMode, TLayout>(pages, out PlanWindows windows), $"{TLayout.Name} has no plan windows for {pages} pages");
        return windows;
    }

    /// <summary>The kernel image's link address: 8 MiB into the loader window, where the amd64 kernel is linked.</summary>
    internal static ulong LinkBase(PlanWindows windows) => windows.Window.Start.Value + (8UL << 20);

    /// <summary>
    /// A real OVMF map as the loader has it once the mode is chosen (cut to the mode's reach), with the loader's
    /// allocations where UEFI gives them: in its loader memory.
    /// </summary>
    internal static Scenario FromOvmf<TMode, TLayout>(string file) where TMode : struct, IPagingMode where TLayout : struct, ILayout
    {
        ulong page = 1UL << TMode.PageShift;
        Scenario s = OnMap<TMode, TLayout>(OvmfMemoryMapTests.Convert(file));
        LoaderMemoryDescriptor loader = s.Map.Where(d => d.Type == LoaderMemoryType.LoaderFirmwareTemporary).OrderByDescending(d => d.PageCount).First();
        ulong end = Allocate<TMode>(s, loader.BasePage, [new ImageRange(0, 0x400, PageProtection.Read), new ImageRange((uint)page, (uint)(42 * page), PageProtection.Executable),
            new ImageRange((uint)(43 * page), (uint)(9 * page), PageProtection.Read), new ImageRange((uint)(52 * page), (uint)(3 * page), PageProtection.Writable)], 55, 16, 3);
        Assert.True(end <= loader.EndPage, "the capture's loader memory is too small for the test's allocations");
        return s;
    }

    /// <summary>A scenario on <paramref name="map"/> as the loader has it once the mode is chosen: cut to the mode's reach, with the layout's windows for it.</summary>
    internal static Scenario OnMap<TMode, TLayout>(LoaderMemoryDescriptor[] map) where TMode : struct, IPagingMode where TLayout : struct, ILayout
    {
        map = GranuleAligned<TMode>(map);
        int count = map.Length;
        var s = new Scenario { Cut = MemoryMap.CutToReach<TMode, TLayout>(map, ref count) };
        s.Map = map[..count].ToList();
        s.Windows = WindowsOf<TMode, TLayout>(MemoryMap.RamPages(map.AsSpan(0, count)));
        return s;
    }

    /// <summary>
    /// The map as firmware for a mode with pages larger than the firmware's would give it: every run on the mode's page
    /// boundaries (UEFI requires 64 KiB alignment of runtime and ACPI memory on AArch64), still counted in firmware
    /// pages. The captures are x86 OVMF maps, 4 KiB-granular; for 4 KiB modes they stay as they are.
    /// </summary>
    internal static LoaderMemoryDescriptor[] GranuleAligned<TMode>(LoaderMemoryDescriptor[] map) where TMode : struct, IPagingMode
    {
        int scale = TMode.PageShift - FirmwarePage.Shift, count = map.Length;
        map = map.ToArray();
        if (scale == 0)
            return map;
        MemoryMap.ToFrames(map, ref count, TMode.PageShift);
        return map[..count].Select(d => new LoaderMemoryDescriptor(d.Type, d.BasePage << scale, d.PageCount << scale, d.Flags)).ToArray();
    }

    /// <summary>
    /// The loader's allocations one after another from <paramref name="loaderPage"/>: the image (linked at <see cref="LinkBase"/>),
    /// its stack, boot data, hyperspace, hand-off and root pages, in the mode's pages from the first of them at or after the
    /// firmware page <paramref name="loaderPage"/>. Returns the firmware page after the last.
    /// </summary>
    internal static ulong Allocate<TMode>(Scenario s, ulong loaderPage, ImageRange[] ranges, ulong imagePages, ulong stackPages, ulong bootDataPages) where TMode : struct, IPagingMode
    {
        ulong page = 1UL << TMode.PageShift, next = ((loaderPage << FirmwarePage.Shift) + page - 1) & ~(page - 1);
        ulong Take(ulong pages) { ulong at = next; next += pages * page; return at; }
        s.Ranges.AddRange(ranges);
        s.ImageSize = imagePages * page;
        s.KernelVirtual = LinkBase(s.Windows);
        s.KernelPhysical = Take(imagePages);
        (s.StackPages, s.Stack) = (stackPages, Take(stackPages));
        (s.BootDataPages, s.BootData) = (bootDataPages, Take(bootDataPages));
        s.Hyperspace = Take(1);
        s.HandOff = Take(1);
        s.Root = Take(1);
        return next >> FirmwarePage.Shift;
    }

    private static void RealMap<TMode, TLayout>(string file) where TMode : struct, IPagingMode where TLayout : struct, ILayout
    {
        Scenario s = FromOvmf<TMode, TLayout>(file);
        var list = new Mapping[64];
        MappingProblem problem = Plan<TMode>(s, s.Windows, list, out int count);
        Assert.True(problem.IsOk, $"{file}: {problem.Error} {problem.First} at 0x{problem.Detail:X}");
        Mapping[] plan = list[..count];
        Assert.Equal(s.Map.Count(d => (d.Flags & LoaderMemoryFlags.Runtime) != 0), plan.Count(m => m.Kind == MappingKind.FirmwareRuntime));
        Assert.True(plan.Count(m => m.Kind == MappingKind.FirmwareRuntime) >= 2, "OVMF has runtime code and data");
        Assert.Contains(plan, m => m.Kind == MappingKind.FirmwareRuntime && m.Protection == PageProtection.Executable);
        AssertSound<TMode>(plan, s.Windows);
        AssertAccountedOnce<TMode>(s, plan);
        AssertCommits<TMode>(s, plan);
    }

    private static void Tampering<TMode, TLayout>() where TMode : struct, IPagingMode where TLayout : struct, ILayout
    {
        ulong page = 1UL << TMode.PageShift;
        int leaf = TMode.LevelCount - 1;
        Scenario s = FromOvmf<TMode, TLayout>("ovmf-q35-512M.txt");
        var list = new Mapping[64];
        Assert.True(Plan<TMode>(s, s.Windows, list, out int count).IsOk);
        Mapping[] plan = list[..count];
        Mapping code = plan.First(m => m.Kind == MappingKind.KernelImage && m.Protection == PageProtection.Executable);
        Mapping stack = plan.First(m => m.Kind == MappingKind.KernelStack);

        MappingError Tamper(Action<PageTable<TMode>, EmulatedMemory, TrackingAllocator> change)
        {
            var memory = new EmulatedMemory(new SparseMemory());
            var allocator = TrackingAllocator.For<TMode>(TablePool);
            var table = Entries.Tables<TMode>(ref memory, ref allocator, s.Root);
            Assert.Equal(MapStatus.Done, PageTable<TMode>.InstallSelfMap(ref memory, ref allocator, table));
            Assert.Equal(MapStatus.Done, PlanTables.Commit(ref memory, ref allocator, table, plan, out _));
            change(table, memory, allocator);
            return PlanTables.Verify(ref memory, table, plan, out _).Error;
        }
        void SetLeaf(PageTable<TMode> table, EmulatedMemory memory, ulong address, ulong entry)
            => Entries.Write<TMode>(memory, Entries.SlotOf(memory, table, new VirtualAddress(address), leaf), entry);
        ulong Page(ulong frame, PageProtection protection) => TMode.MakePage(leaf, new PhysicalAddress(frame), protection);

        Assert.Equal(MappingError.None, Tamper((_, _, _) => { }));
        Assert.Equal(MappingError.WritableAndExecutable, Tamper((t, m, _) => SetLeaf(t, m, code.VirtualBase, Page(code.PhysicalBase, PageProtection.Writable | PageProtection.Executable))));
        Assert.Equal(MappingError.WrongProtection, Tamper((t, m, _) => SetLeaf(t, m, stack.VirtualBase, Page(stack.PhysicalBase, PageProtection.Read))));
        Assert.Equal(MappingError.WrongFrame, Tamper((t, m, _) => SetLeaf(t, m, stack.VirtualBase, Page(stack.PhysicalBase + page, PageProtection.Writable))));
        Assert.Equal(MappingError.PageMissing, Tamper((t, m, _) => SetLeaf(t, m, stack.VirtualBase + page, 0)));
        // The guard page below the stack mapped after all: a page the plan does not list.
        Assert.Equal(MappingError.UnplannedPage, Tamper((t, m, _) => SetLeaf(t, m, stack.VirtualBase - page, Page(page, PageProtection.Writable))));
        // An identity mapping of firmware memory slipped in (low half, before everything in the plan).
        Assert.Equal(MappingError.UnplannedPage, Tamper((t, m, a) => Assert.Equal(MapStatus.Done, t.Map(ref m, ref a, new VirtualAddress(page), new PhysicalAddress(page), leaf, PageProtection.Read, out TlbFlush f))));
        // The self-map slot cleared, where the mode has one (the plan of a mode without one lists none).
        Assert.Equal(TMode.SelfMapIndex >= 0, plan.Any(m => m.Kind == MappingKind.SelfMap));
        if (TMode.SelfMapIndex >= 0)
            Assert.Equal(MappingError.SelfMapMismatch, Tamper((t, m, _) => Entries.Write<TMode>(m, SelfMapSlot(t, m), 0)));
    }

    /// <summary>Where the (first) self-map slot lives: in the root, or (PAE) in the directory that holds it.</summary>
    private static PhysicalAddress SelfMapSlot<TMode>(PageTable<TMode> table, EmulatedMemory memory) where TMode : struct, IPagingMode
    {
        if (SelfMap<TMode>.SlotLevel == 0)
            return Entries.Slot<TMode>(table.SelfMapRoot, TMode.SelfMapIndex);
        int bits = TMode.LevelIndexBits(1);
        ulong holder = Entries.Read<TMode>(memory, Entries.Slot<TMode>(table.Root, TMode.SelfMapIndex >> bits));
        return Entries.Slot<TMode>(TMode.TableAddress(0, holder), TMode.SelfMapIndex & ((1 << bits) - 1));
    }

    private static void SelfMapFormula<TMode, TLayout>() where TMode : struct, IPagingMode where TLayout : struct, ILayout
    {
        ulong page = 1UL << TMode.PageShift;
        int leaf = TMode.LevelCount - 1;
        Scenario s = FromOvmf<TMode, TLayout>("ovmf-q35-2G.txt");
        var list = new Mapping[64];
        Assert.True(Plan<TMode>(s, s.Windows, list, out int count).IsOk);
        var memory = new EmulatedMemory(new SparseMemory());
        var allocator = TrackingAllocator.For<TMode>(TablePool);
        var table = Entries.Tables<TMode>(ref memory, ref allocator, s.Root);
        Assert.Equal(MapStatus.Done, PageTable<TMode>.InstallSelfMap(ref memory, ref allocator, table));
        Assert.Equal(MapStatus.Done, PlanTables.Commit(ref memory, ref allocator, table, list.AsSpan(0, count), out _));
        Assert.Equal(s.Windows.SelfMap.Start, SelfMap<TMode>.Base);
        // A split mode's self-map shows the high half's entries only (the low half holds the hand-off's identity page).
        Mapping[] shown = list[..count].Where(m => m.HasOwnEntries && SelfMap<TMode>.Shows(new VirtualAddress(m.VirtualBase))).ToArray();
        Assert.Equal(TMode.RootCount == 1, shown.Length == list[..count].Count(m => m.HasOwnEntries));
        Assert.Contains(shown, m => m.Kind == MappingKind.KernelImage);
        foreach (Mapping m in shown)
        {
            foreach (ulong address in new[] { m.VirtualBase, m.VirtualBase + (m.PageCount - 1) * page })
            {
                // Through the self-map, the leaf entry's virtual address leads to the physical slot the walker writes.
                Assert.True(table.Translate(ref memory, SelfMap<TMode>.LeafEntry(new VirtualAddress(address)), out Translation slot));
                Assert.Equal(TMode.MakePage(leaf, new PhysicalAddress(m.PhysicalBase + (address - m.VirtualBase)), m.Protection), Entries.Read<TMode>(memory, slot.Address));
                Assert.Equal(Entries.Expressible<TMode>(PageProtection.Writable) & (PageProtection.Writable | PageProtection.Executable), slot.Protection & (PageProtection.Writable | PageProtection.Executable));
            }
        }
    }

    private static string Round<TMode>(Random random, PlanWindows windows, bool commit) where TMode : struct, IPagingMode
    {
        Scenario scenario = Generate<TMode>(random, windows);
        List<Mapping>? expected = Expect<TMode>(scenario, windows, out string why);
        var list = new Mapping[64];
        MappingProblem problem = Plan<TMode>(scenario, windows, list, out int count);
        if (expected is null)
        {
            Assert.False(problem.IsOk, $"planned a request that cannot be honoured ({why}; mutation {scenario.Mutation})");
            return problem.Error.ToString();
        }
        if (!problem.IsOk && problem.Error == MappingError.ListTooSmall && expected.Count > list.Length)
            return "list too small";
        Assert.True(problem.IsOk, $"refused an honourable request: {problem.Error} {problem.First}/{problem.Second} at 0x{problem.Detail:X} (mutation {scenario.Mutation})");
        Mapping[] plan = list[..count];
        Assert.Equal(expected.OrderBy(m => m.VirtualBase), plan);
        AssertSound<TMode>(plan, windows);
        AssertAccountedOnce<TMode>(scenario, plan);
        if (commit && plan.Where(m => m.HasOwnEntries).Sum(m => (double)m.PageCount) < 200000)
            AssertCommits<TMode>(scenario, plan);
        return "planned";
    }

    internal static MappingProblem Plan<TMode>(Scenario s, PlanWindows w, Span<Mapping> list, out int count) where TMode : struct, IPagingMode
    {
        var request = new MappingRequest
        {
            Memory = s.Map.ToArray(),
            Window = w.Window,
            SelfMapRegion = w.SelfMap,
            HyperspaceRegion = w.Hyperspace,
            TableRoot = new PhysicalAddress(s.Root),
            KernelPhysical = new PhysicalAddress(s.KernelPhysical),
            KernelVirtual = new VirtualAddress(s.KernelVirtual),
            KernelImageSize = s.ImageSize,
            KernelRanges = s.Ranges.ToArray(),
            Stack = new PhysicalAddress(s.Stack),
            StackPages = s.StackPages,
            BootData = new PhysicalAddress(s.BootData),
            BootDataPages = s.BootDataPages,
            HyperspacePage = new PhysicalAddress(s.Hyperspace),
            HandOff = new PhysicalAddress(s.HandOff),
        };
        return MappingPlan.Build<TMode>(in request, list, out count);
    }

    /// <summary>
    /// A memory map in the shape firmware gives (normalised), loader allocations inside its loader memory, and sometimes
    /// one mutation that breaks a rule. The firmware of a machine the mode runs on allocates for the loader, and keeps
    /// its runtime regions, within the mode's reach (a 32-bit firmware runs identity-mapped below 4 GiB); RAM and
    /// other memory lie anywhere.
    /// </summary>
    internal static Scenario Generate<TMode>(Random random, PlanWindows windows) where TMode : struct, IPagingMode
    {
        ulong page = 1UL << TMode.PageShift, gib = (1UL << 30) / page, reach = Reach<TMode>() / page;
        var s = new Scenario { Windows = windows };
        var map = new List<LoaderMemoryDescriptor>();
        ulong cursor = (ulong)random.Next(0, 16);
        int entries = random.Next(4, 40);
        for (int i = 0; i < entries; i++)
        {
            switch (random.Next(16))
            {
                case 0: cursor = Math.Max(cursor, 4 * gib + (ulong)random.Next(0, 4096)); break;      // above 4 GiB
                case 1: cursor = Math.Max(cursor, 64 * gib + (ulong)random.Next(0, 4096)); break;     // above 64 GiB
                case 2: cursor += (ulong)random.Next(1, 512); break;                                    // a hole
            }
            (LoaderMemoryType type, LoaderMemoryFlags flags) = random.Next(10) switch
            {
                0 or 1 or 2 => (LoaderMemoryType.LoaderFree, LoaderMemoryFlags.None),
                3 or 4 or 5 => (LoaderMemoryType.LoaderFirmwareTemporary, LoaderMemoryFlags.None),
                6 => (LoaderMemoryType.LoaderFirmwarePermanent, LoaderMemoryFlags.Runtime | LoaderMemoryFlags.FirmwareCode),
                7 => (LoaderMemoryType.LoaderFirmwarePermanent, random.Next(3) switch { 0 => LoaderMemoryFlags.Runtime, 1 => LoaderMemoryFlags.Runtime | LoaderMemoryFlags.Device, _ => LoaderMemoryFlags.None }),
                8 => (LoaderMemoryType.LoaderSpecialMemory, LoaderMemoryFlags.None),
                _ => (LoaderMemoryType.LoaderBad, LoaderMemoryFlags.None),
            };
            // Runs of up to 8 MiB, whatever the page size, so the map stays below 512 MiB until it jumps above 4 GiB.
            ulong pages = Math.Max(1UL, (ulong)random.Next(1, 2048) >> (TMode.PageShift - FirmwarePage.Shift));
            if (random.Next(200) == 0)
            {
                // Huge MMIO above 32 GiB, sometimes claimed by the firmware for runtime use.
                cursor = Math.Max(cursor, 32 * gib);
                (type, flags, pages) = (LoaderMemoryType.LoaderFirmwarePermanent, random.Next(3) == 0 ? LoaderMemoryFlags.Runtime : LoaderMemoryFlags.None, 16 * gib);
            }
            if (cursor + pages > reach)
                flags = LoaderMemoryFlags.None;
            map.Add(new LoaderMemoryDescriptor(type, cursor, pages, flags));
            cursor += pages;
        }
        // Loader memory for the allocations, below 4 GiB as UEFI usually gives it: at 1 GiB, where nothing else lies (the
        // map stays below 512 MiB until it jumps above 4 GiB) and away from the 32-bit layouts' window at 2 GiB, so no
        // higher-half mapping lands at its own address by chance.
        map.Add(new LoaderMemoryDescriptor(LoaderMemoryType.LoaderFirmwareTemporary, gib, 4096));
        var array = map.OrderBy(d => d.BasePage).ToArray();
        int n = array.Length;
        Assert.True(MemoryMap.Normalize(array, ref n).IsOk);
        s.Map = array[..n].ToList();

        // The firmware allocates for a loader within its reach: the allocations come from loader memory the mode reaches.
        var loader = s.Map.Where(d => d.Type == LoaderMemoryType.LoaderFirmwareTemporary && d.EndPage <= reach).ToList();
        var taken = new List<(ulong Start, ulong End)>();
        ulong Take(ulong pages)
        {
            for (int attempt = 0; attempt < 64; attempt++)
            {
                LoaderMemoryDescriptor d = loader[random.Next(loader.Count)];
                if (d.PageCount < pages)
                    continue;
                ulong start = d.BasePage + (ulong)(random.NextInt64(0, (long)(d.PageCount - pages + 1)));
                if (taken.Any(t => start < t.End && t.Start < start + pages))
                    continue;
                taken.Add((start, start + pages));
                return start * page;
            }
            LoaderMemoryDescriptor last = s.Map[^1];
            ulong fallback = taken.Where(t => t.Start >= last.BasePage).Select(t => t.End).DefaultIfEmpty(last.BasePage).Max();
            taken.Add((fallback, fallback + pages));
            return fallback * page;
        }

        int sections = random.Next(1, 6);
        s.Ranges.Add(new ImageRange(0, (uint)random.Next(1, (int)page), PageProtection.Read)); // headers
        uint rva = (uint)page;
        for (int i = 0; i < sections; i++)
        {
            uint size = (uint)random.Next(1, 0x40000);
            PageProtection protection = random.Next(3) switch { 0 => PageProtection.Executable, 1 => PageProtection.Read, _ => PageProtection.Writable };
            s.Ranges.Add(new ImageRange(rva, size, protection));
            rva += (uint)((size + page - 1) & ~(page - 1));
            if (random.Next(4) == 0)
                rva += (uint)page; // a gap between sections
        }
        s.ImageSize = rva;
        s.KernelVirtual = LinkBase(windows);
        s.KernelPhysical = Take(s.ImageSize / page);
        s.StackPages = (ulong)random.Next(1, 64);
        s.Stack = Take(s.StackPages);
        s.BootDataPages = (ulong)random.Next(1, 16);
        s.BootData = Take(s.BootDataPages);
        s.Hyperspace = Take(1);
        s.HandOff = Take(1);
        s.Root = Take(1);
        // The machine is drawn in the mode's pages; the loader's map counts firmware pages.
        int scale = TMode.PageShift - FirmwarePage.Shift;
        s.Map = s.Map.Select(d => new LoaderMemoryDescriptor(d.Type, d.BasePage << scale, d.PageCount << scale, d.Flags)).ToList();

        if (random.Next(2) == 0)
            Mutate<TMode>(random, s);
        return s;
    }

    /// <summary>
    /// The bytes of physical memory a loader running the mode can be given: what its entries hold and what it can
    /// identity-map (the hand-off page is mapped at its own address). 4 GiB for i686; all the generator makes for amd64.
    /// </summary>
    private static ulong Reach<TMode>() where TMode : struct, IPagingMode
    {
        ulong physical = TMode.PhysicalBits >= 64 ? ulong.MaxValue : 1UL << TMode.PhysicalBits;
        int identityBits = TMode.CanonicalAddresses ? TMode.VirtualBits - 1 : TMode.VirtualBits;
        return Math.Min(physical, identityBits >= 64 ? ulong.MaxValue : 1UL << identityBits);
    }

    private static void Mutate<TMode>(Random random, Scenario s) where TMode : struct, IPagingMode
    {
        ulong page = 1UL << TMode.PageShift;
        LoaderMemoryDescriptor Other() => s.Map.Where(d => d.Type != LoaderMemoryType.LoaderFirmwareTemporary).DefaultIfEmpty(s.Map[0]).ElementAt(0);
        switch (random.Next(16))
        {
            case 0: s.Stack = s.KernelPhysical + page * (ulong)random.Next(0, (int)(s.ImageSize / page)); s.Mutation = "stack inside the image"; break;
            case 1: s.HandOff = s.BootData; s.Mutation = "hand-off page is boot data"; break;
            case 2: s.BootData = Other().BasePage * page; s.Mutation = "boot data outside loader memory"; break;
            case 3: s.HandOff = Other().BasePage * page; s.Mutation = "identity map of firmware memory"; break;
            case 4: s.Stack += (ulong)random.Next(1, (int)page); s.Mutation = "misaligned stack"; break;
            case 5:
                int i = random.Next(1, s.Ranges.Count);
                s.Ranges[i] = new ImageRange(s.Ranges[i].Rva, s.Ranges[i].Size, PageProtection.Writable | PageProtection.Executable);
                s.Mutation = "W+X section"; break;
            case 6:
                if (s.Ranges.Count > 2)
                {
                    s.Ranges[2] = new ImageRange(s.Ranges[1].Rva + s.Ranges[1].Size - 1, s.Ranges[2].Size, s.Ranges[2].Protection);
                    s.Mutation = "sections share a page";
                }
                break;
            case 7: s.KernelVirtual = s.Windows.Window.Start.Value - Math.Min(1UL << 32, s.Windows.Window.Start.Value / 4); s.Mutation = "kernel below the window"; break;
            case 8: s.StackPages = 1UL << random.Next(16, 40); s.Mutation = "huge stack"; break;
            case 9: s.Root = s.Hyperspace; s.Mutation = "root is the hyperspace page"; break;
            case 10:
                // The identity page moved above 4 GiB: out of reach of 32-bit addresses, fine for amd64.
                var high = new LoaderMemoryDescriptor(LoaderMemoryType.LoaderFirmwareTemporary, Math.Max(s.Map[^1].EndPage + 1, (1UL << 32) >> FirmwarePage.Shift) & ~((page >> FirmwarePage.Shift) - 1), 16 * (page >> FirmwarePage.Shift));
                s.Map.Add(high);
                s.HandOff = high.BasePage << FirmwarePage.Shift;
                s.Mutation = "hand-off page above 4 GiB"; break;
            case 11: s.Ranges.Add(new ImageRange((uint)s.ImageSize, (uint)page, PageProtection.Read)); s.Mutation = "section past the image"; break;
            case 12:
                // Firmware that claims a runtime region its own mode could not reach.
                ulong limit = (1UL << TMode.PhysicalBits) >> FirmwarePage.Shift;
                s.Map.Add(new LoaderMemoryDescriptor(LoaderMemoryType.LoaderFirmwarePermanent, Math.Max(s.Map[^1].EndPage + 1, limit), 16, LoaderMemoryFlags.Runtime | LoaderMemoryFlags.FirmwareCode));
                s.Mutation = "runtime region beyond the physical reach"; break;
            case 13: s.KernelVirtual = s.HandOff; s.Mutation = "kernel linked over the hand-off page"; break;
            case 14:
                // A stack the firmware could allocate but the window cannot hold.
                ulong firmwarePages = page >> FirmwarePage.Shift;
                var room = new LoaderMemoryDescriptor(LoaderMemoryType.LoaderFirmwareTemporary, (s.Map[^1].EndPage + firmwarePages) & ~(firmwarePages - 1), s.Windows.Window.Size >> FirmwarePage.Shift);
                s.Map.Add(room);
                (s.Stack, s.StackPages) = (room.BasePage << FirmwarePage.Shift, room.PageCount / firmwarePages);
                s.Mutation = "stack as large as the window"; break;
            default:
                s.KernelVirtual = TMode.CanonicalAddresses ? 1UL << (TMode.VirtualBits - 1) : 1UL << TMode.VirtualBits;
                s.Mutation = "kernel linked at the first address the mode cannot use"; break;
        }
    }

    /// <summary>
    /// The documented plan, computed independently: image parts at the link address, then stack, boot data and
    /// runtime regions each after a guard page, hyperspace at its region, the self-map, the identity hand-off
    /// page. Null (with the broken rule) when the request cannot be honoured.
    /// </summary>
    internal static List<Mapping>? Expect<TMode>(Scenario s, PlanWindows w, out string why) where TMode : struct, IPagingMode
    {
        ulong page = 1UL << TMode.PageShift;
        why = "";
        var plan = new List<Mapping>();
        ulong imagePages = (s.ImageSize + page - 1) / page;
        foreach ((ulong start, ulong pages, string name) in new[] { (s.KernelPhysical, imagePages, "image"), (s.Stack, s.StackPages, "stack"), (s.BootData, s.BootDataPages, "boot data"),
            (s.Hyperspace, 1UL, "hyperspace"), (s.HandOff, 1UL, "hand-off"), (s.Root, 1UL, "root") })
        {
            if (start % page != 0) { why = name + " misaligned"; return null; }
            if (!InLoaderMemory(s.Map, start >> FirmwarePage.Shift, pages << (TMode.PageShift - FirmwarePage.Shift))) { why = name + " not in loader memory"; return null; }
        }
        if (!TMode.CanHoldTable(0, new PhysicalAddress(s.Root))) { why = "root out of reach"; return null; }
        uint previousEnd = 0;
        for (int i = 0; i < s.Ranges.Count; i++)
        {
            ImageRange r = s.Ranges[i];
            ulong first = r.Rva / page, end = (r.Rva + r.Size + page - 1) / page;
            if ((r.Protection & (PageProtection.Writable | PageProtection.Executable)) == (PageProtection.Writable | PageProtection.Executable)) { why = "W+X"; return null; }
            if (r.Size == 0 || end > imagePages || (i > 0 && first < previousEnd)) { why = "bad range"; return null; }
            previousEnd = (uint)end;
            plan.Add(new Mapping(MappingKind.KernelImage, s.KernelVirtual + first * page, s.KernelPhysical + first * page, end - first, r.Protection));
        }
        ulong cursor = s.KernelVirtual + imagePages * page;
        void Place(MappingKind kind, ulong physical, ulong pages, PageProtection protection)
        {
            cursor += page;
            plan.Add(new Mapping(kind, cursor, physical, pages, protection));
            cursor += pages * page;
        }
        Place(MappingKind.KernelStack, s.Stack, s.StackPages, PageProtection.Writable);
        Place(MappingKind.BootData, s.BootData, s.BootDataPages, PageProtection.Writable);
        foreach (LoaderMemoryDescriptor d in s.Map.Where(d => (d.Flags & LoaderMemoryFlags.Runtime) != 0))
            Place(MappingKind.FirmwareRuntime, d.BasePage << FirmwarePage.Shift, (d.PageCount << FirmwarePage.Shift) / page,
                (d.Flags & LoaderMemoryFlags.FirmwareCode) != 0 ? PageProtection.Executable
                : (d.Flags & LoaderMemoryFlags.Device) != 0 ? PageProtection.Writable | PageProtection.Device : PageProtection.Writable);
        plan.Add(new Mapping(MappingKind.Hyperspace, w.Hyperspace.Start.Value, s.Hyperspace, 1, PageProtection.Writable));
        if (w.SelfMap.Size != 0)
            plan.Add(new Mapping(MappingKind.SelfMap, w.SelfMap.Start.Value, s.Root, w.SelfMap.Size / page, PageProtection.Writable));
        plan.Add(new Mapping(MappingKind.HandOff, s.HandOff, s.HandOff, 1, PageProtection.Executable));

        ulong windowEnd = w.Window.Start.Value + w.Window.Size;
        if (s.KernelVirtual < w.Window.Start.Value || cursor > windowEnd || cursor < s.KernelVirtual) { why = "window"; return null; }
        if (s.Root >= s.KernelPhysical && s.Root < s.KernelPhysical + imagePages * page) { why = "root inside the image"; return null; }
        for (int i = 0; i < plan.Count; i++)
        {
            Mapping m = plan[i];
            ulong vEnd = m.VirtualBase + m.PageCount * page;
            if (m.HasOwnEntries && m.PhysicalBase + m.PageCount * page > (1UL << TMode.PhysicalBits)) { why = "frame out of range"; return null; }
            if (vEnd - 1 > (TMode.VirtualBits == 32 ? uint.MaxValue : ulong.MaxValue) || !TMode.IsCanonical(new VirtualAddress(m.VirtualBase)) || !TMode.IsCanonical(new VirtualAddress(vEnd - 1))) { why = "not canonical"; return null; }
            for (int j = 0; j < plan.Count; j++)
            {
                if (j == i)
                    continue;
                Mapping o = plan[j];
                if (m.VirtualBase < o.VirtualBase + o.PageCount * page && o.VirtualBase < vEnd) { why = $"virtual overlap {m.Kind}/{o.Kind}"; return null; }
                if (m.HasOwnEntries && o.HasOwnEntries && m.PhysicalBase < o.PhysicalBase + o.PageCount * page && o.PhysicalBase < m.PhysicalBase + m.PageCount * page) { why = $"physical overlap {m.Kind}/{o.Kind}"; return null; }
            }
            if (m.HasOwnEntries && s.Root >= m.PhysicalBase && s.Root < m.PhysicalBase + m.PageCount * page) { why = "root inside a mapping"; return null; }
            // The image is allocated whole: its gaps between sections belong to it too.
            ulong imageEnd = s.KernelPhysical + imagePages * page;
            if (m.HasOwnEntries && m.Kind != MappingKind.KernelImage && m.PhysicalBase < imageEnd && s.KernelPhysical < m.PhysicalBase + m.PageCount * page) { why = $"{m.Kind} inside the image"; return null; }
        }
        return plan;
    }

    private static bool InLoaderMemory(List<LoaderMemoryDescriptor> map, ulong page, ulong pages)
        => map.Any(d => d.Type == LoaderMemoryType.LoaderFirmwareTemporary && (d.Flags & LoaderMemoryFlags.Runtime) == 0 && d.BasePage <= page && page + pages <= d.EndPage);

    /// <summary>Properties of the list itself, whatever the request: sorted, disjoint both ways, W^X, one identity page, windowed.</summary>
    internal static void AssertSound<TMode>(Mapping[] plan, PlanWindows w) where TMode : struct, IPagingMode
    {
        ulong page = 1UL << TMode.PageShift;
        for (int i = 0; i < plan.Length; i++)
        {
            Mapping m = plan[i];
            Assert.False((m.Protection & PageProtection.Writable) != 0 && (m.Protection & PageProtection.Executable) != 0, $"{m.Kind} is W+X");
            if (i > 0)
                Assert.True(plan[i - 1].VirtualBase + plan[i - 1].PageCount * page <= m.VirtualBase, $"{plan[i - 1].Kind} and {m.Kind} overlap virtually");
            for (int j = 0; j < i; j++)
            {
                if (m.HasOwnEntries && plan[j].HasOwnEntries)
                    Assert.False(m.PhysicalBase < plan[j].PhysicalBase + plan[j].PageCount * page && plan[j].PhysicalBase < m.PhysicalBase + m.PageCount * page, $"{m.Kind} and {plan[j].Kind} overlap physically");
            }
            if (m.VirtualBase == m.PhysicalBase)
                Assert.Equal(MappingKind.HandOff, m.Kind);
            if (m.Kind is MappingKind.KernelImage or MappingKind.KernelStack or MappingKind.BootData or MappingKind.FirmwareRuntime)
                Assert.True(m.VirtualBase >= w.Window.Start.Value && m.VirtualBase + m.PageCount * page <= w.Window.Start.Value + w.Window.Size, $"{m.Kind} outside the window");
        }
        Assert.Single(plan, m => m.Kind == MappingKind.HandOff);
    }

    /// <summary>
    /// Carves the allocations with their types, as the loader does at exit: every page of the map is still
    /// described exactly once, no mapped page is free, and the kernel's check accepts the plan.
    /// </summary>
    private static void AssertAccountedOnce<TMode>(Scenario s, Mapping[] plan) where TMode : struct, IPagingMode
    {
        ulong page = 1UL << TMode.PageShift;
        var map = new LoaderMemoryDescriptor[s.Map.Count + 32];
        s.Map.CopyTo(map);
        int count = s.Map.Count;
        // The map counts firmware pages, the plan the mode's.
        int scale = TMode.PageShift - FirmwarePage.Shift;
        void Carve(ulong address, ulong pages, LoaderMemoryType type) => Assert.True(MemoryMap.Carve(map, ref count, address >> FirmwarePage.Shift, pages << scale, type).IsOk,
            $"carving {type} at {address:X} ({pages} pages), mutation {s.Mutation}, map: " + string.Join("; ", map[..count].Select(d => $"{d.Type} {d.BasePage:X}+{d.PageCount:X} {d.Flags}")));
        Carve(s.KernelPhysical, s.ImageSize / page, LoaderMemoryType.LoaderSystemCode);
        Carve(s.Stack, s.StackPages, LoaderMemoryType.LoaderStartupKernelStack);
        Carve(s.BootData, 1, LoaderMemoryType.LoaderSystemBlock);
        if (s.BootDataPages > 1)
            Carve(s.BootData + page, s.BootDataPages - 1, LoaderMemoryType.LoaderMemoryData);
        Carve(s.Hyperspace, 1, LoaderMemoryType.LoaderMemoryData);
        Carve(s.HandOff, 1, LoaderMemoryType.LoaderMemoryData);
        var carved = map[..count];

        Assert.Equal(s.Map.Sum(d => (double)d.PageCount), carved.Sum(d => (double)d.PageCount));
        for (int i = 1; i < carved.Length; i++)
            Assert.True(carved[i - 1].EndPage <= carved[i].BasePage, "carving made descriptors overlap");
        foreach (Mapping m in plan.Where(m => m.HasOwnEntries))
        {
            ulong first = m.PhysicalBase >> FirmwarePage.Shift, pages = m.PageCount << scale;
            var holders = carved.Where(d => d.BasePage < first + pages && first < d.EndPage).ToList();
            Assert.Equal((double)pages, holders.Sum(d => (double)(Math.Min(d.EndPage, first + pages) - Math.Max(d.BasePage, first))));
            Assert.DoesNotContain(holders, d => LoaderMemoryDescriptor.IsFree(d.Type));
        }
        MappingProblem check = MappingPlan.Check<TMode>(plan, carved);
        Assert.True(check.IsOk, $"the kernel's check refused the plan: {check.Error} {check.First} at 0x{check.Detail:X}");
        Assert.Equal(MappingError.TypeMismatch, MappingPlan.Check<TMode>(plan, s.Map.ToArray()).Error); // before carving, the kinds' types are missing
    }

    /// <summary>Builds the tables on an emulated machine: they hold exactly the plan, within the table bound.</summary>
    internal static void AssertCommits<TMode>(Scenario s, Mapping[] plan) where TMode : struct, IPagingMode
    {
        ulong page = 1UL << TMode.PageShift;
        var memory = new EmulatedMemory(new SparseMemory());
        var allocator = TrackingAllocator.For<TMode>(TablePool);
        var table = Entries.Tables<TMode>(ref memory, ref allocator, s.Root);
        memory.Zero(table.Root, page);
        Assert.Equal(MapStatus.Done, PageTable<TMode>.InstallSelfMap(ref memory, ref allocator, table));
        Assert.Equal(MapStatus.Done, PlanTables.Commit(ref memory, ref allocator, table, plan, out int failed));
        Assert.Equal(-1, failed);
        Assert.True((ulong)allocator.Live.Count + 1 <= MappingPlan.TableBound<TMode>(plan), $"{allocator.Live.Count + 1} tables, bound {MappingPlan.TableBound<TMode>(plan)}");
        MappingProblem verified = PlanTables.Verify(ref memory, table, plan, out PlanCensus census);
        Assert.True(verified.IsOk, $"{verified.Error} {verified.First} at 0x{verified.Detail:X}");
        Assert.Equal(plan.Where(m => m.HasOwnEntries).Sum(m => (double)m.PageCount), (double)census.Pages);
        Assert.Equal(plan.Count(m => m.HasOwnEntries), census.Mappings);
    }
}
