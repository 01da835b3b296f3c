using System.Collections.Generic;
using System.Linq;
using ExectOS.Descriptors.Model;
using ExectOS.Descriptors.Syntax;
using D = ExectOS.Descriptors.Model.DescriptorDiagnostics;

namespace ExectOS.Descriptors.Binding;

/// <summary>Resolves modes (with `extends`), computes level shifts and checks them against the formats.</summary>
internal sealed partial class ModeBinder
{
    private readonly Dictionary<string, ModeSyntax> _modes;
    private readonly Dictionary<string, FormatModel?> _formats;
    private readonly List<DiagnosticInfo> _diagnostics;
    private readonly Dictionary<string, FeatureModel?> _features;
    private readonly string _architecture;
    private readonly Dictionary<string, Draft?> _resolved = new();
    private readonly Dictionary<string, int> _depth = new();

    public ModeBinder(string architecture, Dictionary<string, ModeSyntax> modes, Dictionary<string, FormatModel?> formats, Dictionary<string, FeatureModel?> features, List<DiagnosticInfo> diagnostics)
    {
        _architecture = architecture;
        _modes = modes;
        _formats = formats;
        _features = features;
        _diagnostics = diagnostics;
    }

    /// <summary>
    /// The mode's identity in loader blocks: FNV-1a (32 bits) of "ARCHITECTURE.MODE", so it is stable across
    /// builds and file order, and a block from another architecture's loader names no mode of this one.
    /// </summary>
    internal static uint ModeId(string architecture, string mode)
    {
        uint hash = 2166136261;
        foreach (char c in architecture + "." + mode)
            hash = (hash ^ c) * 16777619;
        return hash;
    }

    /// <summary>Modes extending each other, at most (a limit of reason: resolving is a loop, not recursion).</summary>
    internal const int MaxExtends = 16;

    /// <summary>The walker's fixed array of levels (PageTable.MaxLevels).</summary>
    internal const int MaxLevels = 8;

    /// <summary>Page sizes the walker and the loader's table allocation support, as shifts.</summary>
    internal const int MinPageShift = 12, MaxPageShift = 16;

    /// <summary>Each bound mode's level name tokens, root first, for the generated-name checks.</summary>
    public Dictionary<string, List<Token>> LevelTokens { get; } = new();

    public ModeModel? Bind(ModeSyntax mode)
    {
        int errors = _diagnostics.Count;
        Draft? draft = Resolve(mode);
        if (draft is null || _diagnostics.Count != errors)
            return null;
        return Check(mode, draft);
    }

    /// <summary>
    /// The mode's statements applied over its base's; null when the base is broken (already reported). A loop up the
    /// extends chain to a resolved mode or the root, then down applying each, so a deep chain cannot exhaust the stack.
    /// </summary>
    private Draft? Resolve(ModeSyntax mode)
    {
        var chain = new List<ModeSyntax>();
        var seen = new HashSet<string>();
        Draft? draft = null;
        int depth = -1;
        bool broken = false;
        for (ModeSyntax current = mode; ;)
        {
            if (_resolved.TryGetValue(current.Name.Text, out Draft? done))
            {
                draft = done?.Copy();
                broken = done is null;
                depth = broken ? 0 : _depth[current.Name.Text];
                break;
            }
            seen.Add(current.Name.Text);
            chain.Add(current);
            if (current.Extends is not Token baseName)
            {
                draft = new Draft();
                break;
            }
            if (!_modes.TryGetValue(baseName.Text, out ModeSyntax? baseMode))
            {
                Report(D.UnknownName, $"no mode named '{baseName.Text}' to extend", baseName);
                broken = true;
                break;
            }
            if (seen.Contains(baseName.Text))
            {
                Report(D.ExtendsCycle, $"mode '{current.Name.Text}' extends itself ({string.Join(" -> ", chain.Select(m => m.Name.Text))} -> {baseName.Text})", baseName);
                broken = true;
                break;
            }
            current = baseMode;
        }
        // Down the chain: the base first. Broken ones are cached too, so a base's errors are reported once.
        for (int i = chain.Count - 1; i >= 0; i--)
        {
            ModeSyntax current = chain[i];
            depth++;
            if (!broken && depth == MaxExtends + 1)
            {
                Report(D.TooDeep, $"mode '{current.Name.Text}' ends an extends chain {depth} modes deep; modes extend each other at most {MaxExtends} deep", current.Extends!.Value);
                broken = true;
            }
            if (!broken && !Apply(current, draft!))
                broken = true;
            _resolved[current.Name.Text] = broken ? null : draft!.Copy();
            _depth[current.Name.Text] = depth;
        }
        return broken ? null : draft;
    }

