using System;
using System.Collections.Generic;
using System.Linq;
using ExectOS.Boot;
using ExectOS.Memory;
using ExectOS.Paging.X86;
using ExectOS.Tests.Memory;
using Xunit;

namespace ExectOS.Tests.Xtos;

/// <summary>
/// The mapping planner on generated adversarial requests for every x86 mode: a plan that is made has
/// no overlaps, matches the documented placement, accounts every page once after carving and commits
/// to tables that hold exactly it; a request that cannot be honoured gets an error, never a plan.
/// </summary>
public class MappingPlanTests
{
    private const ulong Page = 4096;
    private const int Rounds = 10000;

    internal sealed record Windows(LayoutRegion Window, LayoutRegion SelfMap, LayoutRegion Hyperspace);

    internal sealed class Scenario
    {
        public List<LoaderMemoryDescriptor> Map = new();
        public ulong KernelPhysical, KernelVirtual, ImageSize, Stack, StackPages, BootData, BootDataPages, Hyperspace, HandOff, Root;
        public List<ImageRange> Ranges = new();
        public string Mutation = "none";
    }

    [Fact]
    public void TenThousandAdversarialRequestsGiveExactPlansOrErrors()
    {
        var random = new Random(2311);
        var outcomes = new Dictionary<string, int>();
        for (int round = 0; round < Rounds; round++)
        {
            string outcome = (round % 4) switch
            {
                0 => Round<Amd64>(random, Windows64<Amd64Kernel>(Amd64Kernel.LoaderMappings, Amd64Kernel.PageTables, Amd64Kernel.Hyperspace), 0xFFFFF80000800000, commit: round % 40 == 0),
                1 => Round<Amd64La57>(random, Windows64<Amd64La57Kernel>(Amd64La57Kernel.LoaderMappings, Amd64La57Kernel.PageTables, Amd64La57Kernel.Hyperspace), 0xFFFFF80000800000, commit: round % 40 == 1),
                2 => Round<I686Pae>(random, Windows64<I686PaeKernel>(I686PaeKernel.LoaderMappings, I686PaeKernel.PageTables, I686PaeKernel.Hyperspace), 0x80000000, commit: round % 40 == 2),
                _ => Round<I686>(random, Windows64<I686Kernel>(I686Kernel.LoaderMappings, I686Kernel.PageTables, I686Kernel.Hyperspace), 0x80000000, commit: round % 40 == 3),
            };
            outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
        }
        int planned = outcomes.Where(o => o.Key == "planned").Sum(o => o.Value);
        int refused = Rounds - planned;
        Assert.True(planned > 3000 && refused > 3000, "generator too one-sided: " + string.Join(", ", outcomes.Select(o => $"{o.Key} {o.Value}")));
        Assert.True(outcomes.Count > 10, "too few kinds of refusal: " + string.Join(", ", outcomes.Keys));
    }

    public static IEnumerable<object[]> OvmfMaps() => OvmfMemoryMapTests.Maps();

    /// <summary>A real OVMF map with the loader's allocations where UEFI gives them: in its loader memory.</summary>
    internal static Scenario FromOvmf(string file)
    {
        var s = new Scenario { Map = OvmfMemoryMapTests.Convert(file).ToList() };
        LoaderMemoryDescriptor loader = s.Map.Where(d => d.Type == LoaderMemoryType.LoaderFirmwareTemporary).OrderByDescending(d => d.PageCount).First();
        ulong next = loader.BasePage * Page;
        ulong Take(ulong pages) { ulong at = next; next += pages * Page; return at; }
        s.Ranges.AddRange([new ImageRange(0, 0x400, PageProtection.Read), new ImageRange(0x1000, 0x2A000, PageProtection.Executable),
            new ImageRange(0x2B000, 0x9000, PageProtection.Read), new ImageRange(0x34000, 0x3000, PageProtection.Writable)]);
        s.ImageSize = 0x37000;
        s.KernelVirtual = 0xFFFFF80000800000;
        s.KernelPhysical = Take(s.ImageSize / Page);
        s.StackPages = 16;
        s.Stack = Take(16);
        s.BootDataPages = 3;
        s.BootData = Take(3);
        s.Hyperspace = Take(1);
        s.HandOff = Take(1);
        s.Root = Take(1);
        Assert.True(next <= loader.EndPage * Page, "the capture's loader memory is too small for the test's allocations");
        return s;
    }

