namespace ExectOS.Boot
{
    /// <summary>ExectOS's loader memory types (LOADER_MEMORY_TYPE), same names and values.</summary>
    public enum LoaderMemoryType : uint
    {
        LoaderExceptionBlock = 0,
        LoaderSystemBlock = 1,
        LoaderFree = 2,
        LoaderBad = 3,
        LoaderLoadedProgram = 4,
        LoaderFirmwareTemporary = 5,
        LoaderFirmwarePermanent = 6,
        LoaderOsloaderHeap = 7,
        LoaderOsloaderStack = 8,
        LoaderSystemCode = 9,
        LoaderHalCode = 10,
        LoaderBootDriver = 11,
        LoaderConsoleInDriver = 12,
        LoaderConsoleOutDriver = 13,
        LoaderStartupDpcStack = 14,
        LoaderStartupKernelStack = 15,
        LoaderStartupPanicStack = 16,
        LoaderStartupPcrPage = 17,
        LoaderStartupPdrPage = 18,
        LoaderRegistryData = 19,
        LoaderMemoryData = 20,
        LoaderNlsData = 21,
        LoaderSpecialMemory = 22,
        LoaderBBTMemory = 23,
        LoaderReserve = 24,
        LoaderXIPRom = 25,
        LoaderHardwareCachedMemory = 26,
        LoaderMaximum = 27,
    }

    /// <summary>What the firmware says of a run besides its type (only bits above <see cref="ConversionIndexMask"/> are flags).</summary>
    [System.Flags]
    public enum LoaderMemoryFlags : uint
    {
        None = 0,
        /// <summary>The firmware needs the run mapped after ExitBootServices (EFI_MEMORY_RUNTIME).</summary>
        Runtime = 1u << 31,
        /// <summary>The run holds firmware code (EfiRuntimeServicesCode): mapped executable, never writable.</summary>
        FirmwareCode = 1u << 30,
        /// <summary>
        /// The run is device registers the firmware uses at runtime (EfiMemoryMappedIO, EfiMemoryMappedIOPortSpace, or a
        /// runtime run the firmware does not allow write-back caching for): mapped as device memory where the mode can say so.
        /// </summary>
        Device = 1u << 29,
        /// <summary>While a map is converted, the low bits hold the firmware's entry index for error messages.</summary>
        ConversionIndexMask = (1u << 24) - 1,
    }

    /// <summary>
    /// One run of physical pages of one type, as the kernel receives it. Page numbers are 64-bit
    /// (ExectOS's are 32-bit ULONGs; a 32-bit view of addresses is the class of bug #23), in firmware pages
    /// (<see cref="FirmwarePage"/>), whatever the paging mode's page size.
    /// </summary>
    public struct LoaderMemoryDescriptor
    {
        public LoaderMemoryType Type;
        public LoaderMemoryFlags Flags;
        public ulong BasePage;
        public ulong PageCount;

        public LoaderMemoryDescriptor(LoaderMemoryType type, ulong basePage, ulong pageCount, LoaderMemoryFlags flags = LoaderMemoryFlags.None)
        {
            Type = type;
            Flags = flags;
            BasePage = basePage;
            PageCount = pageCount;
        }

        public readonly ulong EndPage => BasePage + PageCount;

        /// <summary>Memory the kernel may take for its own use once it owns the machine.</summary>
        public static bool IsFree(LoaderMemoryType type)
            => type == LoaderMemoryType.LoaderFree || type == LoaderMemoryType.LoaderFirmwareTemporary
            || type == LoaderMemoryType.LoaderLoadedProgram || type == LoaderMemoryType.LoaderOsloaderStack;
    }

    /// <summary>The firmware's page: UEFI allocates and describes memory in 4 KiB pages on every architecture.</summary>
    public static class FirmwarePage
    {
        public const int Shift = 12;
        public const ulong Size = 1UL << Shift;
    }
}
