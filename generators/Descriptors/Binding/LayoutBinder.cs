using System.Collections.Generic;
using System.Linq;
using System.Numerics;
using ExectOS.Descriptors.Model;
using ExectOS.Descriptors.Syntax;
using D = ExectOS.Descriptors.Model.DescriptorDiagnostics;

namespace ExectOS.Descriptors.Binding;

/// <summary>
/// Binds `layout` blocks and proves them at compile time for every page count of the supported range
/// (LayoutProof): any overlap, misalignment, negative size or region leaving the mode's address space
/// is an error naming the page count where it happens.
/// </summary>
internal sealed class LayoutBinder
{
    private static readonly HashSet<string> Clauses = new() { "size", "min", "max", "align" };

    // Names the formulas or the generated struct already use.
    private static readonly HashSet<string> Reserved = new()
    {
        "pages", "min", "max", "above", "Name", "MinimumPages", "MaximumPages", "RegionCount", "RegionName", "Compute", "Min", "Max", "Above", "AlignUp", "AlignDown",
    };

    /// <summary>Layouts extending each other, at most.</summary>
    internal const int MaxExtends = ModeBinder.MaxExtends;

    private readonly Dictionary<string, ModeModel?> _modes;
    private readonly List<DiagnosticInfo> _diagnostics;

    /// <summary>Each bound layout's region name tokens in order, for the generated-name checks.</summary>
    public Dictionary<string, List<Token>> RegionTokens { get; } = new();

    /// <summary>Each bound layout's let name tokens in order.</summary>
    public Dictionary<string, List<Token>> LetTokens { get; } = new();

    public LayoutBinder(Dictionary<string, ModeModel?> modes, List<DiagnosticInfo> diagnostics)
    {
        _modes = modes;
        _diagnostics = diagnostics;
    }

    /// <summary>
    /// The statements of a layout after its base's: a region or let of the same name replaces the base's
    /// in place, `pages` replaces the base's range, anything else is added at the end. A loop up the chain
    /// (never more than MaxExtends + 2 steps), then down merging, so a deep chain cannot exhaust the stack.
    /// </summary>
    private List<ModeItemSyntax>? Statements(LayoutSyntax layout, Dictionary<string, LayoutSyntax> all)
    {
        var chain = new List<LayoutSyntax> { layout };
        var seen = new HashSet<string> { layout.Name.Text };
        for (LayoutSyntax current = layout; current.Extends is Token baseName;)
        {
            if (!all.TryGetValue(baseName.Text, out LayoutSyntax? baseLayout))
            {
                Report(D.UnknownName, $"no layout named '{baseName.Text}' to extend", baseName);
                return null;
            }
            if (!seen.Add(baseName.Text))
            {
                Report(D.ExtendsCycle, $"layout '{current.Name.Text}' extends itself", baseName);
                return null;
            }
            // Deeper than the limit: only the layout at the limit reports it, the ones extending it are broken silently.
            if (chain.Count > MaxExtends + 1)
                return null;
            chain.Add(baseLayout);
            current = baseLayout;
        }
        if (chain.Count == MaxExtends + 2)
        {
            Report(D.TooDeep, $"layout '{layout.Name.Text}' ends an extends chain {MaxExtends + 1} layouts deep; layouts extend each other at most {MaxExtends} deep", layout.Extends!.Value);
            return null;
        }
        var merged = new List<ModeItemSyntax>(chain[chain.Count - 1].Items);
        for (int i = chain.Count - 2; i >= 0; i--)
        {
            foreach (ModeItemSyntax item in chain[i].Items)
            {
                int replaced = merged.FindIndex(existing => SameSubject(existing, item));
                if (replaced >= 0)
                    merged[replaced] = item;
                else
                    merged.Add(item);
            }
        }
        return merged;
    }