    [Theory]
    [MemberData(nameof(OvmfMaps))]
    public void RealOvmfMapsPlanWithTheirRuntimeRegionsInTheWindow(string file)
    {
        foreach (bool fiveLevel in new[] { false, true })
        {
            Scenario s = FromOvmf(file);
            Windows w = fiveLevel ? Windows64<Amd64La57Kernel>(Amd64La57Kernel.LoaderMappings, Amd64La57Kernel.PageTables, Amd64La57Kernel.Hyperspace)
                : Windows64<Amd64Kernel>(Amd64Kernel.LoaderMappings, Amd64Kernel.PageTables, Amd64Kernel.Hyperspace);
            var list = new Mapping[64];
            MappingProblem problem = fiveLevel ? Plan<Amd64La57>(s, w, list, out int count) : Plan<Amd64>(s, w, list, out count);
            Assert.True(problem.IsOk, $"{file}: {problem.Error} {problem.First} at 0x{problem.Detail:X}");
            Mapping[] plan = list[..count];
            Assert.Equal(s.Map.Count(d => (d.Flags & LoaderMemoryFlags.Runtime) != 0), plan.Count(m => m.Kind == MappingKind.FirmwareRuntime));
            Assert.True(plan.Count(m => m.Kind == MappingKind.FirmwareRuntime) >= 2, "OVMF has runtime code and data");
            Assert.Contains(plan, m => m.Kind == MappingKind.FirmwareRuntime && m.Protection == PageProtection.Executable);
            if (fiveLevel)
            {
                AssertSound<Amd64La57>(plan, w);
                AssertAccountedOnce<Amd64La57>(s, plan);
                AssertCommits<Amd64La57>(s, plan);
            }
            else
            {
                AssertSound<Amd64>(plan, w);
                AssertAccountedOnce<Amd64>(s, plan);
                AssertCommits<Amd64>(s, plan);
            }
        }
    }

    [Fact]
    public void TheTableCheckNamesEveryKindOfTampering()
    {
        Scenario s = FromOvmf("ovmf-q35-512M.txt");
        Windows w = Windows64<Amd64Kernel>(Amd64Kernel.LoaderMappings, Amd64Kernel.PageTables, Amd64Kernel.Hyperspace);
        var list = new Mapping[64];
        Assert.True(Plan<Amd64>(s, w, list, out int count).IsOk);
        Mapping[] plan = list[..count];
        Mapping code = plan.First(m => m.Kind == MappingKind.KernelImage && m.Protection == PageProtection.Executable);
        Mapping stack = plan.First(m => m.Kind == MappingKind.KernelStack);

        MappingError Tamper(Action<PageTable<Amd64>, EmulatedMemory, TrackingAllocator> change)
        {
            var memory = new EmulatedMemory(new SparseMemory());
            var allocator = new TrackingAllocator(0x7F00000000UL >> 12);
            var table = new PageTable<Amd64>(new PhysicalAddress(s.Root));
            Assert.Equal(MapStatus.Done, PageTable<Amd64>.InstallSelfMap(ref memory, ref allocator, table.Root));
            Assert.Equal(MapStatus.Done, PlanTables.Commit(ref memory, ref allocator, table, plan, out _));
            change(table, memory, allocator);
            return PlanTables.Verify(ref memory, table, plan, out _).Error;
        }
        ulong Leaf(PageTable<Amd64> table, EmulatedMemory memory, ulong address)
        {
            ulong entry = table.Root.Value;
            for (int level = 0; level < 3; level++)
                entry = Amd64.TableAddress(level, memory.Read64(new PhysicalAddress(entry) + (ulong)Amd64.Index(level, new VirtualAddress(address)) * 8)).Value;
            return entry + (ulong)Amd64.Index(3, new VirtualAddress(address)) * 8;
        }

        Assert.Equal(MappingError.None, Tamper((_, _, _) => { }));
        Assert.Equal(MappingError.WritableAndExecutable, Tamper((t, m, _) =>
            m.Write64(new PhysicalAddress(Leaf(t, m, code.VirtualBase)), Amd64.MakePage(3, new PhysicalAddress(code.PhysicalBase), PageProtection.Writable | PageProtection.Executable))));
        Assert.Equal(MappingError.WrongProtection, Tamper((t, m, _) =>
            m.Write64(new PhysicalAddress(Leaf(t, m, stack.VirtualBase)), Amd64.MakePage(3, new PhysicalAddress(stack.PhysicalBase), PageProtection.Read))));
        Assert.Equal(MappingError.WrongFrame, Tamper((t, m, _) =>
            m.Write64(new PhysicalAddress(Leaf(t, m, stack.VirtualBase)), Amd64.MakePage(3, new PhysicalAddress(stack.PhysicalBase + Page), PageProtection.Writable))));
        Assert.Equal(MappingError.PageMissing, Tamper((t, m, _) => m.Write64(new PhysicalAddress(Leaf(t, m, stack.VirtualBase + Page)), 0)));
        // The guard page below the stack mapped after all: a page the plan does not list.
        Assert.Equal(MappingError.UnplannedPage, Tamper((t, m, _) => m.Write64(new PhysicalAddress(Leaf(t, m, stack.VirtualBase - Page)), Amd64.MakePage(3, new PhysicalAddress(0x1000), PageProtection.Writable))));
        // An identity mapping of firmware memory slipped in (low half, before everything in the plan).
        Assert.Equal(MappingError.UnplannedPage, Tamper((t, m, a) => Assert.Equal(MapStatus.Done, t.Map(ref m, ref a, new VirtualAddress(0x1000), new PhysicalAddress(0x1000), 3, PageProtection.Read, out TlbFlush f))));
        Assert.Equal(MappingError.SelfMapMismatch, Tamper((t, m, _) => m.Write64(t.Root + (ulong)Amd64.SelfMapIndex * 8, 0)));
    }

