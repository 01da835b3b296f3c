using System.Collections.Generic;
using System.Linq;
using ExectOS.Descriptors.Model;
using ExectOS.Descriptors.Syntax;
using D = ExectOS.Descriptors.Model.DescriptorDiagnostics;

namespace ExectOS.Descriptors.Binding;

/// <summary>Lays out an entry's fields from the most significant bit down, checking every bit is accounted once.</summary>
internal sealed class FormatBinder
{
    public static readonly HashSet<string> Roles = new()
    {
        "present", "writable", "readable", "executable", "noexecute", "noexecute-privileged", "noexecute-user", "user", "global", "accessed", "dirty", "large", "device",
    };

    /// <summary>Roles a bit may stand for inverted (`role not R`: set means not R); the others have no useful opposite.</summary>
    public static readonly HashSet<string> InvertibleRoles = new() { "writable", "readable", "user", "global" };

    private static readonly string[] PrivilegeNoExecute = { "noexecute-privileged", "noexecute-user" };

    // Members every generated entry struct has; a field of the same name would not compile.
    private static readonly HashSet<string> GeneratedMembers = new()
    {
        "Value", "Width", "Empty", "ReservedMask", "SoftwareMask", "FixedMask", "FixedValue", "PresetMask", "PresetValue", "HasReservedBits", "MatchesFixedBits",
    };

    /// <summary>Fields blocks inside each other, at most; expanding them recurses once per level.</summary>
    internal const int MaxFieldsNesting = 32;

    private readonly Dictionary<string, FieldsSyntax> _fragments;
    private readonly List<DiagnosticInfo> _diagnostics;

    /// <summary>Each bound format's named fields with their name tokens, for the generated-name checks.</summary>
    public Dictionary<string, List<(FieldModel Field, Token Name)>> FieldTokens { get; } = new();

    public FormatBinder(Dictionary<string, FieldsSyntax> fragments, List<DiagnosticInfo> diagnostics)
    {
        _fragments = fragments;
        _diagnostics = diagnostics;
    }

    /// <summary>Binds one entry; null when it has errors (which are reported).</summary>
    public FormatModel? Bind(EntrySyntax entry)
    {
        int errors = _diagnostics.Count;
        int width = (int)entry.Width.Value;
        if (width != 32 && width != 64)
        {
            Report(D.EntryWidth, $"entry '{entry.Name.Text}' is {entry.Width.Text} bits wide; entries are 32 or 64 bits", entry.Width);
            return null;
        }

        var state = new LayoutState(entry.Name.Text, width);
        Expand(entry.Items, state, new Stack<string>());
        if (state.LayoutBroken)
            return null; // the first layout error explains the rest; reporting gaps or missing frames would repeat it
        if (state.Cursor >= 0 && _diagnostics.Count == errors)
            Report(D.Gap, $"bits {Range(state.Cursor, 0)} of entry '{entry.Name.Text}' are neither used nor declared reserved", entry.Name);

        int frames = state.Fields.Count(f => f.Kind == FieldKind.Frame);
        if (frames != 1)
            Report(D.FormatIncomplete, $"entry '{entry.Name.Text}' has {frames} frame fields; a format has exactly one", entry.Name);
        if (!state.Roles.ContainsKey("present") && !state.MisspelledRole)
            Report(D.FormatIncomplete, $"entry '{entry.Name.Text}' has no field with role present", entry.Name);

        if (_diagnostics.Count != errors)
            return null;
        FieldTokens[entry.Name.Text] = state.Fields.Zip(state.Tokens, (f, t) => (f, t)).Where(x => x.f.Name is not null).ToList();
        return new FormatModel(entry.Name.Text, width, entry.Name.Span.Line + 1, state.Fields.ToEquatableArray());
    }

