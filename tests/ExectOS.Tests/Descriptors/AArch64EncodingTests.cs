using ExectOS.Memory;
using ExectOS.Paging.AArch64;
using ExectOS.Tests.Memory;
using Xunit;

namespace ExectOS.Tests.Descriptors;

/// <summary>
/// The AArch64 descriptors against values worked out by hand from the Arm ARM's VMSAv8-64 stage 1 descriptor formats:
/// bits 1:0 (0b11 table or page, 0b01 block), AttrIndx 4:2, NS 5, AP 7:6, SH 9:8, AF 10, nG 11, the output address,
/// PXN 53, UXN 54; and the index bits each granule resolves per level.
/// </summary>
public class AArch64EncodingTests
{
    private const PageProtection KernelData = PageProtection.Writable | PageProtection.Global;

    [Theory]
    // Kernel RW, never executable, global: bits 1:0 = 11, AttrIndx 0, AP 00, SH 11 (0x300), AF (0x400), PXN and UXN.
    [InlineData(KernelData, 0x0060_0000_4000_0703UL)]
    // The same, not global: nG (0x800).
    [InlineData(PageProtection.Writable, 0x0060_0000_4000_0F03UL)]
    // Kernel code: read-only (AP[2], 0x80), PXN clear, UXN set.
    [InlineData(PageProtection.Executable | PageProtection.Global, 0x0040_0000_4000_0783UL)]
    // User data: AP[1] (0x40), not global, neither privilege executes.
    [InlineData(PageProtection.Writable | PageProtection.User, 0x0060_0000_4000_0F43UL)]
    // User code: AP 11 (read-only at EL0 and EL1), UXN clear, PXN set (the kernel never runs user pages).
    [InlineData(PageProtection.Executable | PageProtection.User, 0x0020_0000_4000_0FC3UL)]
    public void A4KPageIsEncodedAsTheArmArmSays(PageProtection protection, ulong expected)
    {
        Assert.Equal(expected, AArch64Granule4K.MakePage(AArch64Granule4K.L3Level, new PhysicalAddress(0x4000_0000), protection));
        Assert.Equal(protection, AArch64Granule4K.Protection(AArch64Granule4K.L3Level, expected));
    }

    [Fact]
    public void BlocksTablesAndOtherGranulesAreEncodedAsTheArmArmSays()
    {
        // Blocks: bits 1:0 = 01, the same attributes as a page.
        Assert.Equal(0x0060_0000_4000_0701UL, AArch64Granule4K.MakePage(AArch64Granule4K.L1Level, new PhysicalAddress(0x4000_0000), KernelData));
        Assert.Equal(0x0060_0000_8000_0701UL, AArch64Granule4K.MakePage(AArch64Granule4K.L2Level, new PhysicalAddress(0x8000_0000), KernelData));
        Assert.Equal(0x0060_0000_4200_0701UL, AArch64Granule16K.MakePage(AArch64Granule16K.L2Level, new PhysicalAddress(0x4200_0000), KernelData));
        Assert.Equal(0x0060_0000_6000_0701UL, AArch64Granule64K.MakePage(AArch64Granule64K.L2Level, new PhysicalAddress(0x6000_0000), KernelData));
        // Pages of the larger granules.
        Assert.Equal(0x0060_0000_4000_4703UL, AArch64Granule16K.MakePage(AArch64Granule16K.L3Level, new PhysicalAddress(0x4000_4000), KernelData));
        Assert.Equal(0x0060_0000_4001_0703UL, AArch64Granule64K.MakePage(AArch64Granule64K.L3Level, new PhysicalAddress(0x4001_0000), KernelData));
        // Tables: the next table's address and bits 1:0 = 11; no hierarchical limit (APTable, UXNTable, PXNTable zero).
        // The self-mapped granules' tables also carry a kernel data page's attributes where a table descriptor ignores
        // bits (UXN, PXN, AF, SH = inner shareable, AttrIndx 0): 0x0060_0000_0000_0700.
        Assert.Equal(0x0060_0000_4000_1703UL, AArch64Granule4K.MakeTable(0, new PhysicalAddress(0x4000_1000), PageProtection.Writable | PageProtection.Executable));
        Assert.Equal(0x0000_0000_4000_4003UL, AArch64Granule16K.MakeTable(0, new PhysicalAddress(0x4000_4000), PageProtection.Writable | PageProtection.Executable | PageProtection.User));
        Assert.Equal(0x0060_0000_4001_0703UL, AArch64Granule64K.MakeTable(0, new PhysicalAddress(0x4001_0000), PageProtection.Writable | PageProtection.Executable));
        // Frames hold output address bits 47 down to the granule: bit 48 and a misaligned frame are refused.
        Assert.False(AArch64Granule4K.CanHoldPage(AArch64Granule4K.L3Level, new PhysicalAddress(1UL << 48)));
        Assert.True(AArch64Granule64K.CanHoldPage(AArch64Granule64K.L3Level, new PhysicalAddress(0xFFFF_FFFF_0000)));
        Assert.False(AArch64Granule16K.CanHoldTable(1, new PhysicalAddress(0x4000_1000)));
    }