    /// <summary>What merging would hide: a block's own `pages` given twice, or (extending) a name declared twice in it.</summary>
    private void CheckBlock(LayoutSyntax layout)
    {
        var given = new Dictionary<string, Token>();
        foreach (ModeItemSyntax item in layout.Items)
        {
            string? subject = item.Keyword.Text == "pages" ? "pages" : layout.Extends is not null && item.Keyword.Text is "let" or "region" && item.Arguments.Count > 0 ? item.Arguments[0].Text : null;
            if (subject is null)
                continue;
            if (!given.TryGetValue(subject, out Token first))
                given[subject] = item.Keyword;
            else if (subject == "pages")
                Report(D.Repeated, $"layout '{layout.Name.Text}' already says 'pages' at line {first.Span.Line + 1}; a layout block gives its page range once", item.Keyword);
            else
                Report(D.Duplicate, $"'{subject}' is already a name in layout '{layout.Name.Text}' (line {first.Span.Line + 1})", item.Arguments[0]);
        }
    }

    private static bool SameSubject(ModeItemSyntax a, ModeItemSyntax b)
        => a.Keyword.Text == b.Keyword.Text && (a.Keyword.Text == "pages"
            || (a.Arguments.Count > 0 && b.Arguments.Count > 0 && a.Arguments[0].Text == b.Arguments[0].Text));

    public LayoutModel? Bind(LayoutSyntax layout, Dictionary<string, LayoutSyntax> all)
    {
        int errors = _diagnostics.Count;
        CheckBlock(layout);
        List<ModeItemSyntax>? statements = Statements(layout, all);
        if (statements is null || _diagnostics.Count != errors)
            return null;
        if (!_modes.TryGetValue(layout.Mode.Text, out ModeModel? mode))
        {
            Report(D.UnknownName, $"no mode named '{layout.Mode.Text}' for layout '{layout.Name.Text}'", layout.Mode);
            return null;
        }
        Token? pagesToken = null;
        ulong minimumPages = 0, maximumPages = 0;
        var lets = new List<LetModel>();
        var regions = new List<(RegionModel Model, Token Name, Token Size)>();
        var letNames = new HashSet<string>();
        var letTokens = new Dictionary<string, Token>();
        var declared = new List<string>();
        foreach (ModeItemSyntax item in statements)
        {
            switch (item.Keyword.Text)
            {
                case "pages":
                    if (ParsePages(item, out minimumPages, out maximumPages))
                        pagesToken = item.Keyword;
                    break;
                case "let":
                    if (item.Arguments.Count < 3 || item.Arguments[0].Kind != TokenKind.Name || !item.Arguments[1].Is("="))
                    {
                        Report(D.Syntax, "expected 'let NAME = FORMULA'", item.Arguments.Count > 0 ? item.Arguments[0] : item.Keyword);
                        break;
                    }
                    Token name = item.Arguments[0];
                    if (Reserved.Contains(name.Text) || declared.Contains(name.Text) || letNames.Contains(name.Text))
                    {
                        Report(D.Duplicate, $"'{name.Text}' is already a name in layout '{layout.Name.Text}'", name);
                        break;
                    }
                    // In scope from the next statement on: a let cannot use itself.
                    if (ExpressionParser.Parse(item.Arguments, 2, item.Arguments.Count, letNames, _diagnostics, item.Keyword, name.Text) is ExpressionModel value)
                    {
                        lets.Add(new LetModel(name.Text, value));
                        letTokens[name.Text] = name;
                    }
                    letNames.Add(name.Text);
                    break;
                case "region":
                    if (ParseRegion(item, letNames, declared, mode) is { } region)
                        regions.Add(region);
                    // Declared even when it has errors, so regions placed after it do not report it missing too.
                    if (item.Arguments.Count > 0 && item.Arguments[0].Kind == TokenKind.Name && !declared.Contains(item.Arguments[0].Text))
                        declared.Add(item.Arguments[0].Text);
                    break;
                default:
                    Report(D.UnknownKeyword, $"'{item.Keyword.Text}' is not a layout statement; expected pages, let or region", item.Keyword);
                    break;
            }
        }
        if (_diagnostics.Count != errors || mode is null)
            return null;
        if (pagesToken is null || regions.Count == 0)
        {
            Report(D.LayoutIncomplete, $"layout '{layout.Name.Text}' needs a 'pages MIN .. MAX' line and at least one region", layout.Name);
            return null;
        }
        ReportUnusedLets(lets, regions.Select(r => r.Model), letTokens);
        if (_diagnostics.Count != errors)
            return null;
        var model = new LayoutModel(layout.Name.Text, mode.Name, layout.Name.Span.Line + 1, minimumPages, maximumPages,
            lets.ToEquatableArray(), regions.Select(r => r.Model).ToEquatableArray());
        var places = regions.ToDictionary(r => r.Model.Name, r => (r.Name, r.Size));
        foreach (var let in letTokens)
            places[let.Key] = (let.Value, let.Value);
        new LayoutProof(model, mode, places, _diagnostics).Run();
        if (_diagnostics.Count != errors)
            return null;
        RegionTokens[model.Name] = regions.Select(r => r.Name).ToList();
        LetTokens[model.Name] = lets.Select(l => letTokens[l.Name]).ToList();
        return model;
    }

