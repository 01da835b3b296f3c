using ExectOS.Text;

namespace ExectOS.Boot
{
    /// <summary>Why a mapping plan could not be made, or does not match the memory it describes.</summary>
    public enum MappingError
    {
        None = 0,
        ListTooSmall,
        Misaligned,
        NotCanonical,
        OutsideWindow,
        WindowFull,
        FrameOutOfRange,
        NotLoaderMemory,
        WritableAndExecutable,
        ImageRangeInvalid,
        VirtualOverlap,
        PhysicalOverlap,
        SelfMapMismatch,
        NotSorted,
        TypeMismatch,
        RuntimeRegionMissing,
        PageMissing,
        UnplannedPage,
        WrongFrame,
        WrongProtection,
    }

    /// <summary>What went wrong and between which entries: their kinds, and the address where it shows.</summary>
    public struct MappingProblem
    {
        public MappingError Error;
        public MappingKind First;
        public MappingKind Second;
        public ulong Detail;

        public readonly bool IsOk => Error == MappingError.None;

        public static MappingProblem Of(MappingError error, MappingKind first = MappingKind.None, MappingKind second = MappingKind.None, ulong detail = 0)
            => new MappingProblem { Error = error, First = first, Second = second, Detail = detail };

        public static MappingProblem Ok => default;

        public static string Describe(MappingError error) => error switch
        {
            MappingError.None => "is valid",
            MappingError.ListTooSmall => "has more mappings than the list holds",
            MappingError.Misaligned => "has an address that is not page-aligned",
            MappingError.NotCanonical => "has a virtual address the paging mode cannot use",
            MappingError.OutsideWindow => "places a mapping outside the layout's loader window",
            MappingError.WindowFull => "does not fit in the layout's loader window",
            MappingError.FrameOutOfRange => "maps a physical address the paging mode's entries cannot hold",
            MappingError.NotLoaderMemory => "maps memory the memory map does not show as the loader's",
            MappingError.WritableAndExecutable => "asks for a page both writable and executable",
            MappingError.ImageRangeInvalid => "has image parts that share a page or leave the image",
            MappingError.VirtualOverlap => "has two mappings that overlap virtually",
            MappingError.PhysicalOverlap => "has two mappings of the same physical pages",
            MappingError.SelfMapMismatch => "has a page-table region that is not the mode's self-map slot",
            MappingError.NotSorted => "is not sorted by virtual address",
            MappingError.TypeMismatch => "maps pages whose memory type does not match the mapping",
            MappingError.RuntimeRegionMissing => "leaves out a region the firmware needs at runtime",
            MappingError.PageMissing => "has a planned page the page tables do not map",
            MappingError.UnplannedPage => "has a page in the page tables that the plan does not list",
            MappingError.WrongFrame => "has a planned page mapped to another frame",
            MappingError.WrongProtection => "has a planned page mapped with other permissions",
            _ => "has an unknown problem",
        };

        /// <summary>Appends "… (kernel stack and kernel image, at 0x…)".</summary>
        public readonly void AppendTo(ref TextLine line)
        {
            line.Append(Describe(Error));
            line.Append(" (");
            line.Append(Mapping.Describe(First));
            if (Second != MappingKind.None)
            {
                line.Append(" and ");
                line.Append(Mapping.Describe(Second));
            }
            line.Append(", at ");
            line.AppendHexPrefixed(Detail, 1);
            line.Append(')');
        }
    }
}