    [Fact]
    public void TheSelfMapFormulaFindsEveryLeafEntry()
    {
        Scenario s = FromOvmf("ovmf-q35-2G.txt");
        Windows w = Windows64<Amd64Kernel>(Amd64Kernel.LoaderMappings, Amd64Kernel.PageTables, Amd64Kernel.Hyperspace);
        var list = new Mapping[64];
        Assert.True(Plan<Amd64>(s, w, list, out int count).IsOk);
        var memory = new EmulatedMemory(new SparseMemory());
        var allocator = new TrackingAllocator(0x7F00000000UL >> 12);
        var table = new PageTable<Amd64>(new PhysicalAddress(s.Root));
        Assert.Equal(MapStatus.Done, PageTable<Amd64>.InstallSelfMap(ref memory, ref allocator, table.Root));
        Assert.Equal(MapStatus.Done, PlanTables.Commit(ref memory, ref allocator, table, list.AsSpan(0, count), out _));
        Assert.Equal(w.SelfMap.Start, SelfMap<Amd64>.Base);
        foreach (Mapping m in list[..count].Where(m => m.HasOwnEntries))
        {
            foreach (ulong address in new[] { m.VirtualBase, m.VirtualBase + (m.PageCount - 1) * Page })
            {
                // Through the self-map, the leaf entry's virtual address leads to the physical slot the walker writes.
                Assert.True(table.Translate(ref memory, SelfMap<Amd64>.LeafEntry(new VirtualAddress(address)), out Translation slot));
                Assert.Equal(Amd64.MakePage(3, new PhysicalAddress(m.PhysicalBase + (address - m.VirtualBase)), m.Protection), memory.Read64(slot.Address));
                Assert.Equal(PageProtection.Writable, slot.Protection & (PageProtection.Writable | PageProtection.Executable));
            }
        }
    }

    internal static Windows Windows64<TLayout>(int window, int selfMap, int hyperspace) where TLayout : struct, ILayout
    {
        var regions = new LayoutRegion[TLayout.RegionCount];
        Assert.True(TLayout.Compute(Math.Max(TLayout.MinimumPages, 0x20000), regions));
        return new Windows(regions[window], selfMap < 0 ? default : regions[selfMap], regions[hyperspace]);
    }

