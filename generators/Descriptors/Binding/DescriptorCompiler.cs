using System;
using System.Collections.Generic;
using System.Linq;
using ExectOS.Descriptors.Model;
using ExectOS.Descriptors.Syntax;
using D = ExectOS.Descriptors.Model.DescriptorDiagnostics;

namespace ExectOS.Descriptors.Binding;

/// <summary>The result of compiling one descriptor file: a model, or the diagnostics that prevent one.</summary>
internal sealed record DescriptorResult(DescriptorModel? Model, EquatableArray<DiagnosticInfo> Diagnostics);

/// <summary>Text in, model or diagnostics out. Pure: no Roslyn symbols, no I/O.</summary>
internal static class DescriptorCompiler
{
    public static DescriptorResult Compile(string path, string text)
    {
        var diagnostics = new List<DiagnosticInfo>();
        DescriptorModel? model = null;
        try
        {
            List<Token> tokens = Lexer.Tokenize(path, text, diagnostics);
            FileSyntax file = Parser.Parse(tokens, diagnostics);
            // Binding a file with syntax errors would report their consequences too: one typo, one error.
            if (diagnostics.Count == 0)
                model = Bind(path, file, diagnostics);
        }
        catch (Exception exception)
        {
            // A compiler bug must still be a diagnostic, never a crashed build.
            diagnostics.Add(new DiagnosticInfo(D.Internal, $"the descriptor compiler failed: {exception.GetType().Name}: {exception.Message}", new SourceSpan(path, 0, 0, 0, 0, 0, 0)));
        }
        var distinct = diagnostics.Distinct().OrderBy(d => d.Span.Start).ThenBy(d => d.Id, StringComparer.Ordinal).ToList();
        return new DescriptorResult(distinct.Count == 0 ? model : null, distinct.ToEquatableArray());
    }

    private static DescriptorModel? Bind(string path, FileSyntax file, List<DiagnosticInfo> diagnostics)
    {
        if (file.Architectures.Count != 1)
        {
            var at = file.Architectures.Count > 1 ? file.Architectures[1].Span : new SourceSpan(path, 0, 0, 0, 0, 0, 0);
            diagnostics.Add(new DiagnosticInfo(D.Architecture, file.Architectures.Count == 0
                ? "a descriptor file starts with 'architecture NAME'"
                : $"the architecture is already '{file.Architectures[0].Text}'", at));
        }

        var names = new Dictionary<string, Token>();
        var fragments = Declare(file.Fragments, f => f.Name, names, diagnostics);
        var entries = Declare(file.Entries, e => e.Name, names, diagnostics);
        var modes = Declare(file.Modes, m => m.Name, names, diagnostics);

        var formatBinder = new FormatBinder(fragments, diagnostics);
        var formats = new Dictionary<string, FormatModel?>();
        foreach (EntrySyntax entry in entries.Values)
            formats[entry.Name.Text] = formatBinder.Bind(entry);

        var imageBinder = new ImageBinder(diagnostics);
        var features = imageBinder.BindFeatures(file.Features, names);
        string architecture = file.Architectures.Count > 0 ? file.Architectures[0].Text : "";
        var modeBinder = new ModeBinder(architecture, modes, formats, features, diagnostics);
        var boundModes = modes.Values.Select(modeBinder.Bind).ToList();

        var layouts = Declare(file.Layouts, l => l.Name, names, diagnostics);
        var modesByName = boundModes.Zip(modes.Keys, (model, name) => (model, name)).ToDictionary(x => x.name, x => x.model);
        var layoutBinder = new LayoutBinder(modesByName, diagnostics);
        var boundLayouts = layouts.Values.Select(l => layoutBinder.Bind(l, layouts)).ToList();
        var images = imageBinder.BindImages(file.Images, modesByName, layouts.Values.Zip(boundLayouts, (syntax, model) => (syntax.Mode.Text, model)).ToList(), names);

        if (diagnostics.Count > 0 || file.Architectures.Count != 1)
            return null;
        return new DescriptorModel(
            SourceName(path),
            file.Architectures[0].Text,
            formats.Values.Select(f => f!).ToEquatableArray(),
            boundModes.Select(m => m!).ToEquatableArray(),
            boundLayouts.Select(l => l!).ToEquatableArray(),
            images.ToEquatableArray());
    }

    // Types the generated code names unqualified (it imports ExectOS.Memory): a declaration may not hide them.
    private static readonly HashSet<string> ReservedTypeNames = new()
    {
        "PhysicalAddress", "VirtualAddress", "PageProtection", "EntryKind", "IPagingMode", "ILayout", "IModeVisitor",
        "FeatureRequirement", "FeatureProbe", "LayoutRegion",
    };

    private static Dictionary<string, T> Declare<T>(List<T> declarations, Func<T, Token> nameOf, Dictionary<string, Token> names, List<DiagnosticInfo> diagnostics)
    {
        var result = new Dictionary<string, T>();
        foreach (T declaration in declarations)
        {
            Token name = nameOf(declaration);
            if (ReservedTypeNames.Contains(name.Text))
            {
                diagnostics.Add(new DiagnosticInfo(D.Duplicate, $"'{name.Text}' is the name of a type the generated code uses; choose another name", name.Span));
                continue;
            }
            if (names.TryGetValue(name.Text, out Token first))
            {
                diagnostics.Add(new DiagnosticInfo(D.Duplicate, $"'{name.Text}' is already declared at line {first.Span.Line + 1}", name.Span));
                continue;
            }
            names[name.Text] = name;
            result[name.Text] = declaration;
        }
        return result;
    }

    /// <summary>The path from "descriptors/" on, so generated text never contains a machine's absolute paths.</summary>
    internal static string SourceName(string path)
    {
        string normalized = path.Replace('\\', '/');
        int at = normalized.LastIndexOf("descriptors/", StringComparison.Ordinal);
        return at >= 0 ? normalized.Substring(at) : normalized.Substring(normalized.LastIndexOf('/') + 1);
    }
}