    // The generated Compute would hold a local nothing reads (CS0219 for a constant): a let no region needs is a mistake.
    private void ReportUnusedLets(List<LetModel> lets, IEnumerable<RegionModel> regions, Dictionary<string, Token> tokens)
    {
        var used = new HashSet<string>();
        foreach (RegionModel region in regions)
        {
            foreach (ExpressionModel? e in new[] { region.Size, region.Minimum, region.Maximum })
                Uses(e, used);
        }
        for (int i = lets.Count - 1; i >= 0; i--)
        {
            if (used.Contains(lets[i].Name))
                Uses(lets[i].Value, used);
        }
        foreach (LetModel let in lets.Where(l => !used.Contains(l.Name)))
            Report(D.UnusedLet, $"let '{let.Name}' is used by no region, directly or through another let; use it or remove it", tokens[let.Name]);
    }

    private static void Uses(ExpressionModel? e, HashSet<string> used)
    {
        if (e is null)
            return;
        if (e.Kind == ExpressionKind.Let)
            used.Add(e.Name!);
        foreach (ExpressionModel operand in e.Operands)
            Uses(operand, used);
    }

    private bool ParsePages(ModeItemSyntax item, out ulong minimum, out ulong maximum)
    {
        minimum = maximum = 0;
        List<Token> a = item.Arguments;
        if (a.Count != 4 || a[0].Kind != TokenKind.Number || !a[1].Is(".") || !a[2].Is(".") || a[3].Kind != TokenKind.Number)
            return Report(D.Syntax, "expected 'pages MIN .. MAX'", a.Count > 0 ? a[0] : item.Keyword);
        minimum = a[0].Value;
        maximum = a[3].Value;
        if (minimum == 0 || minimum > maximum || maximum > (ulong)long.MaxValue >> 12)
            return Report(D.LayoutPages, $"page counts {a[0].Text} .. {a[3].Text} are not a range this layout can support (1 .. 2^51, low to high)", a[0]);
        return true;
    }

