using System.Runtime.InteropServices;
using ExectOS.Memory;

namespace ExectOS.Boot
{
    /// <summary>What a mapping of the plan is for; also its order of precedence in error messages.</summary>
    public enum MappingKind : uint
    {
        None = 0,
        /// <summary>The page holding the hand-off code and its descriptor tables: the only identity mapping.</summary>
        HandOff = 1,
        /// <summary>One part of the kernel image (headers or a section) at its link address.</summary>
        KernelImage = 2,
        /// <summary>The kernel's start-up stack, with a not-present guard page below it.</summary>
        KernelStack = 3,
        /// <summary>Loader block, mapping list and memory descriptors.</summary>
        BootData = 4,
        /// <summary>The page the kernel remaps to reach any physical page (NT's hyperspace).</summary>
        Hyperspace = 5,
        /// <summary>A run the firmware needs at runtime (EFI_MEMORY_RUNTIME), in the loader window.</summary>
        FirmwareRuntime = 6,
        /// <summary>The root's self-map slot: every page table, at the layout's page-table region.</summary>
        SelfMap = 7,
        /// <summary>
        /// The console UART's registers where they are memory-mapped (AArch64's PL011), as device memory in the loader
        /// window, so the kernel's first line and its bug checks have a console before its memory manager runs.
        /// </summary>
        ConsoleDevice = 8,
    }

    /// <summary>
    /// One mapping of the plan: <see cref="PageCount"/> pages from <see cref="VirtualBase"/> to
    /// <see cref="PhysicalBase"/>, with one protection. Defined once for the loader block (32 bytes).
    /// </summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Mapping
    {
        public ulong VirtualBase;
        public ulong PhysicalBase;
        public ulong PageCount;
        public MappingKind Kind;
        public PageProtection Protection;

        public Mapping(MappingKind kind, ulong virtualBase, ulong physicalBase, ulong pageCount, PageProtection protection)
        {
            Kind = kind;
            VirtualBase = virtualBase;
            PhysicalBase = physicalBase;
            PageCount = pageCount;
            Protection = protection;
        }

        /// <summary>Whether the pages are mapped by entries of their own (the self-map slot reuses the tables).</summary>
        public readonly bool HasOwnEntries => Kind != MappingKind.SelfMap;

        public static string Describe(MappingKind kind) => kind switch
        {
            MappingKind.HandOff => "hand-off page",
            MappingKind.KernelImage => "kernel image",
            MappingKind.KernelStack => "kernel stack",
            MappingKind.BootData => "boot data",
            MappingKind.Hyperspace => "hyperspace page",
            MappingKind.FirmwareRuntime => "firmware runtime region",
            MappingKind.SelfMap => "page-table self-map",
            MappingKind.ConsoleDevice => "console registers",
            _ => "mapping",
        };
    }

    /// <summary>One part of a PE image to map: its offset, size in bytes and what its section allows.</summary>
    public struct ImageRange
    {
        public uint Rva;
        public uint Size;
        public PageProtection Protection;

        public ImageRange(uint rva, uint size, PageProtection protection)
        {
            Rva = rva;
            Size = size;
            Protection = protection;
        }

        /// <summary>The protection PE section characteristics ask for (IMAGE_SCN_MEM_WRITE, IMAGE_SCN_MEM_EXECUTE).</summary>
        public static PageProtection FromCharacteristics(uint characteristics)
        {
            PageProtection protection = PageProtection.Read;
            if ((characteristics & Images.PeSection.Writable) != 0)
                protection |= PageProtection.Writable;
            if ((characteristics & Images.PeSection.Executable) != 0)
                protection |= PageProtection.Executable;
            return protection;
        }
    }
}