    private static string Round<TMode>(Random random, Windows windows, ulong linkBase, bool commit) where TMode : struct, IPagingMode
    {
        Scenario scenario = Generate(random, linkBase);
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

    internal static MappingProblem Plan<TMode>(Scenario s, Windows w, Span<Mapping> list, out int count) where TMode : struct, IPagingMode
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

    /// <summary>A memory map in the shape firmware gives (normalised), loader allocations inside its loader memory, and sometimes one mutation that breaks a rule.</summary>
    internal static Scenario Generate(Random random, ulong linkBase)
    {
        var s = new Scenario();
        var map = new List<LoaderMemoryDescriptor>();
        ulong cursor = (ulong)random.Next(0, 16);
        int entries = random.Next(4, 40);
        for (int i = 0; i < entries; i++)
        {
            switch (random.Next(12))
            {
                case 0: cursor = Math.Max(cursor, 0x100000 + (ulong)random.Next(0, 4096)); break;      // above 4 GiB
                case 1: cursor = Math.Max(cursor, 0x1000000 + (ulong)random.Next(0, 4096)); break;     // above 64 GiB
                case 2: cursor += (ulong)random.Next(1, 512); break;                                    // a hole
            }
            (LoaderMemoryType type, LoaderMemoryFlags flags) = random.Next(10) switch
            {
                0 or 1 or 2 => (LoaderMemoryType.LoaderFree, LoaderMemoryFlags.None),
                3 or 4 or 5 => (LoaderMemoryType.LoaderFirmwareTemporary, LoaderMemoryFlags.None),
                6 => (LoaderMemoryType.LoaderFirmwarePermanent, LoaderMemoryFlags.Runtime | LoaderMemoryFlags.FirmwareCode),
                7 => (LoaderMemoryType.LoaderFirmwarePermanent, random.Next(2) == 0 ? LoaderMemoryFlags.Runtime : LoaderMemoryFlags.None),
                8 => (LoaderMemoryType.LoaderSpecialMemory, LoaderMemoryFlags.None),
                _ => (LoaderMemoryType.LoaderBad, LoaderMemoryFlags.None),
            };
            ulong pages = (ulong)random.Next(1, 2048);
            if (random.Next(200) == 0)
            {
                // Huge MMIO above 32 GiB, sometimes claimed by the firmware for runtime use.
                cursor = Math.Max(cursor, 0x800000);
                (type, flags, pages) = (LoaderMemoryType.LoaderFirmwarePermanent, random.Next(3) == 0 ? LoaderMemoryFlags.Runtime : LoaderMemoryFlags.None, 0x400000);
            }
            map.Add(new LoaderMemoryDescriptor(type, cursor, pages, flags));
            cursor += pages;
        }
        // Loader memory for the allocations, below 4 GiB as UEFI usually gives it.
        map.Add(new LoaderMemoryDescriptor(LoaderMemoryType.LoaderFirmwareTemporary, Math.Max(cursor, 0x80000), 4096));
        var array = map.OrderBy(d => d.BasePage).ToArray();
        int n = array.Length;
        Assert.True(MemoryMap.Normalize(array, ref n).IsOk);
        s.Map = array[..n].ToList();

        var loader = s.Map.Where(d => d.Type == LoaderMemoryType.LoaderFirmwareTemporary).ToList();
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
                return start * Page;
            }
            LoaderMemoryDescriptor last = s.Map[^1];
            ulong fallback = taken.Where(t => t.Start >= last.BasePage).Select(t => t.End).DefaultIfEmpty(last.BasePage).Max();
            taken.Add((fallback, fallback + pages));
            return fallback * Page;
        }

        int sections = random.Next(1, 6);
        s.Ranges.Add(new ImageRange(0, (uint)random.Next(1, 4096), PageProtection.Read)); // headers
        uint rva = 0x1000;
        for (int i = 0; i < sections; i++)
        {
            uint size = (uint)random.Next(1, 0x40000);
            PageProtection protection = random.Next(3) switch { 0 => PageProtection.Executable, 1 => PageProtection.Read, _ => PageProtection.Writable };
            s.Ranges.Add(new ImageRange(rva, size, protection));
            rva += (size + 0xFFFu) & ~0xFFFu;
            if (random.Next(4) == 0)
                rva += 0x1000; // a gap between sections
        }
        s.ImageSize = rva;
        s.KernelVirtual = linkBase;
        s.KernelPhysical = Take(s.ImageSize / Page);
        s.StackPages = (ulong)random.Next(1, 64);
        s.Stack = Take(s.StackPages);
        s.BootDataPages = (ulong)random.Next(1, 16);
        s.BootData = Take(s.BootDataPages);
        s.Hyperspace = Take(1);
        s.HandOff = Take(1);
        s.Root = Take(1);