    /// <summary>
    /// Through the self-map the processor reads a table descriptor as a level 3 page: it must be a valid page with the
    /// access flag (or the first access faults), global, writable at EL1 only, executable nowhere; and the page attributes must
    /// not limit the table's own walk (the hierarchical limits stay zero), so a table still grants what its leaves say.
    /// </summary>
    [Fact]
    public void ATableDescriptorReadThroughTheSelfMapIsAWritableNonExecutableKernelPage()
    {
        ulong table = AArch64Granule4K.MakeTable(1, new PhysicalAddress(0x4000_2000), PageProtection.Writable | PageProtection.Executable | PageProtection.User);
        Assert.Equal(EntryKind.Table, AArch64Granule4K.Classify(1, table));
        Assert.Equal(EntryKind.Page, AArch64Granule4K.Classify(3, table));
        Assert.Equal(0x4000_2000UL, AArch64Granule4K.PageAddress(3, table).Value);
        Assert.Equal(PageProtection.Read | PageProtection.Writable | PageProtection.Global, AArch64Granule4K.Protection(3, table));
        Assert.Equal(1UL << 10, table & (1UL << 10));        // AF
        Assert.Equal(0UL, table & (0x1FUL << 59));            // NSTable, APTable, UXNTable, PXNTable
        Assert.Equal(PageProtection.Read | PageProtection.Writable | PageProtection.Executable | PageProtection.User, AArch64Granule4K.Protection(1, table));
        // The 16 KiB granule has no self-map: its tables are plain.
        Assert.Equal(0UL, AArch64Granule16K.MakeTable(1, new PhysicalAddress(0x4000_4000), PageProtection.Writable) & 0xFFFF_0000_0000_0FFCUL);
    }

    /// <summary>
    /// Device memory is the descriptors' `device` role: AArch64's AttrIndx bit 0 (MAIR attribute 1, Device-nGnRnE), x86's
    /// PCD (UC- with the default PAT). It is set for PageProtection.Device only, read back as Device, and tables never carry it.
    /// </summary>
    [Fact]
    public void DeviceMemoryIsTheDeviceRoleBitOnEveryArchitecture()
    {
        const PageProtection Registers = PageProtection.Writable | PageProtection.Device;
        ulong device = AArch64Granule4K.MakePage(3, new PhysicalAddress(0x0900_0000), Registers);
        Assert.Equal(1UL << 2, device & (7UL << 2));
        Assert.Equal(0UL, AArch64Granule4K.MakePage(3, new PhysicalAddress(0x0900_0000), PageProtection.Writable) & (7UL << 2));
        Assert.Equal(Registers, AArch64Granule4K.Protection(3, device) & Registers);
        ulong x86 = ExectOS.Paging.X86.Amd64.MakePage(3, new PhysicalAddress(0xFEE0_0000), Registers);
        Assert.Equal(1UL << 4, x86 & (1UL << 4));
        Assert.Equal(0UL, ExectOS.Paging.X86.Amd64.MakePage(3, new PhysicalAddress(0xFEE0_0000), PageProtection.Writable) & (1UL << 4));
        Assert.Equal(Registers, ExectOS.Paging.X86.Amd64.Protection(3, x86) & Registers);
        Assert.Equal(0UL, ExectOS.Paging.X86.Amd64.MakeTable(0, new PhysicalAddress(0x1000), Registers) & (1UL << 4));
    }

    [Fact]
    public void OnlyValidDescriptorsAreReadAsTablesOrPages()
    {
        // Level 3: 0b11 is a page; 0b01 is reserved, so invalid (the walker must not read it as a page).
        Assert.Equal(EntryKind.Page, AArch64Granule4K.Classify(3, 0x0060_0000_4000_0703UL));
        Assert.Equal(EntryKind.NotPresent, AArch64Granule4K.Classify(3, 0x0060_0000_4000_0701UL));
        // Level 0 of the 4 KiB granule has no blocks: 0b01 there is invalid too.
        Assert.Equal(EntryKind.Table, AArch64Granule4K.Classify(0, 0x4000_1003UL));
        Assert.Equal(EntryKind.NotPresent, AArch64Granule4K.Classify(0, 0x4000_0001UL));
        // Level 1 of 16 KiB (no 64 GiB block without FEAT_LPA2) and level 1 of 64 KiB (no 4 TiB block without FEAT_LPA).
        Assert.False(AArch64Granule16K.LevelMapsPages(1));
        Assert.Equal(EntryKind.NotPresent, AArch64Granule16K.Classify(1, 0x4000_0001UL));
        Assert.False(AArch64Granule64K.LevelMapsPages(0));
        // Levels with blocks: 0b11 a table, 0b01 a block.
        Assert.Equal(EntryKind.Table, AArch64Granule4K.Classify(1, 0x4000_1003UL));
        Assert.Equal(EntryKind.Page, AArch64Granule4K.Classify(1, 0x0060_0000_4000_0701UL));
        Assert.Equal(EntryKind.Page, AArch64Granule64K.Classify(1, 0x0060_0000_6000_0701UL));
        Assert.Equal(0UL, AArch64Granule4K.PresentMask(3) ^ 1UL);
    }