    private (RegionModel, Token, Token)? ParseRegion(ModeItemSyntax item, ISet<string> lets, List<string> earlier, ModeModel? mode)
    {
        List<Token> a = item.Arguments;
        if (a.Count < 5 || a[0].Kind != TokenKind.Name || !(a[1].Is("at") || a[1].Is("after") || a[1].Is("below")))
            return ReportNull(D.Syntax, "expected 'region NAME at ADDRESS | after REGION | below ADDRESS size FORMULA [min FORMULA] [max FORMULA] [align SIZE]'", a.Count > 0 ? a[0] : item.Keyword);
        Token name = a[0];
        if (earlier.Contains(name.Text) || lets.Contains(name.Text) || Reserved.Contains(name.Text))
            return ReportNull(D.Duplicate, $"'{name.Text}' is already a name in this layout (regions, lets and the generated members share one set)", name);
        var placement = a[1].Is("at") ? Placement.At : a[1].Is("after") ? Placement.After : Placement.Below;
        Token anchor = a[2];
        if (placement == Placement.After ? anchor.Kind != TokenKind.Name : anchor.Kind != TokenKind.Number)
            return ReportNull(D.Syntax, placement == Placement.After ? "expected the name of an earlier region after 'after'" : $"expected an address after '{a[1].Text}'", anchor);
        if (placement == Placement.After && !earlier.Contains(anchor.Text))
            return ReportNull(D.UnknownName, $"no region '{anchor.Text}' declared before '{name.Text}'", anchor);

        // Clauses start at size/min/max/align outside parentheses; min( and max( are functions.
        var clauses = new Dictionary<string, (int Start, int Stop, Token Keyword)>();
        int depth = 0, current = -1;
        for (int i = 3; i <= a.Count; i++)
        {
            bool clause = i < a.Count && depth == 0 && Clauses.Contains(a[i].Text) && a[i].Kind == TokenKind.Name && !(i + 1 < a.Count && a[i + 1].Is("("));
            if (i == a.Count || clause)
            {
                if (current >= 0)
                    clauses[a[current].Text] = (current + 1, i, a[current]);
                else if (i > 3)
                    return ReportNull(D.Syntax, $"expected 'size', found {a[3].Describe()}", a[3]);
                if (i < a.Count && clauses.ContainsKey(a[i].Text))
                    return ReportNull(D.Duplicate, $"region '{name.Text}' already has a '{a[i].Text}' clause", a[i]);
                current = i;
                continue;
            }
            depth += a[i].Is("(") ? 1 : a[i].Is(")") ? -1 : 0;
        }
        if (!clauses.TryGetValue("size", out var sizeClause))
            return ReportNull(D.LayoutIncomplete, $"region '{name.Text}' needs 'size FORMULA'", name);
        ExpressionModel? size = Formula(a, sizeClause, lets);
        ExpressionModel? minimum = clauses.TryGetValue("min", out var min) ? Formula(a, min, lets) : null;
        ExpressionModel? maximum = clauses.TryGetValue("max", out var max) ? Formula(a, max, lets) : null;
        ulong align = mode is null ? 4096 : 1UL << mode.PageShift;
        if (clauses.TryGetValue("align", out var alignClause))
        {
            Token value = alignClause.Stop - alignClause.Start == 1 ? a[alignClause.Start] : alignClause.Keyword;
            if (value.Kind != TokenKind.Number || value.Value == 0 || (value.Value & (value.Value - 1)) != 0)
                return ReportNull(D.PageSize, $"region '{name.Text}': alignment must be one power-of-two number", value);
            align = value.Value;
        }
        if (size is null || (min.Keyword.Text is not null && minimum is null) || (max.Keyword.Text is not null && maximum is null))
            return null;
        if (placement == Placement.At && (anchor.Value & (align - 1)) != 0)
            return ReportNull(D.RegionMisaligned, $"region '{name.Text}' starts at {anchor.Text}, which is not {ModeBinder.Size(ModeBinder.Log2(align))}-aligned", anchor);
        var model = new RegionModel(name.Text, name.Span.Line + 1, placement, placement == Placement.After ? 0 : anchor.Value,
            placement == Placement.After ? anchor.Text : null, size, minimum, maximum, align);
        return (model, name, sizeClause.Keyword);
    }

    private ExpressionModel? Formula(List<Token> tokens, (int Start, int Stop, Token Keyword) clause, ISet<string> lets)
    {
        if (clause.Stop == clause.Start)
        {
            Report(D.Syntax, $"expected a formula after '{clause.Keyword.Text}'", clause.Keyword);
            return null;
        }
        return ExpressionParser.Parse(tokens, clause.Start, clause.Stop, lets, _diagnostics, clause.Keyword);
    }

    private bool Report(string id, string message, Token at)
    {
        _diagnostics.Add(new DiagnosticInfo(id, message, at.Span));
        return false;
    }

    private (RegionModel, Token, Token)? ReportNull(string id, string message, Token at)
    {
        Report(id, message, at);
        return null;
    }
}