        if (random.Next(2) == 0)
            Mutate(random, s);
        return s;
    }

    private static void Mutate(Random random, Scenario s)
    {
        LoaderMemoryDescriptor Other() => s.Map.Where(d => d.Type != LoaderMemoryType.LoaderFirmwareTemporary).DefaultIfEmpty(s.Map[0]).ElementAt(0);
        switch (random.Next(12))
        {
            case 0: s.Stack = s.KernelPhysical + Page * (ulong)random.Next(0, (int)(s.ImageSize / Page)); s.Mutation = "stack inside the image"; break;
            case 1: s.HandOff = s.BootData; s.Mutation = "hand-off page is boot data"; break;
            case 2: s.BootData = Other().BasePage * Page; s.Mutation = "boot data outside loader memory"; break;
            case 3: s.HandOff = Other().BasePage * Page; s.Mutation = "identity map of firmware memory"; break;
            case 4: s.Stack += (ulong)random.Next(1, 4096); s.Mutation = "misaligned stack"; break;
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
            case 7: s.KernelVirtual -= Page * 0x100000; s.Mutation = "kernel below the window"; break;
            case 8: s.StackPages = 1UL << random.Next(16, 40); s.Mutation = "huge stack"; break;
            case 9: s.Root = s.Hyperspace; s.Mutation = "root is the hyperspace page"; break;
            case 10:
                // The identity page moved above 4 GiB: out of reach of 32-bit addresses, fine for amd64.
                var high = new LoaderMemoryDescriptor(LoaderMemoryType.LoaderFirmwareTemporary, Math.Max(s.Map[^1].EndPage + 1, 0x100000), 16);
                s.Map.Add(high);
                s.HandOff = high.BasePage * Page;
                s.Mutation = "hand-off page above 4 GiB"; break;
            default: s.Ranges.Add(new ImageRange((uint)s.ImageSize, 0x1000, PageProtection.Read)); s.Mutation = "section past the image"; break;
        }
    }

    /// <summary>
    /// The documented plan, computed independently: image parts at the link address, then stack, boot data and
    /// runtime regions each after a guard page, hyperspace at its region, the self-map, the identity hand-off
    /// page. Null (with the broken rule) when the request cannot be honoured.
    /// </summary>
    internal static List<Mapping>? Expect<TMode>(Scenario s, Windows w, out string why) where TMode : struct, IPagingMode
    {
        why = "";
        var plan = new List<Mapping>();
        ulong imagePages = (s.ImageSize + Page - 1) / Page;
        foreach ((ulong start, ulong pages, string name) in new[] { (s.KernelPhysical, imagePages, "image"), (s.Stack, s.StackPages, "stack"), (s.BootData, s.BootDataPages, "boot data"),
            (s.Hyperspace, 1UL, "hyperspace"), (s.HandOff, 1UL, "hand-off"), (s.Root, 1UL, "root") })
        {
            if (start % Page != 0) { why = name + " misaligned"; return null; }
            if (!InLoaderMemory(s.Map, start / Page, pages)) { why = name + " not in loader memory"; return null; }
        }
        if (!TMode.CanHoldTable(0, new PhysicalAddress(s.Root))) { why = "root out of reach"; return null; }
        uint previousEnd = 0;
        for (int i = 0; i < s.Ranges.Count; i++)
        {
            ImageRange r = s.Ranges[i];
            ulong first = r.Rva / Page, end = (r.Rva + r.Size + Page - 1) / Page;
            if ((r.Protection & (PageProtection.Writable | PageProtection.Executable)) == (PageProtection.Writable | PageProtection.Executable)) { why = "W+X"; return null; }
            if (r.Size == 0 || end > imagePages || (i > 0 && first < previousEnd)) { why = "bad range"; return null; }
            previousEnd = (uint)end;
            plan.Add(new Mapping(MappingKind.KernelImage, s.KernelVirtual + first * Page, s.KernelPhysical + first * Page, end - first, r.Protection));
        }
        ulong cursor = s.KernelVirtual + imagePages * Page;
        void Place(MappingKind kind, ulong physical, ulong pages, PageProtection protection)
        {
            cursor += Page;
            plan.Add(new Mapping(kind, cursor, physical, pages, protection));
            cursor += pages * Page;
        }
        Place(MappingKind.KernelStack, s.Stack, s.StackPages, PageProtection.Writable);
        Place(MappingKind.BootData, s.BootData, s.BootDataPages, PageProtection.Writable);
        foreach (LoaderMemoryDescriptor d in s.Map.Where(d => (d.Flags & LoaderMemoryFlags.Runtime) != 0))
            Place(MappingKind.FirmwareRuntime, d.BasePage * Page, d.PageCount, (d.Flags & LoaderMemoryFlags.FirmwareCode) != 0 ? PageProtection.Executable : PageProtection.Writable);
        plan.Add(new Mapping(MappingKind.Hyperspace, w.Hyperspace.Start.Value, s.Hyperspace, 1, PageProtection.Writable));
        if (w.SelfMap.Size != 0)
            plan.Add(new Mapping(MappingKind.SelfMap, w.SelfMap.Start.Value, s.Root, w.SelfMap.Size / Page, PageProtection.Writable));
        plan.Add(new Mapping(MappingKind.HandOff, s.HandOff, s.HandOff, 1, PageProtection.Executable));

        ulong windowEnd = w.Window.Start.Value + w.Window.Size;
        if (s.KernelVirtual < w.Window.Start.Value || cursor > windowEnd || cursor < s.KernelVirtual) { why = "window"; return null; }
        for (int i = 0; i < plan.Count; i++)
        {
            Mapping m = plan[i];
            ulong vEnd = m.VirtualBase + m.PageCount * Page;
            if (m.HasOwnEntries && m.PhysicalBase + m.PageCount * Page > (1UL << TMode.PhysicalBits)) { why = "frame out of range"; return null; }
            if (vEnd - 1 > (TMode.VirtualBits == 32 ? uint.MaxValue : ulong.MaxValue) || !TMode.IsCanonical(new VirtualAddress(m.VirtualBase)) || !TMode.IsCanonical(new VirtualAddress(vEnd - 1))) { why = "not canonical"; return null; }
            for (int j = 0; j < plan.Count; j++)
            {
                if (j == i)
                    continue;
                Mapping o = plan[j];
                if (m.VirtualBase < o.VirtualBase + o.PageCount * Page && o.VirtualBase < vEnd) { why = $"virtual overlap {m.Kind}/{o.Kind}"; return null; }
                if (m.HasOwnEntries && o.HasOwnEntries && m.PhysicalBase < o.PhysicalBase + o.PageCount * Page && o.PhysicalBase < m.PhysicalBase + m.PageCount * Page) { why = $"physical overlap {m.Kind}/{o.Kind}"; return null; }
            }
            if (m.HasOwnEntries && s.Root >= m.PhysicalBase && s.Root < m.PhysicalBase + m.PageCount * Page) { why = "root inside a mapping"; return null; }
        }
        return plan;
    }

    private static bool InLoaderMemory(List<LoaderMemoryDescriptor> map, ulong page, ulong pages)
        => map.Any(d => d.Type == LoaderMemoryType.LoaderFirmwareTemporary && (d.Flags & LoaderMemoryFlags.Runtime) == 0 && d.BasePage <= page && page + pages <= d.EndPage);

    /// <summary>Properties of the list itself, whatever the request: sorted, disjoint both ways, W^X, one identity page, windowed.</summary>
    internal static void AssertSound<TMode>(Mapping[] plan, Windows w) where TMode : struct, IPagingMode
    {
        for (int i = 0; i < plan.Length; i++)
        {
            Mapping m = plan[i];
            Assert.False((m.Protection & PageProtection.Writable) != 0 && (m.Protection & PageProtection.Executable) != 0, $"{m.Kind} is W+X");
            if (i > 0)
                Assert.True(plan[i - 1].VirtualBase + plan[i - 1].PageCount * Page <= m.VirtualBase, $"{plan[i - 1].Kind} and {m.Kind} overlap virtually");
            for (int j = 0; j < i; j++)
            {
                if (m.HasOwnEntries && plan[j].HasOwnEntries)
                    Assert.False(m.PhysicalBase < plan[j].PhysicalBase + plan[j].PageCount * Page && plan[j].PhysicalBase < m.PhysicalBase + m.PageCount * Page, $"{m.Kind} and {plan[j].Kind} overlap physically");
            }
            if (m.VirtualBase == m.PhysicalBase)
                Assert.Equal(MappingKind.HandOff, m.Kind);
            if (m.Kind is MappingKind.KernelImage or MappingKind.KernelStack or MappingKind.BootData or MappingKind.FirmwareRuntime)
                Assert.True(m.VirtualBase >= w.Window.Start.Value && m.VirtualBase + m.PageCount * Page <= w.Window.Start.Value + w.Window.Size, $"{m.Kind} outside the window");
        }
        Assert.Single(plan, m => m.Kind == MappingKind.HandOff);
    }

    /// <summary>
    /// Carves the allocations with their types, as the loader does at exit: every page of the map is still
    /// described exactly once, no mapped page is free, and the kernel's check accepts the plan.
    /// </summary>
    private static void AssertAccountedOnce<TMode>(Scenario s, Mapping[] plan) where TMode : struct, IPagingMode
    {
        var map = new LoaderMemoryDescriptor[s.Map.Count + 32];
        s.Map.CopyTo(map);
        int count = s.Map.Count;
        void Carve(ulong address, ulong pages, LoaderMemoryType type) => Assert.True(MemoryMap.Carve(map, ref count, address / Page, pages, type).IsOk, $"carving {type}");
        Carve(s.KernelPhysical, s.ImageSize / Page, LoaderMemoryType.LoaderSystemCode);
        Carve(s.Stack, s.StackPages, LoaderMemoryType.LoaderStartupKernelStack);
        Carve(s.BootData, 1, LoaderMemoryType.LoaderSystemBlock);
        if (s.BootDataPages > 1)
            Carve(s.BootData + Page, s.BootDataPages - 1, LoaderMemoryType.LoaderMemoryData);
        Carve(s.Hyperspace, 1, LoaderMemoryType.LoaderMemoryData);
        Carve(s.HandOff, 1, LoaderMemoryType.LoaderMemoryData);
        var carved = map[..count];

        Assert.Equal(s.Map.Sum(d => (double)d.PageCount), carved.Sum(d => (double)d.PageCount));
        for (int i = 1; i < carved.Length; i++)
            Assert.True(carved[i - 1].EndPage <= carved[i].BasePage, "carving made descriptors overlap");
        foreach (Mapping m in plan.Where(m => m.HasOwnEntries))
        {
            ulong first = m.PhysicalBase / Page;
            var holders = carved.Where(d => d.BasePage < first + m.PageCount && first < d.EndPage).ToList();
            Assert.Equal((double)m.PageCount, holders.Sum(d => (double)(Math.Min(d.EndPage, first + m.PageCount) - Math.Max(d.BasePage, first))));
            Assert.DoesNotContain(holders, d => LoaderMemoryDescriptor.IsFree(d.Type));
        }
        MappingProblem check = MappingPlan.Check<TMode>(plan, carved);
        Assert.True(check.IsOk, $"the kernel's check refused the plan: {check.Error} {check.First} at 0x{check.Detail:X}");
        Assert.Equal(MappingError.TypeMismatch, MappingPlan.Check<TMode>(plan, s.Map.ToArray()).Error); // before carving, the kinds' types are missing
    }

    /// <summary>Builds the tables on an emulated machine: they hold exactly the plan, within the table bound.</summary>
    internal static void AssertCommits<TMode>(Scenario s, Mapping[] plan) where TMode : struct, IPagingMode
    {
        var memory = new EmulatedMemory(new SparseMemory());
        var allocator = new TrackingAllocator(TMode.PhysicalBits > 32 ? 0x7F00000000UL >> 12 : 0xF0000UL);
        var table = new PageTable<TMode>(new PhysicalAddress(s.Root));
        memory.Zero(table.Root, Page);
        Assert.Equal(MapStatus.Done, PageTable<TMode>.InstallSelfMap(ref memory, ref allocator, table.Root));
        Assert.Equal(MapStatus.Done, PlanTables.Commit(ref memory, ref allocator, table, plan, out int failed));
        Assert.Equal(-1, failed);
        Assert.True((ulong)allocator.Live.Count + 1 <= MappingPlan.TableBound<TMode>(plan), $"{allocator.Live.Count + 1} tables, bound {MappingPlan.TableBound<TMode>(plan)}");
        MappingProblem verified = PlanTables.Verify(ref memory, table, plan, out PlanCensus census);
        Assert.True(verified.IsOk, $"{verified.Error} {verified.First} at 0x{verified.Detail:X}");
        Assert.Equal(plan.Where(m => m.HasOwnEntries).Sum(m => (double)m.PageCount), (double)census.Pages);
        Assert.Equal(plan.Count(m => m.HasOwnEntries), census.Mappings);
    }
}