    [Fact]
    public void EachGranuleResolvesTheArmArmsIndexBits()
    {
        var address = new VirtualAddress(0xFFFF_8000_1234_5000);
        // 4 KiB: 9 bits a level, 47:39, 38:30, 29:21, 20:12.
        Assert.Equal((256, 0, 0x91, 0x145), (AArch64Granule4K.L0Index(address), AArch64Granule4K.L1Index(address), AArch64Granule4K.L2Index(address), AArch64Granule4K.L3Index(address)));
        // 16 KiB: level 0 bit 47 alone, then 11 bits: 46:36, 35:25, 24:14.
        Assert.Equal((1, 0, 9, 0xD1), (AArch64Granule16K.L0Index(address), AArch64Granule16K.L1Index(address), AArch64Granule16K.L2Index(address), AArch64Granule16K.L3Index(address)));
        // 64 KiB: level 1 six bits 47:42, then 13 bits: 41:29, 28:16.
        Assert.Equal((32, 0, 0x1234), (AArch64Granule64K.L1Index(address), AArch64Granule64K.L2Index(address), AArch64Granule64K.L3Index(address)));
        Assert.Equal((1 << 13) * 8, 1 << AArch64Granule64K.PageShift);
        Assert.Equal(2, AArch64Granule16K.LevelIndexBits(0) + 1);
        Assert.False(AArch64Granule4K.LevelMapsPages(0));
    }

    [Fact]
    public void TheTwoHalvesAreTranslatedFromTwoRoots()
    {
        Assert.Equal(2, AArch64Granule4K.RootCount);
        Assert.Equal(0, AArch64Granule4K.RootOf(new VirtualAddress(0x0000_FFFF_FFFF_F000)));
        Assert.Equal(1, AArch64Granule4K.RootOf(new VirtualAddress(0xFFFF_0000_0000_0000)));
        Assert.True(AArch64Granule4K.IsCanonical(new VirtualAddress(0x0000_FFFF_FFFF_FFFF)));
        Assert.True(AArch64Granule4K.IsCanonical(new VirtualAddress(0xFFFF_0000_0000_0000)));
        Assert.False(AArch64Granule4K.IsCanonical(new VirtualAddress(0x0001_0000_0000_0000)));
        Assert.False(AArch64Granule4K.IsCanonical(new VirtualAddress(0xFFFE_FFFF_FFFF_FFFF)));

        // A kernel page goes into the high root's tree; the low root stays empty.
        var memory = new EmulatedMemory(new SparseMemory());
        var allocator = TrackingAllocator.For<AArch64Granule4K>(0x4000_0000);
        Assert.Equal(MapStatus.Done, PageTable<AArch64Granule4K>.Create(ref memory, ref allocator, false, out PageTable<AArch64Granule4K> table));
        Assert.NotEqual(table.Root, table.HighRoot);
        var kernel = new VirtualAddress(0xFFFF_8000_1234_5000);
        Assert.Equal(MapStatus.Done, table.Map(ref memory, ref allocator, kernel, new PhysicalAddress(0x4000_0000), 3, KernelData, out TlbFlush flush));
        flush.Ignore();
        Assert.Equal(0x0060_0000_4000_0703UL, memory.Read64(Entries.SlotOf(memory, table, kernel, 3)));
        Assert.Equal(EntryKind.Table, AArch64Granule4K.Classify(0, memory.Read64(table.HighRoot + 256 * 8)));
        Assert.False(memory.Memory.AnyExcept(table.Root, 4096, 0));
        Assert.True(table.Translate(ref memory, kernel + 0x123, out Translation translation));
        Assert.Equal((0x4000_0123UL, 3, KernelData), (translation.Address.Value, translation.Level, translation.Protection));
        Assert.False(table.Translate(ref memory, new VirtualAddress(0x0000_8000_1234_5000), out _));
    }

    [Fact]
    public void GranuleRequirementsReadIdAa64Mmfr0()
    {
        // Cortex-A72's ID_AA64MMFR0_EL1 (TRM): TGran4 = 0, TGran64 = 0, TGran16 = 0 (no 16 KiB granule), PARange = 4.
        const ulong CortexA72 = 0x0000_0000_0000_1124;
        FeatureRequirement four = AArch64Granule4K.Requirement(0), sixteen = AArch64Granule16K.Requirement(0), sixtyFour = AArch64Granule64K.Requirement(0);
        Assert.Equal((FeatureProbe.Register, "ID_AA64MMFR0_EL1", 28, 4), (four.Probe, four.Register, four.Word, four.Bit));
        Assert.True(four.Holds(CortexA72));
        Assert.True(sixtyFour.Holds(CortexA72));
        Assert.False(sixteen.Holds(CortexA72));
        Assert.True(sixteen.Holds(CortexA72 | (1UL << 20)));
        Assert.False(four.Holds(CortexA72 | (0xFUL << 28)));
        Assert.False(sixtyFour.Holds(CortexA72 | (0xFUL << 24)));
        // The same register, the same identifier, in every requirement naming it.
        Assert.Equal(four.Selector, sixteen.Selector);
    }
}
