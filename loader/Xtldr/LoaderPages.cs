using ExectOS.Boot;
using ExectOS.Loader.Efi;
using ExectOS.Paging;

namespace ExectOS.Loader
{
    /// <summary>
    /// Allocations the kernel's mappings will cover: whole pages of the largest page size of the image's modes, aligned
    /// to it (the loader allocates before it chooses the mode, and a 64 KiB-granule mode maps 64 KiB at a time). With
    /// 4 KiB pages this is the firmware's own allocation; with larger ones, a little more is asked for and the slack
    /// before and after the aligned run is given back.
    /// </summary>
    internal static unsafe class LoaderPages
    {
        /// <summary>The allocation unit in bytes.</summary>
        internal static ulong Unit => 1UL << ImageModes.LargestPageShift;

        /// <summary>Firmware pages in one unit.</summary>
        internal static ulong UnitPages => Unit >> FirmwarePage.Shift;

        /// <summary><paramref name="bytes"/> rounded up to whole units.</summary>
        internal static ulong Round(ulong bytes) => (bytes + Unit - 1) & ~(Unit - 1);

        /// <summary>
        /// <paramref name="bytes"/> (rounded up to whole units) of <paramref name="memoryType"/>, aligned to the unit; with
        /// <see cref="EfiAllocateType.MaxAddress"/>, <paramref name="address"/> is the highest address on entry. The
        /// address of the aligned run on success.
        /// </summary>
        internal static nuint Allocate(EfiBootServices* bs, EfiAllocateType type, EfiMemoryType memoryType, ulong bytes, ref ulong address)
        {
            ulong unit = Unit, size = Round(bytes);
            ulong pages = (size + unit - FirmwarePage.Size) >> FirmwarePage.Shift;
            ulong at = address;
            nuint status = bs->AllocatePages(type, memoryType, (nuint)pages, &at);
            if (EfiStatus.IsError(status))
                return status;
            ulong aligned = (at + unit - 1) & ~(unit - 1), end = at + (pages << FirmwarePage.Shift);
            if (aligned > at)
                bs->FreePages(at, (nuint)((aligned - at) >> FirmwarePage.Shift));
            if (end > aligned + size)
                bs->FreePages(aligned + size, (nuint)((end - aligned - size) >> FirmwarePage.Shift));
            address = aligned;
            return status;
        }
    }
}
