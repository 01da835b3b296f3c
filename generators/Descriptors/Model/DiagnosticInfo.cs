using System.Collections.Generic;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace ExectOS.Descriptors.Model;

/// <summary>A descriptor error as a value: id, message and where in the descriptor file.</summary>
internal sealed record DiagnosticInfo(string Id, string Message, SourceSpan Span)
{
    public Diagnostic ToDiagnostic()
    {
        var location = Location.Create(
            Span.Path,
            new TextSpan(Span.Start, Span.Length),
            new LinePositionSpan(new LinePosition(Span.Line, Span.Column), new LinePosition(Span.EndLine, Span.EndColumn)));
        return Diagnostic.Create(DescriptorDiagnostics.Get(Id), location, Message);
    }

    public override string ToString() => $"{Span}: error {Id}: {Message}";
}

/// <summary>The descriptor diagnostics (documented in descriptors/README.md).</summary>
internal static class DescriptorDiagnostics
{
    public const string Internal = "XD0000";
    public const string Syntax = "XD0001";
    public const string UnknownKeyword = "XD0002";
    public const string Duplicate = "XD0003";
    public const string UnknownName = "XD0004";
    public const string Overlap = "XD0005";
    public const string Gap = "XD0006";
    public const string PastWidth = "XD0007";
    public const string EntryWidth = "XD0008";
    public const string BadPosition = "XD0009";
    public const string IndexBits = "XD0010";
    public const string FormatWidth = "XD0011";
    public const string Misaligned = "XD0012";
    public const string UnknownRole = "XD0013";
    public const string DuplicateRole = "XD0014";
    public const string ModeIncomplete = "XD0015";
    public const string LevelFormats = "XD0016";
    public const string SelfMap = "XD0017";
    public const string PageSize = "XD0018";
    public const string FixedValue = "XD0019";
    public const string EnumValue = "XD0020";
    public const string FrameTooWide = "XD0021";
    public const string AddressWidth = "XD0022";
    public const string ExtendsCycle = "XD0023";
    public const string FieldsCycle = "XD0024";
    public const string FormatIncomplete = "XD0025";
    public const string Architecture = "XD0026";
    public const string BadNumber = "XD0027";
    public const string Indistinguishable = "XD0028";
    public const string CpuIdRegister = "XD0029";
    public const string RegionsOverlap = "XD0030";
    public const string RegionMisaligned = "XD0031";
    public const string RegionOutside = "XD0032";
    public const string LayoutValue = "XD0033";
    public const string LayoutPages = "XD0034";
    public const string LayoutIncomplete = "XD0035";
    public const string ImageModes = "XD0036";
    public const string ModeId = "XD0037";
    public const string UnknownImage = "XD0038";
    public const string TooDeep = "XD0039";
    public const string GeneratedName = "XD0040";
    public const string WalkerLimit = "XD0041";
    public const string Repeated = "XD0042";
    public const string UnusedLet = "XD0043";
    public const string FileClash = "XD0044";
    public const string ProofBudget = "XD0045";
    public const string RoleNotInvertible = "XD0046";
    public const string FixedMember = "XD0047";
    public const string ExecuteRoles = "XD0048";
    public const string RegisterProbe = "XD0049";
    public const string SplitAddresses = "XD0050";

    private static readonly Dictionary<string, string> Titles = new()
    {
        [Internal] = "Descriptor compiler failure",
        [Syntax] = "Descriptor syntax error",
        [UnknownKeyword] = "Unknown descriptor keyword",
        [Duplicate] = "Name declared twice",
        [UnknownName] = "Unknown name",
        [Overlap] = "Overlapping fields",
        [Gap] = "Bits neither used nor reserved",
        [PastWidth] = "Field past the entry width",
        [EntryWidth] = "Unsupported entry width",
        [BadPosition] = "Impossible field width or position",
        [IndexBits] = "Level index bits do not add up",
        [FormatWidth] = "Format width differs from the mode's",
        [Misaligned] = "Frame misaligned for its level",
        [UnknownRole] = "Unknown role",
        [DuplicateRole] = "Role given twice",
        [ModeIncomplete] = "Incomplete mode",
        [LevelFormats] = "Wrong formats for a level",
        [SelfMap] = "Self-map slot outside the root table",
        [PageSize] = "Page size not a power of two",
        [FixedValue] = "Invalid fixed value",
        [EnumValue] = "Invalid enum member",
        [FrameTooWide] = "Frame wider than physical addresses",
        [AddressWidth] = "Address width out of range",
        [ExtendsCycle] = "Mode extends itself",
        [FieldsCycle] = "Fields block uses itself",
        [FormatIncomplete] = "Incomplete format",
        [Architecture] = "Missing or repeated architecture",
        [BadNumber] = "Malformed number",
        [Indistinguishable] = "Formats not distinguishable",
        [CpuIdRegister] = "Unknown CPUID register",
        [RegionsOverlap] = "Layout regions overlap",
        [RegionMisaligned] = "Layout region misaligned",
        [RegionOutside] = "Layout region outside the address space",
        [LayoutValue] = "Layout formula out of range",
        [LayoutPages] = "Invalid page-count range",
        [LayoutIncomplete] = "Incomplete layout",
        [ImageModes] = "Invalid image mode list",
        [ModeId] = "Mode identifiers collide",
        [UnknownImage] = "No descriptor declares the image architecture",
        [TooDeep] = "Nested too deep",
        [GeneratedName] = "Name unusable in generated code",
        [WalkerLimit] = "Beyond the walker's limits",
        [Repeated] = "Setting given twice",
        [UnusedLet] = "Unused let",
        [FileClash] = "Descriptor files clash",
        [ProofBudget] = "Layout proof did not finish",
        [RoleNotInvertible] = "Role that cannot be inverted",
        [FixedMember] = "Fixed value names no member",
        [ExecuteRoles] = "Conflicting execute roles",
        [RegisterProbe] = "Impossible register probe",
        [SplitAddresses] = "Invalid split address space",
    };

    private static readonly Dictionary<string, DiagnosticDescriptor> Descriptors = new();

    public static IEnumerable<string> Ids => Titles.Keys;

    public static DiagnosticDescriptor Get(string id)
    {
        lock (Descriptors)
        {
            if (!Descriptors.TryGetValue(id, out DiagnosticDescriptor? descriptor))
            {
                descriptor = new DiagnosticDescriptor(id, Titles[id], "{0}", "ExectOS.Descriptors", DiagnosticSeverity.Error, isEnabledByDefault: true);
                Descriptors[id] = descriptor;
            }
            return descriptor;
        }
    }
}