    private void Expand(List<EntryItemSyntax> items, LayoutState state, Stack<string> using_)
    {
        foreach (EntryItemSyntax item in items)
        {
            if (item is FieldSyntax field)
            {
                BindField(field, state);
                continue;
            }
            var use = (UseSyntax)item;
            if (!_fragments.TryGetValue(use.Name.Text, out FieldsSyntax? fragment))
            {
                state.LayoutBroken = !Report(D.UnknownName, $"no fields block named '{use.Name.Text}'", use.Name);
            }
            else if (using_.Contains(fragment.Name.Text))
            {
                state.LayoutBroken = true;
                Report(D.FieldsCycle, $"fields block '{fragment.Name.Text}' uses itself ({string.Join(" -> ", using_.Reverse())} -> {fragment.Name.Text})", use.Name);
            }
            else if (using_.Count >= MaxFieldsNesting)
            {
                state.LayoutBroken = true;
                Report(D.TooDeep, $"fields block '{fragment.Name.Text}' is used {using_.Count + 1} blocks deep in entry '{state.Entry}'; fields blocks nest at most {MaxFieldsNesting} deep", use.Name);
            }
            else
            {
                using_.Push(fragment.Name.Text);
                Expand(fragment.Items, state, using_);
                using_.Pop();
            }
        }
    }

    private void BindField(FieldSyntax field, LayoutState state)
    {
        FieldKind kind = field.Keyword.Text switch
        {
            "flag" => FieldKind.Flag,
            "number" => FieldKind.Number,
            "enum" => FieldKind.Enum,
            "frame" => FieldKind.Frame,
            "software" => FieldKind.Software,
            _ => FieldKind.Reserved,
        };
        string? name = field.Name?.Text;
        Token at = field.Name ?? field.Keyword;
        string label = name is null ? "reserved bits" : $"field '{name}'";
        if (kind != FieldKind.Reserved && name is null)
        {
            state.LayoutBroken = !Report(D.Syntax, $"a {field.Keyword.Text} field needs a name", field.Keyword);
            return;
        }

        if (!Place(field, kind, label, at, state, out int high, out int low))
        {
            state.LayoutBroken = true;
            return;
        }

        if (name is not null && !state.Names.Add(name))
            Report(D.Duplicate, $"entry '{state.Entry}' already has a field named '{name}'", at);
        else if (name is not null && (name == state.Entry || GeneratedMembers.Contains(name)))
            Report(D.Duplicate, $"field '{name}' would clash with a member generated for entry '{state.Entry}'; choose another name", at);
        if (kind == FieldKind.Flag && high != low)
            Report(D.BadPosition, $"flag '{name}' is {high - low + 1} bits wide; a flag is one bit (use number or enum)", at);

        long fixedValue = FieldModel.NotFixed;
        if (field.FixedValue is Token value)
            fixedValue = BindFixedValue(field, kind, label, name, high - low + 1, value);

        string? role = field.Role?.Text;
        bool inverted = field.RoleNot is not null;
        if (field.Role is Token roleToken)
        {
            if (!Roles.Contains(roleToken.Text))
                state.MisspelledRole = !Report(D.UnknownRole, $"unknown role '{roleToken.Text}'; roles are {string.Join(", ", Roles)}", roleToken);
            else if (inverted && !InvertibleRoles.Contains(roleToken.Text))
                state.MisspelledRole = !Report(D.RoleNotInvertible, $"role '{roleToken.Text}' cannot be inverted; 'role not R' takes {string.Join(", ", InvertibleRoles)}{(roleToken.Text == "executable" ? " (a bit that forbids execution is 'role noexecute')" : "")}", field.RoleNot!.Value);
            else if (state.Roles.TryGetValue(roleToken.Text, out string? holder))
                Report(D.DuplicateRole, $"role '{roleToken.Text}' is already given to field '{holder}' in entry '{state.Entry}'", roleToken);
            else if (ExecuteConflict(roleToken.Text, state) is string other)
                Report(D.ExecuteRoles, $"role '{roleToken.Text}' and role '{other}' (field '{state.Roles[other]}') both say who may execute in entry '{state.Entry}'; a format has 'executable', or 'noexecute', or 'noexecute-privileged' and 'noexecute-user'", roleToken);
            else
                state.Roles[roleToken.Text] = name ?? "";
        }

        int align = low;
        if (field.Align is Token alignToken)
        {
            if (kind != FieldKind.Frame)
                Report(D.BadPosition, $"only frames take an alignment; {label} is a {field.Keyword.Text}", alignToken);
            else if (alignToken.Value > 63 || (ulong)(high - low) + alignToken.Value > 63)
                Report(D.BadPosition, $"frame '{name}' aligned to bit {alignToken.Text} would hold address bits above 63", alignToken);
            else
                align = (int)alignToken.Value;
        }

        var members = new List<EnumMemberModel>();
        if (kind == FieldKind.Enum)
            BindMembers(field, name!, high - low + 1, members, at);
        else if (field.Members is not null)
            Report(D.Syntax, $"only enum fields have members", at);

        if (kind == FieldKind.Enum && field.FixedValue is Token member && member.Kind == TokenKind.Name)
            fixedValue = FixedMember(member, name!, members);
        state.Fields.Add(new FieldModel(kind, name, high, low, align, fixedValue, role, members.ToEquatableArray(), inverted));
        state.Tokens.Add(at);
    }

