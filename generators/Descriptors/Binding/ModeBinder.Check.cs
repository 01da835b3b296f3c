using System.Collections.Generic;
using System.Linq;
using ExectOS.Descriptors.Model;
using ExectOS.Descriptors.Syntax;
using D = ExectOS.Descriptors.Model.DescriptorDiagnostics;

namespace ExectOS.Descriptors.Binding;

/// <summary>The checks of a resolved mode: its settings complete, its levels within the walker's limits and right for their formats.</summary>
internal sealed partial class ModeBinder
{
    private ModeModel? Check(ModeSyntax mode, Draft draft)
    {
        Token name = mode.Name;
        string missing = string.Join(", ", new[] { ("virtual", draft.Virtual), ("physical", draft.Physical), ("page", draft.Page), ("entry", draft.Entry) }
            .Where(x => x.Item2 is null).Select(x => x.Item1).Concat(draft.Levels.Count == 0 ? new[] { "level" } : new string[0]));
        if (missing.Length > 0)
        {
            Report(D.ModeIncomplete, $"mode '{name.Text}' does not say: {missing}", name);
            return null;
        }

        int errors = _diagnostics.Count;
        int pageShift = Log2(draft.Page!.Value.Value);
        int virtualBits = (int)draft.Virtual!.Value.Value, physicalBits = (int)draft.Physical!.Value.Value, entryWidth = (int)draft.Entry!.Value.Value;
        int indexBits = draft.Levels.Sum(l => (int)l.Bits.Value);
        if (pageShift + indexBits != virtualBits)
        {
            Report(D.IndexBits, $"mode '{name.Text}': page shift {pageShift} + level index bits {string.Join(" + ", draft.Levels.Select(l => l.Bits.Text))} = {pageShift + indexBits}, but virtual addresses have {virtualBits} bits", draft.Virtual.Value);
            return null;
        }

        if (draft.Levels.Count > MaxLevels)
        {
            Report(D.WalkerLimit, $"mode '{name.Text}' has {draft.Levels.Count} levels; the walker handles at most {MaxLevels}", draft.Levels[MaxLevels].Name);
            return null;
        }
        int entryShift = Log2((ulong)entryWidth / 8), tableBits = pageShift - entryShift;
        foreach (LevelDraft level in draft.Levels.Where(l => l.Bits.Value > (ulong)tableBits))
            Report(D.WalkerLimit, $"level '{level.Name.Text}': {level.Bits.Text} index bits of {entryWidth / 8}-byte entries make a table of {Size((int)level.Bits.Value + entryShift)}, larger than the {Size(pageShift)} page it is kept in; at most {tableBits} bits", level.Bits);
        if (_diagnostics.Count != errors)
            return null;

        var levels = new List<LevelModel>();
        int shift = virtualBits;
        for (int i = 0; i < draft.Levels.Count; i++)
        {
            LevelDraft level = draft.Levels[i];
            shift -= (int)level.Bits.Value;
            bool last = i == draft.Levels.Count - 1;
            CheckLevel(name.Text, level, shift, last, entryWidth, physicalBits, pageShift);
            levels.Add(new LevelModel(level.Name.Text, (int)level.Bits.Value, shift, level.Table?.Text, level.Page?.Text));
        }

        var names = new HashSet<string>();
        foreach (LevelDraft level in draft.Levels.Where(l => !names.Add(l.Name.Text)))
            Report(D.Duplicate, $"mode '{name.Text}' already has a level named '{level.Name.Text}'", level.Name);

        int selfMap = ModeModel.NoSelfMap, selfMapLevels = 1;
        // A split mode's self-map is a slot of the high half's root (the kernel's half): it shows that half's tables only.
        if (draft.SelfMap is Token mapped && draft.Split is Token split && draft.SelfMapLevels is Token across && across.Value != 1)
            Report(D.SplitAddresses, $"mode '{name.Text}' splits its addresses into two halves (line {split.Span.Line + 1}); its self-map is one slot of the high half's root, not one across {across.Text} levels", across);
        else if (draft.SelfMap is Token slot)
        {
            selfMapLevels = draft.SelfMapLevels is Token merged ? (int)merged.Value : 1;
            if (selfMapLevels >= draft.Levels.Count)
            {
                Report(D.SelfMap, $"mode '{name.Text}' has {draft.Levels.Count} levels; a self-map across {selfMapLevels} of them leaves no level for pages", draft.SelfMapLevels ?? slot);
                return null;
            }
            // The top levels taken as one table: entries = 2^(their index bits); the slots needed = the tables of its
            // lowest level (one for a self-map in the root; PAE: the four page directories).
            int bits = draft.Levels.Take(selfMapLevels).Sum(l => (int)l.Bits.Value);
            ulong entries = 1UL << bits, slots = 1UL << (bits - (int)draft.Levels[selfMapLevels - 1].Bits.Value);
            if (slot.Value + slots > entries)
                Report(D.SelfMap, selfMapLevels == 1
                    ? $"self-map slot {slot.Text} is outside the {entries}-entry root table of mode '{name.Text}'"
                    : $"self-map slots {slot.Text} to {slot.Value + slots - 1} are outside the {entries} entries of the top {selfMapLevels} levels of mode '{name.Text}'", slot);
            else if (slot.Value % slots != 0)
                Report(D.SelfMap, $"self-map slot {slot.Text} of mode '{name.Text}' must be a multiple of {slots}: its {slots} slots map the {slots} tables of level '{draft.Levels[selfMapLevels - 1].Name.Text}' in order", slot);
            else
                selfMap = (int)slot.Value;
        }

        if (_diagnostics.Count == errors)
            LevelTokens[name.Text] = draft.Levels.Select(l => l.Name).ToList();
        return _diagnostics.Count != errors ? null : new ModeModel(
            name.Text, name.Span.Line + 1, virtualBits, draft.Canonical, draft.Split is not null, physicalBits, pageShift, entryWidth,
            levels.ToEquatableArray(), selfMap, selfMapLevels, draft.Requirements.ToEquatableArray(), ModeId(_architecture, name.Text),
            selfMap != ModeModel.NoSelfMap && draft.SelfMapPageAttributes);
    }

