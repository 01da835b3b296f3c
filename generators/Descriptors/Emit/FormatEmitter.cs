using System.Globalization;
using System.Linq;
using ExectOS.Descriptors.Model;

namespace ExectOS.Descriptors.Emit;

/// <summary>Writes one entry format as a readonly struct over the raw entry: constants first, then accessors.</summary>
internal static class FormatEmitter
{
    private const string Physical = "PhysicalAddress";

    public static void Emit(CodeWriter w, DescriptorModel model, FormatModel format)
    {
        string raw = format.Width == 64 ? "ulong" : "uint";
        string name = format.Name;
        ulong reserved = Mask(format, f => f.Kind == FieldKind.Reserved);
        ulong software = Mask(format, f => f.Kind == FieldKind.Software);
        ulong fixedMask = Mask(format, IsDiscriminator);
        ulong fixedValue = Values(format, IsDiscriminator);
        ulong presetMask = Mask(format, IsPreset);
        ulong presetValue = Values(format, IsPreset);

        foreach (FieldModel field in format.Fields.Where(f => f.Kind == FieldKind.Enum))
            EmitEnum(w, format, field);

        w.Line($"/// <summary>{model.Architecture} entry format {name} ({format.Width} bits), {model.SourceName} line {format.Line}.</summary>");
        w.Open($"public readonly struct {name}");
        w.Line("/// <summary>The entry as the processor reads it.</summary>");
        w.Line($"public readonly {raw} Value;");
        w.Line();
        w.Line($"public {name}({raw} value) {{ Value = value; }}");
        w.Line();
        w.Line($"public const int Width = {format.Width};");
        w.Line("/// <summary>Bits that must be zero.</summary>");
        w.Line($"public const {raw} ReservedMask = {Hex(reserved, format.Width)};");
        w.Line("/// <summary>Bits the processor ignores and software may use.</summary>");
        w.Line($"public const {raw} SoftwareMask = {Hex(software, format.Width)};");
        w.Line("/// <summary>Bits fixed by this format (their values in <see cref=\"FixedValue\"/>): what tells it from the other format of its level.</summary>");
        w.Line($"public const {raw} FixedMask = {Hex(fixedMask, format.Width)};");
        w.Line($"public const {raw} FixedValue = {Hex(fixedValue, format.Width)};");
        if (presetMask != 0)
        {
            w.Line("/// <summary>Fixed numbers and enums (memory type, shareability ...): built into every entry, not what tells formats apart.</summary>");
            w.Line($"public const {raw} PresetMask = {Hex(presetMask, format.Width)};");
            w.Line($"public const {raw} PresetValue = {Hex(presetValue, format.Width)};");
        }
        w.Line();
        w.Line("/// <summary>An entry of this format with nothing set but its fixed bits.</summary>");
        w.Line(presetMask != 0 ? $"public static {name} Empty => new {name}(FixedValue | PresetValue);" : $"public static {name} Empty => new {name}(FixedValue);");
        w.Line();
        w.Line("public bool HasReservedBits => (Value & ReservedMask) != 0;");
        w.Line();
        w.Line("public bool MatchesFixedBits => (Value & FixedMask) == FixedValue;");

        foreach (FieldModel field in format.Fields.Where(f => f.Name is not null))
        {
            w.Line();
            EmitField(w, format, field, raw);
        }
        w.Close();
    }

