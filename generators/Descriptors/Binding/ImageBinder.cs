using System.Collections.Generic;
using System.Linq;
using ExectOS.Descriptors.Model;
using ExectOS.Descriptors.Syntax;
using D = ExectOS.Descriptors.Model.DescriptorDiagnostics;

namespace ExectOS.Descriptors.Binding;

/// <summary>
/// Binds the declarations that tie paging modes to images: `feature` (what a mode requires and how the
/// architecture layer probes it) and `image` (the modes an image architecture runs, preferred first, each
/// with its kernel layout).
/// </summary>
internal sealed class ImageBinder
{
    private static readonly string[] CpuIdRegisters = { "eax", "ebx", "ecx", "edx" };

    private readonly List<DiagnosticInfo> _diagnostics;

    public ImageBinder(List<DiagnosticInfo> diagnostics) => _diagnostics = diagnostics;

    /// <summary>`feature NAME cpuid LEAF[.SUBLEAF] REGISTER BIT`; a broken one is kept as null so uses are not reported again.</summary>
    public Dictionary<string, FeatureModel?> BindFeatures(List<ModeItemSyntax> declarations, Dictionary<string, Token> names)
    {
        var features = new Dictionary<string, FeatureModel?>();
        foreach (ModeItemSyntax declaration in declarations)
        {
            List<Token> a = declaration.Arguments;
            if (a.Count == 0 || a[0].Kind != TokenKind.Name)
            {
                Report(D.Syntax, "expected 'feature NAME cpuid LEAF[.SUBLEAF] REGISTER BIT'", a.Count > 0 ? a[0] : declaration.Keyword);
                continue;
            }
            Token name = a[0];
            if (names.TryGetValue(name.Text, out Token first))
            {
                Report(D.Duplicate, $"'{name.Text}' is already declared at line {first.Span.Line + 1}", name);
                continue;
            }
            names[name.Text] = name;
            features[name.Text] = BindProbe(name, a);
        }
        return features;
    }

    private FeatureModel? BindProbe(Token name, List<Token> a)
    {
        // The probes the architecture layers know; `cpuid` is x86's. A new probe kind needs its layer's code too.
        bool sub = a.Count == 7 && a[3].Is(".");
        if (a.Count >= 2 && a[1].Is("register"))
            return BindRegisterProbe(name, a);
        if (a.Count < 2 || !a[1].Is("cpuid"))
        {
            Report(D.Syntax, $"feature '{name.Text}': expected a probe ('cpuid LEAF[.SUBLEAF] REGISTER BIT' or 'register NAME [HIGH:LOW] is|not|atleast VALUE'), found {(a.Count > 1 ? a[1].Describe() : "the end of the line")}", a.Count > 1 ? a[1] : name);
            return null;
        }
        if (!((a.Count == 5 || sub) && a[2].Kind == TokenKind.Number && (!sub || a[4].Kind == TokenKind.Number)))
        {
            Report(D.Syntax, "expected 'feature NAME cpuid LEAF[.SUBLEAF] REGISTER BIT'", a[1]);
            return null;
        }
        Token register = a[sub ? 5 : 3], bit = a[sub ? 6 : 4];
        int word = System.Array.IndexOf(CpuIdRegisters, register.Text);
        if (word < 0)
        {
            Report(D.CpuIdRegister, $"'{register.Text}' is not a CPUID result register (eax, ebx, ecx, edx)", register);
            return null;
        }
        if (bit.Kind != TokenKind.Number || bit.Value > 31)
        {
            Report(D.BadPosition, $"CPUID bit {bit.Text} is out of range (0 to 31)", bit);
            return null;
        }
        if (a[2].Value > uint.MaxValue || (sub && a[4].Value > uint.MaxValue))
        {
            Report(D.BadNumber, "a CPUID leaf and subleaf are 32-bit numbers", a[2]);
            return null;
        }
        return new FeatureModel(name.Text, "cpuid", (uint)a[2].Value, sub ? (uint)a[4].Value : 0, word, (int)bit.Value);
    }

    /// <summary>
    /// `feature NAME register REGISTER [HIGH:LOW] is|not|atleast VALUE`: a field of a register the architecture layer
    /// reads by name (AArch64: an ID register such as ID_AA64MMFR0_EL1), compared with a value.
    /// </summary>
    private FeatureModel? BindRegisterProbe(Token name, List<Token> a)
    {
        const string Form = "expected 'feature NAME register REGISTER [HIGH:LOW] is|not|atleast VALUE'";
        int close = a.FindIndex(t => t.Is("]"));
        bool shaped = a.Count >= 8 && a[2].Kind == TokenKind.Name && a[3].Is("[") && a[4].Kind == TokenKind.Number
            && (close == 5 || (close == 7 && a[5].Is(":") && a[6].Kind == TokenKind.Number)) && a.Count == close + 3 && a[close + 2].Kind == TokenKind.Number;
        if (!shaped)
        {
            Report(D.Syntax, Form, a.Count > 2 ? a[2] : a[1]);
            return null;
        }
        Token register = a[2], comparison = a[close + 1], value = a[close + 2];
        ulong high = a[4].Value, low = close == 7 ? a[6].Value : high;
        if (!(comparison.Is("is") || comparison.Is("not") || comparison.Is("atleast")))
        {
            Report(D.Syntax, $"expected a comparison ('is', 'not' or 'atleast'), found {comparison.Describe()}", comparison);
            return null;
        }
        if (NameChecker.Problem(register.Text, type: false) is string problem)
        {
            Report(D.GeneratedName, $"register '{register.Text}' {problem}; the generated requirement names it", register);
            return null;
        }
        if (low > high || high > 63)
        {
            Report(D.RegisterProbe, $"register field [{a[4].Text}{(close == 7 ? ":" + a[6].Text : "")}] is not within a 64-bit register (bits 63 to 0, high first)", a[4]);
            return null;
        }
        int width = (int)(high - low + 1);
        if (width < 64 && value.Value >> width != 0)
        {
            Report(D.RegisterProbe, $"register field {FormatBinder.Range((int)high, (int)low)} of {register.Text} is {width} bits wide: it never holds {value.Text}", value);
            return null;
        }
        return new FeatureModel(name.Text, "register", ModeBinder.ModeId("register", register.Text), 0, (int)low, width, register.Text, comparison.Text, value.Value);
    }

