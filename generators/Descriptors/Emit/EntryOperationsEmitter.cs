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
            if (PageCheck(level))
            {
                w.Line();
                w.Line($"private static bool IsPage{level.Index}(ulong entry) => (entry & {level.Page!.Name}.FixedMask) == {level.Page.Name}.FixedValue;");
            }
            if (level.Table is not null)
            {
                w.Line();
                Builder(w, $"{level.Model.Name}Table", "table", level.Table, forPage: false, SelfMapBits(mode, level.Table, levels.Count - 1));
            }
            if (level.Page is not null)
            {
                w.Line();
                Builder(w, $"{level.Model.Name}Page", "page", level.Page, forPage: true, null);
            }
            w.Line();
            DecodeProtection(w, level);
        }
    }

    // A present entry is of a format only when its fixed bits match (AArch64: bits 1:0 = 11 for a page, 01 for a
    // block); one that matches neither of its level's formats is invalid to the processor, so not present.
    private static string Classify(Level l)
    {
        FormatModel any = l.Table ?? l.Page!;
        string absent = $"(entry & {any.Name}.{Role(any, "present")!.Name}Mask) == 0 ? EntryKind.NotPresent : ";
        string page = PageCheck(l) ? $"IsPage{l.Index}(entry) ? EntryKind.Page : EntryKind.NotPresent" : "EntryKind.Page";
        if (l.Table is null)
            return absent + page;
        if (l.Page is null)
            return absent + (FixedMask(l.Table) == 0 ? "EntryKind.Table" : $"(entry & {l.Table.Name}.FixedMask) == {l.Table.Name}.FixedValue ? EntryKind.Table : EntryKind.NotPresent");
        return absent + $"IsTable{l.Index}(entry) ? EntryKind.Table : " + page;
    }

    /// <summary>
    /// Whether reading an entry as a page needs its own test of the page format's fixed bits: not when it fixes none, nor
    /// when it fixes the one bit the table format fixes (then not a table means a page: x86 PS).
    /// </summary>
    private static bool PageCheck(Level l)
    {
        if (l.Page is null || FixedMask(l.Page) == 0)
            return false;
        return l.Table is null || !(FixedMask(l.Page) == FixedMask(l.Table) && (FixedMask(l.Page) & (FixedMask(l.Page) - 1)) == 0);
    }

    private static ulong FixedMask(FormatModel format)
        => format.Fields.Where(FormatEmitter.IsDiscriminator).Aggregate(0UL, (mask, f) => mask | FormatEmitter.FieldMask(f));

    private static string ProtectionOf(Level l) => l.Table is not null && l.Page is not null
        ? $"IsTable{l.Index}(entry) ? {l.Model.Name}TableProtection(entry) : {l.Model.Name}PageProtection(entry)"
        : l.Table is not null ? $"{l.Model.Name}TableProtection(entry)" : $"{l.Model.Name}PageProtection(entry)";

    /// <summary>
    /// Through the self-map the walk ends one level early, on a table entry read as a last-level page. A mode whose
    /// table entries would not make valid pages says `self-map INDEX page-attributes`: where the table format ignores
    /// bits (its software fields), each table entry then carries what the last level's page format says for a global,
    /// writable, non-executable kernel page (AArch64: the access flag, shareability, memory type and both no-execute
    /// bits). x86 tables keep their attributes where pages do and do not ask. Null when nothing is added.
    /// </summary>
    private static string? SelfMapBits(ModeModel mode, FormatModel table, int last)
    {
        if (!mode.SelfMapPageAttributes)
            return null;
        ulong ignored = table.Fields.Where(f => f.Kind == FieldKind.Software).Aggregate(0UL, (mask, f) => mask | FormatEmitter.FieldMask(f));
        return ignored == 0 ? null : $"(MakePage({last}, default, PageProtection.Writable | PageProtection.Global) & {FormatEmitter.Hex(ignored, table.Width)})";
    }

    private static void Builder(CodeWriter w, string name, string parameter, FormatModel format, bool forPage, string? also)
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
                // Per privilege (AArch64 PXN, UXN): a page executes at the privilege it belongs to, never at the other.
                ("noexecute-privileged", true) => $"(protection & (PageProtection.Executable | PageProtection.User)) != PageProtection.Executable",
                ("noexecute-user", true) => $"(protection & (PageProtection.Executable | PageProtection.User)) != (PageProtection.Executable | PageProtection.User)",
                ("user", _) => Has("User"),
                ("global", true) => Has("Global"),
                // Device registers: the memory type that is never cached, merged or read speculatively.
                ("device", true) => Has("Device"),
                // Set up front so the processor never has to (RISC-V may fault on A/D clear).
                ("accessed", true) => "true",
                ("dirty", true) => Has("Writable"),
                _ => null,
            };
            if (value is not null)
                w.Line($"entry = entry.With{field.Name}({(field.Inverted ? Negate(value) : value)});");
        }
        w.Line(also is null ? "return entry.Value;" : $"return entry.Value | {also};");
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
            else if (Role(format, "noexecute-privileged") is not null || Role(format, "noexecute-user") is not null)
                DecodePrivilegeExecute(w, format);
            else
                Decode(w, format, "executable", null, "Executable");
            Decode(w, format, "user", null, "User");
            if (kind == "Page")
            {
                DecodeOnly(w, format, "global", "Global");
                DecodeOnly(w, format, "device", "Device");
            }
            w.Line("return protection;");
            w.Close();
        }
    }

    private static void Decode(CodeWriter w, FormatModel format, string role, string? negate, string flag)
    {
        FieldModel? field = Role(format, role);
        w.Line(field is null
            ? $"protection |= PageProtection.{flag};"
            : $"if ({Test(field, negate is not null)})\n{Indent}    protection |= PageProtection.{flag};");
    }

    private static void DecodeOnly(CodeWriter w, FormatModel format, string role, string flag)
    {
        if (Role(format, role) is FieldModel field)
            w.Line($"if ({Test(field, false)})\n{Indent}    protection |= PageProtection.{flag};");
    }

    // Executable at the entry's own privilege: user entries by the user bit, the others by the privileged one; a
    // privilege without its bit is not refused.
    private static void DecodePrivilegeExecute(CodeWriter w, FormatModel format)
    {
        FieldModel? user = Role(format, "user"), privileged = Role(format, "noexecute-privileged"), unprivileged = Role(format, "noexecute-user");
        string forUser = unprivileged is null ? "true" : Test(unprivileged, true), forKernel = privileged is null ? "true" : Test(privileged, true);
        string condition = user is null ? forUser : $"{Test(user, false)} ? {forUser} : {forKernel}";
        w.Line($"if ({condition})\n{Indent}    protection |= PageProtection.Executable;");
    }

    /// <summary>The C# test that a field's bit says its role (negated: says the opposite), inverted roles included.</summary>
    private static string Test(FieldModel field, bool negated) => (negated != field.Inverted ? "!" : "") + $"entry.{field.Name}";

    private static string Negate(string value) => value == "true" ? "false"
        : value.EndsWith(" != 0", System.StringComparison.Ordinal) ? value.Substring(0, value.Length - 5) + " == 0"
        : $"!({value})";

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
