using ExectOS.Hardware;

namespace ExectOS.Boot
{
    /// <summary>
    /// The firmware memory of the loader's map (firmware-permanent and special memory: where ACPI tables live) as
    /// the ranges the ACPI reader may touch. A range must be covered end to end by such descriptors: a table in
    /// free RAM, in a hole or beyond what the paging mode reaches is refused before it is read.
    /// </summary>
    public readonly unsafe struct FirmwareRanges : IFirmwareRanges
    {
        private readonly LoaderMemoryDescriptor* _map;
        private readonly int _count;

        public FirmwareRanges(LoaderMemoryDescriptor* map, int count)
        {
            _map = map;
            _count = count;
        }

        public bool Contains(ulong address, ulong length)
        {
            if (length == 0 || address + length < address)
                return false;
            ulong at = address, end = address + length;
            // The map is sorted and does not overlap: walk the descriptors covering [at, end) in order.
            for (int i = 0; i < _count && at < end; i++)
            {
                LoaderMemoryDescriptor d = _map[i];
                ulong first = d.BasePage << FirmwarePage.Shift, last = (d.BasePage + d.PageCount) << FirmwarePage.Shift;
                if (last <= at)
                    continue;
                if (first > at || !IsFirmware(d.Type))
                    return false;
                at = last;
            }
            return at >= end;
        }

        private static bool IsFirmware(LoaderMemoryType type)
            => type is LoaderMemoryType.LoaderFirmwarePermanent or LoaderMemoryType.LoaderSpecialMemory;
    }
}