    /// <summary>`image NAME modes MODE [, MODE]...`: every mode bound, each with exactly one layout made for it.</summary>
    /// <param name="layouts">Each declared layout's mode (as written) and its model (null when it is broken).</param>
    public List<ImageModel> BindImages(List<ModeItemSyntax> declarations, Dictionary<string, ModeModel?> modes, IReadOnlyList<(string Mode, LayoutModel? Model)> layouts, Dictionary<string, Token> names)
    {
        var images = new List<ImageModel>();
        var seen = new Dictionary<string, Token>();
        foreach (ModeItemSyntax declaration in declarations)
        {
            List<Token> a = declaration.Arguments;
            if (a.Count < 3 || a[0].Kind != TokenKind.Name || !a[1].Is("modes"))
            {
                Report(D.Syntax, "expected 'image NAME modes MODE [, MODE]...' (NAME as the build's ImageArch spells it: amd64, i686 ...)", a.Count > 0 ? a[Last(a, 1)] : declaration.Keyword);
                continue;
            }
            Token name = a[0];
            if (seen.TryGetValue(name.Text, out Token first))
            {
                Report(D.Duplicate, $"image '{name.Text}' is already declared at line {first.Span.Line + 1}", name);
                continue;
            }
            seen[name.Text] = name;
            ImageModel? image = BindImage(name, a.Skip(2).Where(t => !t.Is(",")).ToList(), modes, layouts, names);
            if (image is not null)
                images.Add(image);
        }
        return images;
    }

    private ImageModel? BindImage(Token name, List<Token> listed, Dictionary<string, ModeModel?> modes, IReadOnlyList<(string Mode, LayoutModel? Model)> layouts, Dictionary<string, Token> names)
    {
        int errors = _diagnostics.Count;
        string typeName = char.ToUpperInvariant(name.Text[0]) + name.Text.Substring(1) + "Image";
        if (names.TryGetValue(typeName, out Token clash))
            Report(D.Duplicate, $"image '{name.Text}' generates the type '{typeName}', already declared at line {clash.Span.Line + 1}", name);
        var result = new List<ImageModeModel>();
        foreach (Token mode in listed)
        {
            if (mode.Kind != TokenKind.Name)
            {
                Report(D.Syntax, $"expected a mode name, found {mode.Describe()}", mode);
                continue;
            }
            if (!modes.TryGetValue(mode.Text, out ModeModel? model))
            {
                Report(D.UnknownName, $"image '{name.Text}' lists '{mode.Text}', but no mode of that name is declared", mode);
                continue;
            }
            if (model is null)
                continue; // its own errors were reported
            if (result.Any(m => m.Mode == mode.Text))
            {
                Report(D.ImageModes, $"image '{name.Text}' lists mode '{mode.Text}' twice", mode);
                continue;
            }
            var made = layouts.Where(l => l.Mode == mode.Text).ToList();
            // A broken layout (its errors were reported) may be the one meant for this mode.
            if (made.Any(l => l.Model is null) || (made.Count == 0 && layouts.Any(l => l.Model is null)))
                continue;
            if (made.Count != 1)
            {
                Report(D.ImageModes, made.Count == 0
                    ? $"mode '{mode.Text}' has no layout ('layout NAME for {mode.Text}'); an image's kernel needs one for every mode it runs"
                    : $"mode '{mode.Text}' has {made.Count} layouts ({string.Join(", ", made.Select(l => l.Model!.Name))}); an image's mode needs exactly one", mode);
                continue;
            }
            ImageModeModel? collision = result.FirstOrDefault(m => m.Id == model.Id);
            if (collision is not null)
            {
                Report(D.ModeId, $"modes '{collision.Mode}' and '{mode.Text}' have the same identifier 0x{model.Id:X8}; rename one", mode);
                continue;
            }
            result.Add(new ImageModeModel(mode.Text, made[0].Model!.Name, model.Id));
        }
        if (listed.Count == 0)
            Report(D.ImageModes, $"image '{name.Text}' lists no mode", name);
        return _diagnostics.Count != errors ? null : new ImageModel(name.Text, name.Span.Line + 1, result.ToEquatableArray());
    }

    private static int Last(List<Token> tokens, int index) => index < tokens.Count ? index : tokens.Count - 1;

    private void Report(string id, string message, Token at) => _diagnostics.Add(new DiagnosticInfo(id, message, at.Span));
}
