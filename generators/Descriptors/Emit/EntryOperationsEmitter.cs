using System.Collections.Generic;
using System.Linq;
using ExectOS.Descriptors.Model;

namespace ExectOS.Descriptors.Emit;

/// <summary>
/// Writes a mode's entry operations: per level, what its formats' roles mean (present, writable,
/// no-execute ...), so a generic walker can read and build entries of any architecture.
/// </summary>
internal static class EntryOperationsEmitter
{

    public static void Emit(CodeWriter w, DescriptorModel model, ModeModel mode)
    {
        var formats = model.Formats.ToDictionary(f => f.Name);
        var levels = mode.Levels.Select((level, index) => new Level(index, level,
            level.TableFormat is null ? null : formats[level.TableFormat],
            level.PageFormat is null ? null : formats[level.PageFormat])).ToList();

        Switch(w, "ulong PresentMask(int level)", levels, l => $"{(l.Table ?? l.Page!).Name}.{Role(l.Table ?? l.Page!, "present")!.Name}Mask", "0");
        w.Line();
        Switch(w, $"EntryKind Classify(int level, ulong entry)", levels, Classify, $"EntryKind.NotPresent");
        w.Line();
        Switch(w, $"PhysicalAddress TableAddress(int level, ulong entry)", levels.Where(l => l.Table is not null), l => $"{Wrap(l.Table!)}.{Frame(l.Table!).Name}", "default");
        w.Line();
        Switch(w, $"PhysicalAddress PageAddress(int level, ulong entry)", levels.Where(l => l.Page is not null), l => $"{Wrap(l.Page!)}.{Frame(l.Page!).Name}", "default");
        w.Line();
        Switch(w, $"bool CanHoldTable(int level, PhysicalAddress table)", levels.Where(l => l.Table is not null), l => $"{l.Table!.Name}.CanHold{Frame(l.Table!).Name}(table)", "false");
        w.Line();
        Switch(w, $"bool CanHoldPage(int level, PhysicalAddress page)", levels.Where(l => l.Page is not null), l => $"{l.Page!.Name}.CanHold{Frame(l.Page!).Name}(page)", "false");
        w.Line();
        Switch(w, $"ulong MakeTable(int level, PhysicalAddress table, PageProtection protection)", levels.Where(l => l.Table is not null), l => $"{l.Model.Name}Table(table, protection)", "0");
        w.Line();
        Switch(w, $"ulong MakePage(int level, PhysicalAddress page, PageProtection protection)", levels.Where(l => l.Page is not null), l => $"{l.Model.Name}Page(page, protection)", "0");
        w.Line();
        Switch(w, $"PageProtection Protection(int level, ulong entry)", levels, ProtectionOf, $"PageProtection.Read");
        w.Line();
        Switch(w, "bool HasReservedBits(int level, ulong entry)", levels, l => l.Table is not null && l.Page is not null
            ? $"IsTable{l.Index}(entry) ? {Wrap(l.Table)}.HasReservedBits : {Wrap(l.Page)}.HasReservedBits"
            : $"{Wrap(l.Table ?? l.Page!)}.HasReservedBits", "false");

        foreach (Level level in levels)
        {
            if (level.Table is not null && level.Page is not null)
            {
                w.Line();
                w.Line($"private static bool IsTable{level.Index}(ulong entry) => (entry & {level.Table.Name}.FixedMask) == {level.Table.Name}.FixedValue;");
            }
            if (level.Table is not null)
            {
                w.Line();
                Builder(w, $"{level.Model.Name}Table", "table", level.Table, forPage: false);
            }
            if (level.Page is not null)
            {
                w.Line();
                Builder(w, $"{level.Model.Name}Page", "page", level.Page, forPage: true);
            }
            w.Line();
            DecodeProtection(w, level);
        }
    }

    private static string Classify(Level l)
    {
        FormatModel any = l.Table ?? l.Page!;
        string absent = $"(entry & {any.Name}.{Role(any, "present")!.Name}Mask) == 0 ? EntryKind.NotPresent : ";
        if (l.Table is null)
            return absent + $"EntryKind.Page";
        if (l.Page is null)
            return absent + $"EntryKind.Table";
        return absent + $"IsTable{l.Index}(entry) ? EntryKind.Table : EntryKind.Page";
    }

