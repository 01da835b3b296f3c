using System.Collections.Generic;
using System.Linq;
using ExectOS.Descriptors.Model;
using ExectOS.Descriptors.Syntax;
using Microsoft.CodeAnalysis.CSharp;
using D = ExectOS.Descriptors.Model.DescriptorDiagnostics;

namespace ExectOS.Descriptors.Binding;

/// <summary>
/// Proves every name the emitter will write compiles: each a C# identifier and no keyword, the types of a file
/// distinct, and no member of a generated type named like another member of it, like the type itself or like a
/// type the generated code names (CS0102, CS0542, CS0101, hidden types). Runs on a file that bound cleanly; the
/// member lists here are the emitter's, so a member added there is added here.
/// </summary>
internal sealed class NameChecker
{
    /// <summary>Types the generated code names unqualified (it imports ExectOS.Memory), and the namespace it qualifies.</summary>
    internal static readonly HashSet<string> UsedTypes = new()
    {
        "PhysicalAddress", "VirtualAddress", "PageProtection", "EntryKind", "IPagingMode", "ILayout", "IModeVisitor",
        "FeatureRequirement", "FeatureProbe", "FeatureComparison", "LayoutRegion", "System",
    };

    private static readonly string[] EntryMembers = { "Value", "Width", "Empty", "ReservedMask", "SoftwareMask", "FixedMask", "FixedValue", "PresetMask", "PresetValue", "HasReservedBits", "MatchesFixedBits" };

    private static readonly string[] ModeMembers =
    {
        "Name", "Id", "VirtualBits", "CanonicalAddresses", "PhysicalBits", "PageShift", "EntryBytes", "LevelCount", "SelfMapIndex", "SelfMapLevels", "RootCount", "RootOf",
        "LevelShift", "LevelIndexBits", "LevelMapsPages", "Index", "IsCanonical", "RequirementCount", "Requirement", "PresentMask", "Classify",
        "TableAddress", "PageAddress", "CanHoldTable", "CanHoldPage", "MakeTable", "MakePage", "Protection", "HasReservedBits",
    };

    private static readonly string[] LayoutMembers =
    {
        "Name", "MinimumPages", "MaximumPages", "RegionCount", "IsCanonical", "RegionName", "Compute", "K", "M", "G", "T", "Min", "Max", "Above", "AlignUp", "AlignDown",
    };

    private readonly List<DiagnosticInfo> _diagnostics;

    public NameChecker(List<DiagnosticInfo> diagnostics) => _diagnostics = diagnostics;

    /// <summary>What makes <paramref name="name"/> unusable as a generated identifier, or null.</summary>
    internal static string? Problem(string name, bool type)
    {
        if (name.Length == 0 || char.IsDigit(name[0]) || name.Any(c => !(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))))
            return "is not a C# identifier (ASCII letters, digits and '_')";
        if (SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None)
            return "is a C# keyword";
        if (type && name.All(c => c >= 'a' && c <= 'z'))
            return "has only lower-case letters, which C# keeps for keywords (CS8981); use a capital";
        return null;
    }

    public void CheckArchitecture(Token architecture)
    {
        string? problem = Problem(architecture.Text, type: false);
        if (problem is null && (architecture.Text == "System" || architecture.Text == "ImageModes" || architecture.Text == "PagingLimits"))
            problem = "would hide a name the generated code uses (System, ExectOS.Paging.ImageModes, ExectOS.Paging.PagingLimits)";
        if (problem is not null)
            Report($"architecture '{architecture.Text}' {problem}; it names the namespace ExectOS.Paging.{architecture.Text}", architecture);
    }

    /// <summary>The namespace's types: each well formed, none twice, none hiding a type the generated code uses.</summary>
    public HashSet<string> CheckTypes(IEnumerable<(string Name, Token At, string What)> types)
    {
        var seen = new Dictionary<string, (Token At, string What)>();
        foreach (var (name, at, what) in types.OrderBy(t => t.At.Span.Start))
        {
            if (Problem(name, type: true) is string problem)
                Report($"{what} generates the type '{name}', which {problem}", at);
            else if (UsedTypes.Contains(name))
                Report($"{what} generates the type '{name}', a name the generated code uses for its own; choose another", at);
            else if (seen.TryGetValue(name, out var first))
                Report($"{what} generates the type '{name}', as {first.What} at line {first.At.Span.Line + 1} does; rename one", at);
            else
                seen[name] = (at, what);
        }
        return new HashSet<string>(seen.Keys.Concat(UsedTypes));
    }

    /// <summary>The members of one generated type, in declaration order; the fixed ones come first, at the type's name.</summary>
    public void CheckMembers(string type, Token typeAt, string typeWhat, IEnumerable<string> fixedMembers, IEnumerable<(string Name, Token At, string What)> members, HashSet<string> types)
    {
        var seen = new Dictionary<string, string>();
        foreach (string member in fixedMembers)
            seen[member] = $"a member every {typeWhat} has";
        if (seen.ContainsKey(type))
            Report($"{typeWhat} '{type}' is named like its member '{type}', which every {typeWhat} has (CS0542); rename it", typeAt);
        foreach (var (name, at, what) in members)
        {
            if (seen.TryGetValue(name, out string? other))
                Report($"{what} generates the member '{name}' of {typeWhat} '{type}', which is already {other}; rename it", at);
            else if (name == type)
                Report($"{what} generates the member '{name}', named like its {typeWhat} (CS0542); rename it", typeAt.Span.Start > at.Span.Start ? typeAt : at);
            else if (types.Contains(name))
                Report($"{what} generates the member '{name}' of {typeWhat} '{type}', which would hide the type '{name}' the generated code names; rename it", at);
            else
                seen[name] = $"{what} (line {at.Span.Line + 1})";
        }
    }

    /// <summary>The members an entry format's field generates (FormatEmitter).</summary>
    internal static IEnumerable<string> FieldMembers(FieldModel field)
    {
        string n = field.Name!;
        yield return n;
        yield return n + "Mask";
        if (field.Kind == FieldKind.Frame)
        {
            yield return n + "AddressMask";
            yield return "CanHold" + n;
        }
        if (field.Kind is FieldKind.Enum or FieldKind.Number or FieldKind.Software)
            yield return n + "Shift";
        if (field.Kind is FieldKind.Number or FieldKind.Software)
            yield return n + "Maximum";
        if (field.FixedValue == FieldModel.NotFixed)
            yield return "With" + n;
    }

    /// <summary>The members a paging mode's level generates (ModeEmitter, EntryOperationsEmitter).</summary>
    internal static IEnumerable<string> LevelMembers(LevelModel level, int index)
    {
        string n = level.Name;
        foreach (string suffix in new[] { "Level", "Shift", "IndexMask", "Index" })
            yield return n + suffix;
        if (level.TableFormat is not null && level.PageFormat is not null)
            yield return "IsTable" + index;
        if (level.TableFormat is not null)
        {
            yield return n + "Table";
            yield return n + "TableProtection";
        }
        if (level.PageFormat is not null)
        {
            yield return n + "Page";
            yield return n + "PageProtection";
        }
    }

    public static IEnumerable<string> FixedEntryMembers => EntryMembers;

    public static IEnumerable<string> FixedModeMembers => ModeMembers;

    public static IEnumerable<string> FixedLayoutMembers => LayoutMembers;

    private void Report(string message, Token at) => _diagnostics.Add(new DiagnosticInfo(D.GeneratedName, message, at.Span));
}