    private bool Apply(ModeSyntax mode, Draft draft)
    {
        int errors = _diagnostics.Count;
        var given = new Dictionary<string, Token>();
        foreach (ModeItemSyntax item in mode.Items)
        {
            List<Token> a = item.Arguments;
            // One block says each setting once: a second one would silently replace the first.
            string subject = item.Keyword.Text == "requires" && a.Count > 0 ? "requires " + a[0].Text : item.Keyword.Text;
            if (subject is not ("level" or "root") && given.TryGetValue(subject, out Token first))
            {
                Report(D.Repeated, $"mode '{mode.Name.Text}' already says '{subject}' at line {first.Span.Line + 1}; a mode block gives each setting once", subject.StartsWith("requires ", System.StringComparison.Ordinal) ? a[0] : item.Keyword);
                continue;
            }
            given[subject] = item.Keyword;
            switch (item.Keyword.Text)
            {
                case "virtual":
                    if (Arguments(item, 1, 2, "virtual BITS [canonical|split]") && Number(a[0], 1, 64, "virtual address bits", D.AddressWidth))
                    {
                        draft.Virtual = a[0];
                        // split: two halves of 2^BITS bytes, at the bottom and at the top of the 64-bit space, each with its own root.
                        draft.Canonical = a.Count == 2 && a[1].Is("canonical");
                        draft.Split = a.Count == 2 && a[1].Is("split") ? a[1] : null;
                        if (a.Count == 2 && !draft.Canonical && draft.Split is null)
                            Report(D.Syntax, $"expected 'canonical' or 'split', found {a[1].Describe()}", a[1]);
                        if (draft.Split is Token split && a[0].Value > 63)
                            Report(D.SplitAddresses, $"a split address space has two halves of 2^BITS bytes below 2^64; {a[0].Text} bits leave no room for two", split);
                    }
                    break;
                case "physical":
                    if (Arguments(item, 1, 1, "physical BITS") && Number(a[0], 1, 64, "physical address bits", D.AddressWidth))
                        draft.Physical = a[0];
                    break;
                case "page":
                    if (Arguments(item, 1, 1, "page SIZE"))
                    {
                        if (a[0].Kind != TokenKind.Number || a[0].Value == 0 || (a[0].Value & (a[0].Value - 1)) != 0)
                            Report(D.PageSize, $"page size {a[0].Text} is not a power of two", a[0]);
                        else if (Log2(a[0].Value) < MinPageShift || Log2(a[0].Value) > MaxPageShift)
                            Report(D.WalkerLimit, $"page size {a[0].Text} is outside what the walker supports: {Size(MinPageShift)} to {Size(MaxPageShift)}, a power of two", a[0]);
                        else
                            draft.Page = a[0];
                    }
                    break;
                case "entry":
                    if (Arguments(item, 1, 1, "entry 32|64"))
                    {
                        if (a[0].Value != 32 && a[0].Value != 64)
                            Report(D.EntryWidth, $"mode '{mode.Name.Text}' has {a[0].Text}-bit entries; entries are 32 or 64 bits", a[0]);
                        else
                            draft.Entry = a[0];
                    }
                    break;
                case "level":
                case "root":
                    if (ParseLevel(item, out LevelDraft level))
                    {
                        if (item.Keyword.Text == "root")
                            draft.Levels.Insert(0, level);
                        else
                            draft.Levels.Add(level);
                    }
                    break;
                case "self-map":
                    // self-map INDEX [levels N] [page-attributes]: INDEX counts entries across the top N levels taken as
                    // one table; page-attributes: table entries carry a page's attributes in the bits tables ignore.
                    if (Arguments(item, 1, 4, "self-map INDEX [levels N] [page-attributes]") && Number(a[0], 0, 1UL << 20, "self-map index", D.SelfMap))
                    {
                        int count = a.Count;
                        bool attributes = count > 1 && a[count - 1].Text == "page-attributes";
                        if (attributes)
                            count--;
                        if (count == 1)
                        {
                            draft.SelfMap = a[0];
                            draft.SelfMapLevels = null;
                            draft.SelfMapPageAttributes = attributes;
                        }
                        else if (count == 2)
                            Report(D.Syntax, "expected 'self-map INDEX [levels N] [page-attributes]'", a[1]);
                        else if (Word(a[1], "levels") && Number(a[2], 1, 2, "self-map levels", D.SelfMap))
                        {
                            draft.SelfMap = a[0];
                            draft.SelfMapLevels = a[2];
                            draft.SelfMapPageAttributes = attributes;
                        }
                    }
                    break;
                case "requires":
                    ParseRequirement(item, draft);
                    break;
                default:
                    Report(D.UnknownKeyword, $"'{item.Keyword.Text}' is not a mode statement; expected virtual, physical, page, entry, level, root, self-map or requires", item.Keyword);
                    break;
            }
        }
        return _diagnostics.Count == errors;
    }

