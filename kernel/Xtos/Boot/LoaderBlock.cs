using System.Runtime.InteropServices;

namespace ExectOS.Boot
{
    /// <summary>Which instruction set an image or a loader block is for.</summary>
    public enum BootArchitecture : uint
    {
        Unknown = 0,
        Amd64 = 1,
        I686 = 2,
        AArch64 = 3,
    }

    /// <summary>
    /// What the loader hands the kernel. Defined once, used by both sides. Fields are fixed-width so the
    /// i686 and amd64 layouts are identical. A minor version only appends fields; Size says how many the
    /// loader filled, so an older kernel can accept a newer loader's block.
    /// </summary>
    [StructLayout(LayoutKind.Sequential)]
    public unsafe struct LoaderBlock
    {
        public const uint ExpectedSignature = 0x424C5458; // "XTLB"
        public const ushort CurrentMajorVersion = 1;
        public const ushort CurrentMinorVersion = 6;

        public uint Signature;
        public ushort MajorVersion;
        public ushort MinorVersion;
        public uint Size;
        public BootArchitecture Architecture;

        /// <summary>Where the kernel image sits physically, the virtual base it runs at (its link base), and its size in bytes.</summary>
        public ulong KernelPhysicalBase;
        public ulong KernelVirtualBase;
        public ulong KernelImageSize;

        /// <summary>The stack the kernel starts on (lowest virtual address and size in bytes).</summary>
        public ulong KernelStackBase;
        public ulong KernelStackSize;

        /// <summary>The page-table root loaded at hand-off.</summary>
        public ulong PageTableRoot;

        /// <summary>UEFI system table (physical) and firmware revision, for later runtime-services use.</summary>
        public ulong FirmwareSystemTable;
        public uint FirmwareRevision;
        public uint Reserved;

        /// <summary>Boot parameters: printable ASCII, zero-terminated (see <see cref="KernelParameters"/>).</summary>
        public fixed byte Parameters[KernelParameters.Capacity];

        // Version 1.1: the memory map, sorted and non-overlapping, loader allocations carved out.

        /// <summary>Where MemoryDescriptorCount <see cref="LoaderMemoryDescriptor"/>s are (virtual from 1.2 on).</summary>
        public ulong MemoryDescriptors;
        public uint MemoryDescriptorCount;
        public uint Reserved2;

        // Version 1.2: the kernel runs on the loader's tables, built from a mapping plan, at its link address.

        /// <summary>Virtual address of MappingCount <see cref="Mapping"/>s: the plan the tables were built from, sorted.</summary>
        public ulong Mappings;
        public uint MappingCount;
        /// <summary>Paging levels of the mode the loader chose.</summary>
        public uint PagingLevels;

        // Version 1.3: the paging mode by its generated identity, so the kernel enters its code for that mode once.

        /// <summary>The chosen mode's <c>IPagingMode.Id</c>: one of the image's modes (<c>ExectOS.Paging.ImageModes</c>).</summary>
        public uint PagingMode;
        public uint Reserved3;

        // Version 1.4: memory the chosen mode cannot reach, left out of the map (ExectOS #23: left out, never refused).

        /// <summary>Pages (firmware pages) left out of <see cref="MemoryDescriptors"/>, and how many of them were free.</summary>
        public ulong PagesLeftOut;
        public ulong FreePagesLeftOut;
        /// <summary>Which limits left them out (<see cref="ReachLimit"/> flags).</summary>
        public ReachLimit LeftOutReason;
        public uint Reserved4;

        // Version 1.5: the ACPI root pointer, for the processors and interrupt controllers the firmware describes, and the
        // page the other processors start in.

        /// <summary>Physical address of the RSDP from the firmware's configuration table (ACPI 2.0 preferred), 0 when none.</summary>
        public ulong AcpiRootPointer;

        /// <summary>A page below 1 MiB the loader reserved (typed LoaderMemoryData) for the other processors' start-up code, 0 when none.</summary>
        public ulong ProcessorStartPage;

        /// <summary>A split mode's high-half root (AArch64 TTBR1_EL1, where the kernel lives), 0 for modes with one root (minor version 6).</summary>
        public ulong HighPageTableRoot;

        /// <summary>Fills in the header fields of a block built by this loader version.</summary>
        public static unsafe void InitializeHeader(LoaderBlock* block, BootArchitecture architecture)
        {
            block->Signature = ExpectedSignature;
            block->MajorVersion = CurrentMajorVersion;
            block->MinorVersion = CurrentMinorVersion;
            block->Size = (uint)sizeof(LoaderBlock);
            block->Architecture = architecture;
        }

        /// <summary>
        /// The virtual address of the console's registers (physical <paramref name="registers"/>) in the block's mapping
        /// list, for the kernel's first line: 0 when the registers are not memory-mapped (0), or when the block is not
        /// one this version reads or has no such mapping (the kernel then writes nothing until it bug-checks).
        /// </summary>
        public static unsafe ulong ConsoleRegisters(LoaderBlock* block, ulong registers)
        {
            if (registers == 0 || block == null || block->Signature != ExpectedSignature || block->MajorVersion != CurrentMajorVersion || block->Size < (uint)sizeof(LoaderBlock))
                return 0;
            Mapping* mappings = (Mapping*)block->Mappings;
            for (uint i = 0; mappings != null && i < block->MappingCount && i < 1024; i++)
            {
                // Pages are at least the firmware's 4 KiB in every mode: the range is checked in those.
                if (mappings[i].Kind == MappingKind.ConsoleDevice && registers >= mappings[i].PhysicalBase && registers - mappings[i].PhysicalBase < mappings[i].PageCount << FirmwarePage.Shift)
                    return mappings[i].VirtualBase + (registers - mappings[i].PhysicalBase);
            }
            return 0;
        }

        /// <summary>Checks a block received at kernel entry before any other field is trusted.</summary>
        public static unsafe LoaderBlockError Validate(LoaderBlock* block, BootArchitecture expected)
        {
            if (block == null)
                return LoaderBlockError.Missing;
            if (block->Signature != ExpectedSignature)
                return LoaderBlockError.BadSignature;
            if (block->MajorVersion != CurrentMajorVersion)
                return LoaderBlockError.UnsupportedVersion;
            if (block->Size < (uint)sizeof(LoaderBlock))
                return LoaderBlockError.TooSmall;
            if (block->Architecture != expected)
                return LoaderBlockError.WrongArchitecture;
            return LoaderBlockError.None;
        }
    }

    /// <summary>Why a loader block was refused (the kernel: LOADER_BLOCK_INVALID, parameter 1).</summary>
    public enum LoaderBlockError
    {
        None = 0,
        /// <summary>The kernel was entered without a loader block.</summary>
        Missing = 1,
        /// <summary>The block does not start with the loader block signature (3: the signature found).</summary>
        BadSignature = 2,
        /// <summary>The block's major version is not this kernel's.</summary>
        UnsupportedVersion = 3,
        /// <summary>The block is smaller than this kernel's loader block.</summary>
        TooSmall = 4,
        /// <summary>The block is for another boot architecture.</summary>
        WrongArchitecture = 5,
        /// <summary>The block names a paging mode this kernel image was not built for (3: the mode's id).</summary>
        UnknownPagingMode = 6,
    }
}
