namespace ExectOS.Descriptors.Model;

/// <summary>One bound descriptor file: what the emitter needs and nothing of Roslyn's (so it caches by value).</summary>
internal sealed record DescriptorModel(
    string SourceName,
    string Architecture,
    EquatableArray<FormatModel> Formats,
    EquatableArray<ModeModel> Modes,
    EquatableArray<LayoutModel> Layouts,
    EquatableArray<ImageModel> Images,
    EquatableArray<Declaration> Declarations);

/// <summary>
/// A name the file puts where other files can meet it: the architecture line (Kind "architecture"), a generated type
/// ("type") or an image ("image"). Lines and columns only, zero-based, so an edit elsewhere leaves the model equal.
/// </summary>
internal sealed record Declaration(string Kind, string Name, int Line, int Column, int Length);

/// <summary>Kinds of bit fields in an entry.</summary>
internal enum FieldKind
{
    Flag,
    Number,
    Enum,
    Frame,
    Reserved,
    Software,
}

/// <summary>An entry format with its fields in manual order (most significant first), positions resolved.</summary>
internal sealed record FormatModel(string Name, int Width, int Line, EquatableArray<FieldModel> Fields);

/// <summary>
/// A field at bits High..Low. A frame holds address bits (High-Low+Align)..Align. A fixed value (flags, numbers,
/// enums) is part of the format: built into every entry and required of an entry read as this format. An inverted
/// role (`role not writable`) means the bit set says the role's opposite (AArch64 AP[2]: read-only; nG: not global).
/// </summary>
internal sealed record FieldModel(
    FieldKind Kind,
    string? Name,
    int High,
    int Low,
    int Align,
    long FixedValue,
    string? Role,
    EquatableArray<EnumMemberModel> Members,
    bool Inverted = false)
{
    public const long NotFixed = -1;

    public int Width => High - Low + 1;

    /// <summary>The highest address bit a frame field can hold.</summary>
    public int AddressTop => High - Low + Align;
}

/// <summary>One named value of an enum field.</summary>
internal sealed record EnumMemberModel(string Name, ulong Value);

/// <summary>A paging mode with its levels root first; inheritance already applied.</summary>
internal sealed record ModeModel(
    string Name,
    int Line,
    int VirtualBits,
    bool Canonical,
    bool Split,
    int PhysicalBits,
    int PageShift,
    int EntryWidth,
    EquatableArray<LevelModel> Levels,
    int SelfMap,
    int SelfMapLevels,
    EquatableArray<FeatureModel> Requirements,
    uint Id,
    bool SelfMapPageAttributes = false)
{
    public const int NoSelfMap = -1;
}

/// <summary>One level of translation: its index bits, the address shift they start at, and its formats.</summary>
internal sealed record LevelModel(string Name, int IndexBits, int Shift, string? TableFormat, string? PageFormat);

/// <summary>
/// A processor feature a mode needs, with how the architecture layer probes it: the probe's kind (its
/// keyword: `cpuid` or `register`) and its numbers. CPUID: leaf, subleaf, result register 0-3 for eax-edx,
/// bit. Register (an ID register the architecture layer reads by name, AArch64's ID_AA64MMFR0_EL1): Register,
/// Selector its identifier (FNV-1a of the name), Word the field's low bit, Bit its width, and the test
/// Comparison ("is", "not", "atleast") against Value.
/// </summary>
internal sealed record FeatureModel(string Name, string Probe, uint Selector, uint Subselector, int Word, int Bit, string? Register = null, string? Comparison = null, ulong Value = 0);

/// <summary>An image architecture (as ImageArch names it) and the modes its images run, preferred first.</summary>
internal sealed record ImageModel(string Name, int Line, EquatableArray<ImageModeModel> Modes)
{
    /// <summary>The generated class: `amd64` is `Amd64Image`.</summary>
    public string TypeName => char.ToUpperInvariant(Name[0]) + Name.Substring(1) + "Image";
}

/// <summary>One mode of an image with the kernel layout made for it.</summary>
internal sealed record ImageModeModel(string Mode, string Layout, uint Id);
