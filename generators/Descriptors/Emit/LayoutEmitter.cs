using System.Globalization;
using ExectOS.Descriptors.Model;
using Microsoft.CodeAnalysis.CSharp;

namespace ExectOS.Descriptors.Emit;

/// <summary>Writes a layout as a struct implementing ILayout: region indices and names, and an allocation-free Compute.</summary>
internal static class LayoutEmitter
{
    public static void Emit(CodeWriter w, DescriptorModel model, LayoutModel layout)
    {
        w.Line($"/// <summary>{model.Architecture} layout {layout.Name} for mode {layout.Mode}: {layout.Regions.Count} regions for {layout.MinimumPages} to {layout.MaximumPages} physical pages ({model.SourceName} line {layout.Line}).</summary>");
        w.Open($"public readonly struct {layout.Name} : ILayout");
        w.Line($"public static string Name => \"{layout.Name}\";");
        w.Line($"public static ulong MinimumPages => {layout.MinimumPages.ToString(CultureInfo.InvariantCulture)};");
        w.Line($"public static ulong MaximumPages => {layout.MaximumPages.ToString(CultureInfo.InvariantCulture)};");
        w.Line($"public static int RegionCount => {layout.Regions.Count};");
        w.Line($"public static bool IsCanonical(VirtualAddress address) => {layout.Mode}.IsCanonical(address);");
        w.Line();
        for (int i = 0; i < layout.Regions.Count; i++)
            w.Line($"public const int {layout.Regions[i].Name} = {i};");
        w.Line();
        w.Open("public static string RegionName(int region) => region switch");
        for (int i = 0; i < layout.Regions.Count; i++)
            w.Line($"{i} => \"{layout.Regions[i].Name}\",");
        w.Line("_ => \"\",");
        w.Close(";");
        w.Line();
        w.Open("public static bool Compute(ulong pages, System.Span<LayoutRegion> regions)");
        w.Line($"if (pages < {layout.MinimumPages}UL || pages > {layout.MaximumPages}UL || regions.Length < {layout.Regions.Count})");
        w.Line("    return false;");
        w.Line("long p = (long)pages;");
        foreach (LetModel let in layout.Lets)
            w.Line($"long {Identifier(let.Name)} = {Expression(let.Value)};");
        w.Line("long size;");
        foreach (RegionModel region in layout.Regions)
        {
            string size = Expression(region.Size);
            if (region.Minimum is not null)
                size = $"Max({size}, {Expression(region.Minimum)})";
            if (region.Maximum is not null)
                size = $"Min({size}, {Expression(region.Maximum)})";
            string align = $"0x{region.Align.ToString("X", CultureInfo.InvariantCulture)}UL";
            w.Line($"size = {size};");
            string start = region.Placement switch
            {
                Placement.At => $"0x{region.Address.ToString("X16", CultureInfo.InvariantCulture)}UL",
                Placement.After => $"AlignUp(regions[{region.After}].End.Value, {align})",
                _ => $"AlignDown(0x{region.Address.ToString("X16", CultureInfo.InvariantCulture)}UL - AlignUp((ulong)size, {align}), {align})",
            };
            w.Line($"regions[{region.Name}] = new LayoutRegion(new VirtualAddress({start}), AlignUp((ulong)size, {align}));");
        }
        w.Line("return true;");
        w.Close();
        w.Line();
        w.Line("private const long K = 1024, M = 1024 * K, G = 1024 * M, T = 1024 * G;");
        w.Line();
        w.Line("private static long Min(long a, long b) => a < b ? a : b;");
        w.Line();
        w.Line("private static long Max(long a, long b) => a > b ? a : b;");
        w.Line();
        w.Line("private static long Above(long a, long b) => a > b ? 1 : 0;");
        w.Line();
        w.Line("private static ulong AlignUp(ulong value, ulong alignment) => (value + alignment - 1) & ~(alignment - 1);");
        w.Line();
        w.Line("private static ulong AlignDown(ulong value, ulong alignment) => value & ~(alignment - 1);");
        w.Close();
    }

    // Precedence-aware: parentheses only where C# would read the formula differently.
    private static string Expression(ExpressionModel e, int parent = 0)
    {
        switch (e.Kind)
        {
            case ExpressionKind.Number:
                return Literal(e);
            case ExpressionKind.Pages:
                return "p";
            case ExpressionKind.Let:
                return Identifier(e.Name!);
            case ExpressionKind.Minimum:
            case ExpressionKind.Maximum:
            case ExpressionKind.Above:
                string function = e.Kind == ExpressionKind.Minimum ? "Min" : e.Kind == ExpressionKind.Maximum ? "Max" : "Above";
                return $"{function}({Expression(e.Operands[0])}, {Expression(e.Operands[1])})";
        }
        int precedence = e.Kind is ExpressionKind.Add or ExpressionKind.Subtract ? 1 : 2;
        string op = e.Kind switch { ExpressionKind.Add => "+", ExpressionKind.Subtract => "-", ExpressionKind.Multiply => "*", _ => "/" };
        // The right operand binds tighter: a - (b - c) and a / (b * c) keep their parentheses.
        string right = Expression(e.Operands[1], precedence + 1);
        // A sized literal is written `4 * K`: after a division it needs its parentheses (a / 4K is a / (4 * K)).
        if (e.Kind == ExpressionKind.Divide && e.Operands[1].Kind == ExpressionKind.Number && right.Contains(" * "))
            right = $"({right})";
        string text = $"{Expression(e.Operands[0], precedence)} {op} {right}";
        return precedence < parent ? $"({text})" : text;
    }

    private static string Literal(ExpressionModel e)
    {
        int shift = e.Name switch { "K" => 10, "M" => 20, "G" => 30, "T" => 40, _ => 0 };
        if (shift > 0)
            return $"{(e.Value >> shift).ToString(CultureInfo.InvariantCulture)} * {e.Name}";
        if (e.Name == "0x")
            return $"0x{e.Value.ToString("X", CultureInfo.InvariantCulture)}L";
        return $"{e.Value.ToString(CultureInfo.InvariantCulture)}L";
    }

    // A let named like a C# keyword, the generated locals, constants or types Compute names gets a prefix.
    internal static string Identifier(string name)
        => SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None || name is "p" or "size" or "pages" or "regions" or "K" or "M" or "G" or "T" or "VirtualAddress" or "LayoutRegion" or "System" ? "let_" + name : name;
}