    private static string ProtectionOf(Level l) => l.Table is not null && l.Page is not null
        ? $"IsTable{l.Index}(entry) ? {l.Model.Name}TableProtection(entry) : {l.Model.Name}PageProtection(entry)"
        : l.Table is not null ? $"{l.Model.Name}TableProtection(entry)" : $"{l.Model.Name}PageProtection(entry)";

    private static void Builder(CodeWriter w, string name, string parameter, FormatModel format, bool forPage)
    {
        w.Open($"private static ulong {name}(PhysicalAddress {parameter}, PageProtection protection)");
        w.Line($"{format.Name} entry = {format.Name}.Empty.With{Frame(format).Name}({parameter});");
        foreach (FieldModel field in format.Fields.Where(f => f.Role is not null && f.FixedValue == FieldModel.NotFixed))
        {
            string? value = (field.Role, forPage) switch
            {
                ("present", _) => "true",
                ("writable", _) => Has("Writable"),
                ("readable", true) => "true",
                ("executable", true) => Has("Executable"),
                ("noexecute", _) => $"(protection & PageProtection.Executable) == 0",
                ("user", _) => Has("User"),
                ("global", true) => Has("Global"),
                // Set up front so the processor never has to (RISC-V may fault on A/D clear).
                ("accessed", true) => "true",
                ("dirty", true) => Has("Writable"),
                _ => null,
            };
            if (value is not null)
                w.Line($"entry = entry.With{field.Name}({value});");
        }
        w.Line("return entry.Value;");
        w.Close();
    }

    private static void DecodeProtection(CodeWriter w, Level level)
    {
        foreach ((string kind, FormatModel? format) in new[] { ("Table", level.Table), ("Page", level.Page) })
        {
            if (format is null)
                continue;
            w.Open($"private static PageProtection {level.Model.Name}{kind}Protection(ulong raw)");
            w.Line($"var entry = {Wrap(format, "raw")};");
            w.Line($"var protection = PageProtection.Read;");
            // A format without the bit cannot restrict: no writable role means writable, and so on.
            Decode(w, format, "writable", null, "Writable");
            if (Role(format, "noexecute") is not null)
                Decode(w, format, "noexecute", "!", "Executable");
            else
                Decode(w, format, "executable", null, "Executable");
            Decode(w, format, "user", null, "User");
            if (kind == "Page")
                DecodeOnly(w, format, "global", "Global");
            w.Line("return protection;");
            w.Close();
        }
    }

    private static void Decode(CodeWriter w, FormatModel format, string role, string? negate, string flag)
    {
        FieldModel? field = Role(format, role);
        w.Line(field is null
            ? $"protection |= PageProtection.{flag};"
            : $"if ({negate}entry.{field.Name})\n{Indent}    protection |= PageProtection.{flag};");
    }

    private static void DecodeOnly(CodeWriter w, FormatModel format, string role, string flag)
    {
        if (Role(format, role) is FieldModel field)
            w.Line($"if (entry.{field.Name})\n{Indent}    protection |= PageProtection.{flag};");
    }

    // The writer indents the first line only; continuation lines carry the method body's indentation.
    private const string Indent = "            ";

    private static string Has(string flag) => $"(protection & PageProtection.{flag}) != 0";

    private static void Switch(CodeWriter w, string signature, IEnumerable<Level> levels, System.Func<Level, string> value, string otherwise)
    {
        w.Open($"public static {signature} => level switch");
        foreach (Level level in levels)
            w.Line($"{level.Index} => {value(level)},");
        w.Line($"_ => {otherwise},");
        w.Close(";");
    }

    private static string Wrap(FormatModel format, string raw = "entry")
        => format.Width == 64 ? $"new {format.Name}({raw})" : $"new {format.Name}((uint){raw})";

    private static FieldModel Frame(FormatModel format) => format.Fields.First(f => f.Kind == FieldKind.Frame);

    private static FieldModel? Role(FormatModel format, string role) => format.Fields.FirstOrDefault(f => f.Role == role);

    private sealed record Level(int Index, LevelModel Model, FormatModel? Table, FormatModel? Page);
}