    private bool ParseLevel(ModeItemSyntax item, out LevelDraft level)
    {
        level = default;
        List<Token> a = item.Arguments;
        if (a.Count < 2 || a[0].Kind != TokenKind.Name || a[1].Kind != TokenKind.Number)
            return Report(D.Syntax, $"expected '{item.Keyword.Text} NAME BITS [table FORMAT] [page FORMAT]'", a.Count > 0 ? a[0] : item.Keyword);
        if (!Number(a[1], 1, 32, "index bits", D.IndexBits))
            return false;
        Token? table = null, page = null;
        for (int i = 2; i < a.Count; i += 2)
        {
            if (i + 1 >= a.Count || a[i + 1].Kind != TokenKind.Name || !(a[i].Is("table") || a[i].Is("page")))
                return Report(D.Syntax, $"expected 'table FORMAT' or 'page FORMAT', found {a[i].Describe()}", a[i]);
            if ((a[i].Is("table") ? table : page) is Token earlier)
                return Report(D.Repeated, $"level '{a[0].Text}' already has '{a[i].Text} {earlier.Text}'; a level has at most one table and one page format", a[i]);
            if (a[i].Is("table"))
                table = a[i + 1];
            else
                page = a[i + 1];
        }
        level = new LevelDraft(a[0], a[1], table, page);
        return true;
    }

    private void ParseRequirement(ModeItemSyntax item, Draft draft)
    {
        // requires FEATURE: a `feature` declared in this file, probed by the architecture layer.
        if (!Arguments(item, 1, 1, "requires FEATURE") || item.Arguments[0].Kind != TokenKind.Name)
        {
            if (item.Arguments.Count == 1)
                Report(D.Syntax, $"expected the name of a feature, found {item.Arguments[0].Describe()}", item.Arguments[0]);
            return;
        }
        Token name = item.Arguments[0];
        if (!_features.TryGetValue(name.Text, out FeatureModel? feature))
            Report(D.UnknownName, $"no feature named '{name.Text}'; declare it with 'feature {name.Text} cpuid LEAF[.SUBLEAF] REGISTER BIT'", name);
        else if (feature is not null && !draft.Requirements.Contains(feature))
            draft.Requirements.Add(feature);
    }

    private bool Arguments(ModeItemSyntax item, int min, int max, string form)
    {
        if (item.Arguments.Count >= min && item.Arguments.Count <= max)
            return true;
        return Report(D.Syntax, $"expected '{form}'", item.Arguments.Count > max ? item.Arguments[max] : item.Keyword);
    }

    private bool Number(Token token, ulong min, ulong max, string what, string id)
    {
        if (token.Kind != TokenKind.Number)
            return Report(D.Syntax, $"expected {what}, found {token.Describe()}", token);
        if (token.Value < min || token.Value > max)
            return Report(id, $"{what} {token.Text} is out of range ({min} to {max})", token);
        return true;
    }

    private bool Word(Token token, string word)
        => token.Is(word) || Report(D.Syntax, $"expected '{word}', found {token.Describe()}", token);

    internal static int Log2(ulong value)
    {
        int log = 0;
        while (value > 1)
        {
            value >>= 1;
            log++;
        }
        return log;
    }

    internal static string Size(int shift) => shift >= 30 ? $"{1UL << (shift - 30)} GiB" : shift >= 20 ? $"{1UL << (shift - 20)} MiB" : shift >= 10 ? $"{1UL << (shift - 10)} KiB" : $"{1UL << shift} B";

    private bool Report(string id, string message, Token at)
    {
        _diagnostics.Add(new DiagnosticInfo(id, message, at.Span));
        return false;
    }

    private readonly record struct LevelDraft(Token Name, Token Bits, Token? Table, Token? Page);

    private sealed class Draft
    {
        public Token? Virtual;
        public bool Canonical;
        public Token? Split;
        public Token? Physical;
        public Token? Page;
        public Token? Entry;
        public Token? SelfMap;
        public Token? SelfMapLevels;
        public bool SelfMapPageAttributes;
        public List<LevelDraft> Levels = new();
        public List<FeatureModel> Requirements = new();

        public Draft Copy() => new()
        {
            Virtual = Virtual,
            Canonical = Canonical,
            Split = Split,
            Physical = Physical,
            Page = Page,
            Entry = Entry,
            SelfMap = SelfMap,
            SelfMapLevels = SelfMapLevels,
            SelfMapPageAttributes = SelfMapPageAttributes,
            Levels = new List<LevelDraft>(Levels),
            Requirements = new List<FeatureModel>(Requirements),
        };
    }
}
