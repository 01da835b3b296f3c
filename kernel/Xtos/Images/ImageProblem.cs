using ExectOS.Text;

namespace ExectOS.Images
{
    /// <summary>What is wrong with an executable image. Each value has one message in <see cref="ImageProblem.Describe"/>.</summary>
    public enum ImageError
    {
        None = 0,
        TooSmall,
        NotExecutable,
        HeadersOutOfFile,
        NotPortableExecutable,
        WrongMachine,
        WrongOptionalHeader,
        BadSectionCount,
        SectionTableOutOfFile,
        BadAlignment,
        BadImageSize,
        SectionDataOutOfFile,
        SectionOutsideImage,
        SectionsOverlap,
        EntryPointOutsideImage,
        RelocationsOutsideImage,
        BadRelocationBlock,
        UnsupportedRelocation,
        RelocationsStripped,
        DestinationTooSmall,
        RelocationsNotInSectionData,
    }

    /// <summary>An <see cref="ImageError"/> with the numbers that locate it (section index, offsets, sizes).</summary>
    public struct ImageProblem
    {
        public ImageError Error;
        /// <summary>Index of the section concerned, or -1.</summary>
        public int Section;
        /// <summary>What the image needs or declares (an offset, a size, a machine number).</summary>
        public ulong Expected;
        /// <summary>What was there instead.</summary>
        public ulong Actual;

        public readonly bool IsOk => Error == ImageError.None;

        public static ImageProblem Ok => new ImageProblem { Section = -1 };

        public static ImageProblem Of(ImageError error, ulong expected = 0, ulong actual = 0, int section = -1)
            => new ImageProblem { Error = error, Expected = expected, Actual = actual, Section = section };

        /// <summary>A short phrase that completes "image ...": truncation is spelled out, since it is the common case.</summary>
        public static string Describe(ImageError error) => error switch
        {
            ImageError.None => "is valid",
            ImageError.TooSmall => "is truncated: too small for a DOS header",
            ImageError.NotExecutable => "is not an executable image (no MZ signature)",
            ImageError.HeadersOutOfFile => "is truncated: its PE headers lie past the end of the file",
            ImageError.NotPortableExecutable => "is not a PE image (no PE signature)",
            ImageError.WrongMachine => "is for another machine",
            ImageError.WrongOptionalHeader => "has an optional header that does not match its machine",
            ImageError.BadSectionCount => "has an impossible number of sections",
            ImageError.SectionTableOutOfFile => "is truncated: its section table lies past the end of the file",
            ImageError.BadAlignment => "has invalid section or file alignment",
            ImageError.BadImageSize => "has an invalid image or header size",
            ImageError.SectionDataOutOfFile => "is truncated: section data extends past the end of the file",
            ImageError.SectionOutsideImage => "has a section outside its declared image size",
            ImageError.SectionsOverlap => "has overlapping or unsorted sections",
            ImageError.EntryPointOutsideImage => "has its entry point outside its code",
            ImageError.RelocationsOutsideImage => "has base relocations outside the image",
            ImageError.BadRelocationBlock => "has a malformed base relocation block",
            ImageError.UnsupportedRelocation => "uses an unsupported base relocation type",
            ImageError.RelocationsStripped => "cannot be relocated (relocations stripped)",
            ImageError.DestinationTooSmall => "does not fit the memory given for it",
            ImageError.RelocationsNotInSectionData => "has its base relocation table outside the file data of every section",
            _ => "has an unknown problem",
        };

        /// <summary>Appends the description and the numbers, e.g. "is truncated: ... (section 2, needs 0x5A00, found 0x4000)".</summary>
        public readonly void AppendTo(ref TextLine line)
        {
            line.Append(Describe(Error));
            if (Error == ImageError.None)
                return;
            line.Append(" (");
            if (Section >= 0)
            {
                line.Append("section ");
                line.AppendDecimal((ulong)Section);
                line.Append(", ");
            }
            line.Append("expected ");
            line.AppendHexPrefixed(Expected, 1);
            line.Append(", found ");
            line.AppendHexPrefixed(Actual, 1);
            line.Append(')');
        }
    }
}