    /// <summary>A fixed value: flags 0 or 1, numbers and enums anything their bits hold; reserved, software and frame bits never.</summary>
    private long BindFixedValue(FieldSyntax field, FieldKind kind, string label, string? name, int width, Token value)
    {
        if (kind is not (FieldKind.Flag or FieldKind.Number or FieldKind.Enum))
            Report(D.FixedValue, $"only flags, numbers and enums can be fixed; {label} is a {field.Keyword.Text}", value);
        else if (value.Kind == TokenKind.Name)
            return 0; // an enum member, resolved once the members are bound
        else if (kind == FieldKind.Flag && value.Value > 1)
            Report(D.FixedValue, $"flag '{name}' can be fixed to 0 or 1, not {value.Text}", value);
        else if (width >= 63 || value.Value >> width != 0)
            Report(D.FixedValue, $"{label} is {width} bits wide: it cannot be fixed to {value.Text}{(width >= 63 ? " (fixed fields are at most 62 bits wide)" : $" (at most {(1UL << width) - 1})")}", value);
        else
            return (long)value.Value;
        return FieldModel.NotFixed;
    }

    private long FixedMember(Token member, string name, List<EnumMemberModel> members)
    {
        EnumMemberModel? found = members.FirstOrDefault(m => m.Name == member.Text);
        if (found is not null)
            return (long)found.Value;
        Report(D.FixedMember, $"enum '{name}' has no member '{member.Text}' to be fixed to; its members are {string.Join(", ", members.Select(m => m.Name))}", member);
        return FieldModel.NotFixed;
    }

    // One way of saying who may execute per format: mixed, the builder and the decoder would disagree about some page.
    private static string? ExecuteConflict(string role, LayoutState state)
    {
        string[] group = role == "executable" ? new[] { "noexecute", "noexecute-privileged", "noexecute-user" }
            : role == "noexecute" ? new[] { "executable", "noexecute-privileged", "noexecute-user" }
            : System.Array.IndexOf(PrivilegeNoExecute, role) >= 0 ? new[] { "executable", "noexecute" }
            : System.Array.Empty<string>();
        return group.FirstOrDefault(state.Roles.ContainsKey);
    }