    private void CheckLevel(string mode, LevelDraft level, int shift, bool last, int entryWidth, int physicalBits, int pageShift)
    {
        if (last && (level.Table is not null || level.Page is null))
            Report(D.LevelFormats, $"level '{level.Name.Text}' is the last of mode '{mode}': it maps pages ('page FORMAT') and has no table", level.Name);
        else if (!last && level.Table is null)
            Report(D.LevelFormats, $"level '{level.Name.Text}' of mode '{mode}' is not the last: it needs 'table FORMAT'", level.Name);

        FormatModel? table = Format(level.Table, mode, entryWidth, physicalBits);
        FormatModel? page = Format(level.Page, mode, entryWidth, physicalBits);
        if (page is not null)
        {
            FieldModel frame = page.Fields.First(f => f.Kind == FieldKind.Frame);
            if (frame.Align > shift)
                Report(D.Misaligned, $"format '{page.Name}' holds only {Size(frame.Align)}-aligned frames, but level '{level.Name.Text}' maps {Size(shift)} pages", level.Page!.Value);
        }
        if (table is not null && table.Fields.First(f => f.Kind == FieldKind.Frame).Align > pageShift)
            Report(D.Misaligned, $"format '{table.Name}' holds only {Size(table.Fields.First(f => f.Kind == FieldKind.Frame).Align)}-aligned frames, but the tables level '{level.Name.Text}' points to are {Size(pageShift)} pages", level.Table!.Value);
        if (table is not null && page is not null && PresentBit(table) != PresentBit(page))
            Report(D.Indistinguishable, $"level '{level.Name.Text}': formats '{table.Name}' and '{page.Name}' keep their present flag at different bits, so an entry cannot be read before it is classified", level.Name);
        else if (table is not null && page is not null && !Distinguishable(table, page))
            Report(D.Indistinguishable, $"level '{level.Name.Text}': an entry is a table when its fixed flags match format '{table.Name}', but {(table.Fields.Any(Emit.FormatEmitter.IsDiscriminator) ? $"format '{page.Name}' fixes them to the same values" : $"'{table.Name}' has no fixed flag")}", level.Name);
    }

    private FormatModel? Format(Token? reference, string mode, int entryWidth, int physicalBits)
    {
        if (reference is not Token token)
            return null;
        if (!_formats.TryGetValue(token.Text, out FormatModel? format))
        {
            Report(D.UnknownName, $"no entry format named '{token.Text}'", token);
            return null;
        }
        if (format is null)
            return null; // the format's own errors were reported
        if (format.Width != entryWidth)
        {
            Report(D.FormatWidth, $"format '{format.Name}' is {format.Width} bits, but mode '{mode}' has {entryWidth}-bit entries", token);
            return null;
        }
        FieldModel frame = format.Fields.First(f => f.Kind == FieldKind.Frame);
        if (frame.AddressTop > physicalBits - 1)
            Report(D.FrameTooWide, $"frame '{frame.Name}' of format '{format.Name}' holds address bits up to {frame.AddressTop}, but mode '{mode}' has {physicalBits}-bit physical addresses", token);
        else if (frame.AddressTop < physicalBits - 1)
            Report(D.AddressWidth, $"mode '{mode}' has {physicalBits}-bit physical addresses, but frame '{frame.Name}' of format '{format.Name}' holds bits up to {frame.AddressTop} only", token);
        return format;
    }

    // Generated code reads an entry at such a level as a table when the table format's fixed flags
    // match, else as a page: so the table format needs fixed flags, and the page format must not fix
    // every one of them to the same value (x86: PS = 0 against PS = 1; RISC-V: R = W = X = 0 against free).
    private static int PresentBit(FormatModel format) => format.Fields.FirstOrDefault(f => f.Role == "present")?.Low ?? -1;

    private static bool Distinguishable(FormatModel table, FormatModel page)
    {
        var tableFixed = table.Fields.Where(Emit.FormatEmitter.IsDiscriminator).ToList();
        return tableFixed.Count > 0
            && !tableFixed.All(t => page.Fields.Any(p => p.Low == t.Low && p.High == t.High && p.FixedValue == t.FixedValue));
    }
}