    private static void EmitField(CodeWriter w, FormatModel format, FieldModel field, string raw)
    {
        string n = field.Name!, type = format.Name;
        ulong mask = FieldMask(field);
        string role = field.Role is null ? "" : $", role {(field.Inverted ? "not " : "")}{field.Role}";
        string fixedNote = field.FixedValue == FieldModel.NotFixed ? "" : $", fixed at {field.FixedValue}";
        bool settable = field.FixedValue == FieldModel.NotFixed;
        switch (field.Kind)
        {
            case FieldKind.Flag:
                w.Line($"/// <summary>Bit {field.Low}{role}{fixedNote}.</summary>");
                w.Line($"public const {raw} {n}Mask = {Hex(mask, format.Width)};");
                w.Line($"public bool {n} => (Value & {n}Mask) != 0;");
                if (settable)
                    w.Line($"public {type} With{n}(bool value) => new {type}(value ? Value | {n}Mask : Value & ~{n}Mask);");
                break;
            case FieldKind.Frame:
                ulong addressMask = (field.Width >= 64 ? ulong.MaxValue : ((1UL << field.Width) - 1)) << field.Align;
                w.Line($"/// <summary>Bits {Bits(field)}: physical address bits {field.AddressTop}:{field.Align}{role}.</summary>");
                w.Line($"public const {raw} {n}Mask = {Hex(mask, format.Width)};");
                w.Line($"/// <summary>The physical addresses {n} can hold: aligned to bit {field.Align}, below bit {field.AddressTop + 1}.</summary>");
                w.Line($"public const ulong {n}AddressMask = {Hex(addressMask, 64)};");
                w.Line($"public {Physical} {n} => new {Physical}({FrameToAddress(field, raw)});");
                w.Line($"public static bool CanHold{n}({Physical} address) => (address.Value & ~{n}AddressMask) == 0;");
                w.Line($"/// <summary>Sets {n}; check <see cref=\"CanHold{n}\"/> first: bits it cannot hold are dropped.</summary>");
                w.Line($"public {type} With{n}({Physical} address) => new {type}((Value & ~{n}Mask) | ({AddressToFrame(field, raw)} & {n}Mask));");
                break;
            case FieldKind.Enum:
                string enumType = type + n;
                w.Line($"/// <summary>Bits {Bits(field)}{role}{fixedNote}.</summary>");
                w.Line($"public const int {n}Shift = {field.Low};");
                w.Line($"public const {raw} {n}Mask = {Hex(mask, format.Width)};");
                w.Line($"public {enumType} {n} => ({enumType})((Value & {n}Mask) >> {n}Shift);");
                if (settable)
                    w.Line($"public {type} With{n}({enumType} value) => new {type}((Value & ~{n}Mask) | ((({raw})value << {n}Shift) & {n}Mask));");
                break;
            default:
                string what = field.Kind == FieldKind.Software ? "ignored by the processor, free for software" : "a number";
                w.Line($"/// <summary>Bits {Bits(field)}, {what}{role}{fixedNote}.</summary>");
                w.Line($"public const int {n}Shift = {field.Low};");
                w.Line($"public const {raw} {n}Mask = {Hex(mask, format.Width)};");
                w.Line($"public const {raw} {n}Maximum = {Hex(mask >> field.Low, format.Width)};");
                w.Line($"public {raw} {n} => (Value & {n}Mask) >> {n}Shift;");
                if (settable)
                {
                    w.Line($"/// <summary>Sets {n}; bits above <see cref=\"{n}Maximum\"/> are dropped.</summary>");
                    w.Line($"public {type} With{n}({raw} value) => new {type}((Value & ~{n}Mask) | ((value << {n}Shift) & {n}Mask));");
                }
                break;
        }
    }

    private static void EmitEnum(CodeWriter w, FormatModel format, FieldModel field)
    {
        w.Line($"/// <summary>Values of {format.Name}.{field.Name}.</summary>");
        w.Open($"public enum {format.Name}{field.Name} : uint");
        foreach (EnumMemberModel member in field.Members)
            w.Line($"{member.Name} = {member.Value.ToString(CultureInfo.InvariantCulture)},");
        w.Close();
        w.Line();
    }

    // Field bits to address bits. A 32-bit entry widens before shifting left, so nothing is lost.
    private static string FrameToAddress(FieldModel field, string raw)
    {
        string bits = $"Value & {field.Name}Mask";
        if (field.Low == field.Align)
            return bits;
        if (field.Low > field.Align)
            return $"({bits}) >> {field.Low - field.Align}";
        return raw == "uint" ? $"(ulong)({bits}) << {field.Align - field.Low}" : $"({bits}) << {field.Align - field.Low}";
    }

    // Address bits to field bits; a 32-bit entry narrows after shifting, and the field mask drops the rest.
    private static string AddressToFrame(FieldModel field, string raw)
    {
        string shifted = field.Low == field.Align ? "address.Value"
            : field.Align > field.Low ? $"(address.Value >> {field.Align - field.Low})"
            : $"(address.Value << {field.Low - field.Align})";
        return raw == "uint" ? $"(uint){shifted}" : shifted;
    }

    private static string Bits(FieldModel field) => field.High == field.Low ? $"{field.Low}" : $"{field.High}:{field.Low}";

    internal static ulong FieldMask(FieldModel field)
        => (field.Width >= 64 ? ulong.MaxValue : ((1UL << field.Width) - 1)) << field.Low;

    /// <summary>A fixed flag: what tells a format from the other of its level (x86 PS, AArch64 bit 1) and what reading requires.</summary>
    internal static bool IsDiscriminator(FieldModel field) => field.Kind == FieldKind.Flag && field.FixedValue != FieldModel.NotFixed;

    /// <summary>A fixed number or enum: a value the builder writes into every entry.</summary>
    internal static bool IsPreset(FieldModel field) => field.Kind != FieldKind.Flag && field.FixedValue != FieldModel.NotFixed;

    private static ulong Values(FormatModel format, System.Func<FieldModel, bool> which)
        => format.Fields.Where(which).Aggregate(0UL, (value, f) => value | ((ulong)f.FixedValue << f.Low));

    private static ulong Mask(FormatModel format, System.Func<FieldModel, bool> which)
        => format.Fields.Where(which).Aggregate(0UL, (mask, f) => mask | FieldMask(f));

    internal static string Hex(ulong value, int width)
        => width == 64 ? $"0x{value.ToString("X16", CultureInfo.InvariantCulture)}UL" : $"0x{value.ToString("X8", CultureInfo.InvariantCulture)}U";
}