    private bool Place(FieldSyntax field, FieldKind kind, string label, Token at, LayoutState state, out int high, out int low)
    {
        high = low = 0;
        if (field.Position is PositionSyntax position)
        {
            ulong h = position.High.Value, l = position.Low?.Value ?? h;
            if (l > h)
                return Report(D.BadPosition, $"{label}: low bit {l} is above high bit {h}", position.Low ?? position.High);
            if (h >= (ulong)state.Width)
                return Report(D.PastWidth, $"{label} at bits {Range((int)System.Math.Min(h, 999), (int)System.Math.Min(l, 999))} is past the {state.Width}-bit entry '{state.Entry}'", position.High);
            if (field.Width is Token w && w.Value != h - l + 1)
                return Report(D.BadPosition, $"{label} is declared {w.Text} bits wide but placed at bits {Range((int)h, (int)l)}", w);
            high = (int)h;
            low = (int)l;
            if (state.LayoutBroken)
            {
                // Positions after a layout error are not checked against a cursor that is already wrong.
            }
            else if (high > state.Cursor)
            {
                // Fields are laid out downwards, so the one placed last is the one this runs into.
                FieldModel? previous = state.Fields.LastOrDefault();
                string other = previous is null ? "the field before it" : $"{Describe(previous)} (bits {Range(previous.High, previous.Low)})";
                state.LayoutBroken = !Report(D.Overlap, $"{label} at bits {Range(high, low)} overlaps {other}", position.High);
            }
            else if (high < state.Cursor)
            {
                state.LayoutBroken = !Report(D.Gap, $"bits {Range(state.Cursor, high + 1)} above {label} in entry '{state.Entry}' are neither used nor declared reserved", position.High);
            }
        }
        else
        {
            ulong width = field.Width?.Value ?? (kind == FieldKind.Flag ? 1UL : 0UL);
            if (width == 0 || width > 64)
                return Report(D.BadPosition, field.Width is null ? $"{label} needs a width or a position" : $"{label} cannot be {field.Width.Value.Text} bits wide", field.Width ?? at);
            high = state.Cursor;
            low = state.Cursor - (int)width + 1;
            if (low < 0)
            {
                Report(D.PastWidth, $"{label} ({width} bits) runs past bit 0 of the {state.Width}-bit entry '{state.Entry}'", field.Width ?? at);
                state.Cursor = -1;
                return false;
            }
        }
        state.Cursor = System.Math.Min(state.Cursor, low - 1);
        return true;
    }

    private void BindMembers(FieldSyntax field, string name, int width, List<EnumMemberModel> members, Token at)
    {
        if (field.Members is null || field.Members.Count == 0)
        {
            Report(D.EnumValue, $"enum '{name}' needs members: {{ Name = value, ... }}", at);
            return;
        }
        var seen = new HashSet<string>();
        foreach ((Token member, Token value) in field.Members)
        {
            if (!seen.Add(member.Text))
                Report(D.EnumValue, $"enum '{name}' already has a member '{member.Text}'", member);
            else if (NameChecker.Problem(member.Text, type: false) is string problem)
                Report(D.GeneratedName, $"enum member '{member.Text}' {problem}; the generated enum names it", member);
            else if (width < 64 && value.Value >> width != 0)
                Report(D.EnumValue, $"member '{member.Text}' = {value.Text} does not fit the {width}-bit enum '{name}'", value);
            else if (value.Value > uint.MaxValue)
                Report(D.EnumValue, $"member '{member.Text}' = {value.Text} does not fit the generated enum, which is 32-bit (uint); enum values are at most 0xFFFFFFFF", value);
            else
                members.Add(new EnumMemberModel(member.Text, value.Value));
        }
    }

    private static string Describe(FieldModel field) => field.Name is null ? "reserved bits" : $"field '{field.Name}'";

    internal static string Range(int high, int low) => high == low ? $"{high}" : $"{high}:{low}";

    private bool Report(string id, string message, Token at)
    {
        _diagnostics.Add(new DiagnosticInfo(id, message, at.Span));
        return false;
    }

    private sealed class LayoutState
    {
        public LayoutState(string entry, int width)
        {
            Entry = entry;
            Width = width;
            Cursor = width - 1;
        }

        public string Entry { get; }
        public int Width { get; }
        public int Cursor { get; set; }
        public List<FieldModel> Fields { get; } = new();
        public List<Token> Tokens { get; } = new();
        public HashSet<string> Names { get; } = new();
        public Dictionary<string, string> Roles { get; } = new();
        public bool MisspelledRole { get; set; }
        public bool LayoutBroken { get; set; }
    }
}
