using System;
using System.Collections.Generic;
using System.Linq;
using ExectOS.Descriptors.Emit;
using ExectOS.Descriptors.Model;
using ExectOS.Descriptors.Syntax;
using D = ExectOS.Descriptors.Model.DescriptorDiagnostics;

namespace ExectOS.Descriptors.Binding;

/// <summary>The result of compiling one descriptor file: a model, or the diagnostics that prevent one.</summary>
internal sealed record DescriptorResult(string Path, DescriptorModel? Model, EquatableArray<DiagnosticInfo> Diagnostics);

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
        return new DescriptorResult(path, distinct.Count == 0 ? model : null, distinct.ToEquatableArray());
    }

    private static DescriptorModel? Bind(string path, FileSyntax file, List<DiagnosticInfo> diagnostics)
    {
        if (file.Architectures.Count != 1)
        {
            var at = file.Architectures.Count > 1 ? file.Architectures[1].Span : file.First.Span;
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
        var declarations = CheckNames(file, formats, formatBinder, boundModes!, modeBinder, boundLayouts!, layoutBinder, images, diagnostics);
        if (diagnostics.Count > 0)
            return null;
        return new DescriptorModel(
            SourceName(path),
            file.Architectures[0].Text,
            formats.Values.Select(f => f!).ToEquatableArray(),
            boundModes.Select(m => m!).ToEquatableArray(),
            boundLayouts.Select(l => l!).ToEquatableArray(),
            images.ToEquatableArray(),
            declarations.ToEquatableArray());
    }

    private static List<Declaration> CheckNames(FileSyntax file, Dictionary<string, FormatModel?> formats, FormatBinder formatBinder, List<ModeModel?> modes, ModeBinder modeBinder,
        List<LayoutModel?> layouts, LayoutBinder layoutBinder, List<ImageModel> images, List<DiagnosticInfo> diagnostics)
    {
        var checker = new NameChecker(diagnostics);
        checker.CheckArchitecture(file.Architectures[0]);
        var entryTokens = file.Entries.ToDictionary(e => e.Name.Text, e => e.Name, StringComparer.Ordinal);
        var modeTokens = file.Modes.GroupBy(m => m.Name.Text).ToDictionary(g => g.Key, g => g.First().Name, StringComparer.Ordinal);
        var layoutTokens = file.Layouts.GroupBy(l => l.Name.Text).ToDictionary(g => g.Key, g => g.First().Name, StringComparer.Ordinal);
        var imageTokens = file.Images.Where(i => i.Arguments.Count > 0).GroupBy(i => i.Arguments[0].Text).ToDictionary(g => g.Key, g => g.First().Arguments[0], StringComparer.Ordinal);

        var types = new List<(string, Token, string)>();
        foreach (FormatModel format in formats.Values.Select(f => f!))
        {
            types.Add((format.Name, entryTokens[format.Name], $"entry '{format.Name}'"));
            foreach (var (field, at) in formatBinder.FieldTokens[format.Name].Where(f => f.Field.Kind == FieldKind.Enum))
                types.Add((format.Name + field.Name, at, $"enum field '{field.Name}' of entry '{format.Name}'"));
        }
        types.AddRange(modes.Select(m => (m!.Name, modeTokens[m.Name], $"mode '{m.Name}'")));
        types.AddRange(layouts.Select(l => (l!.Name, layoutTokens[l.Name], $"layout '{l.Name}'")));
        types.AddRange(images.Select(i => (i.TypeName, imageTokens[i.Name], $"image '{i.Name}'")));
        HashSet<string> typeNames = checker.CheckTypes(types);
        var declarations = new List<Declaration> { Declared("architecture", file.Architectures[0]) };
        declarations.AddRange(types.Select(t => Declared("type", t.Item2) with { Name = t.Item1 }));
        declarations.AddRange(images.Select(i => Declared("image", imageTokens[i.Name])));

        foreach (FormatModel format in formats.Values.Select(f => f!))
        {
            var fields = formatBinder.FieldTokens[format.Name];
            checker.CheckMembers(format.Name, entryTokens[format.Name], "entry struct", NameChecker.FixedEntryMembers,
                fields.SelectMany(f => NameChecker.FieldMembers(f.Field).Select(m => (m, f.Name, $"field '{f.Field.Name}'"))), typeNames);
            foreach (var (field, at) in fields.Where(f => NameChecker.Problem(f.Field.Name!, type: false) is not null))
                diagnostics.Add(new DiagnosticInfo(D.GeneratedName, $"field '{field.Name}' of entry '{format.Name}' {NameChecker.Problem(field.Name!, type: false)}; its accessors are named after it", at.Span));
        }
        foreach (ModeModel mode in modes.Select(m => m!))
        {
            var levels = modeBinder.LevelTokens[mode.Name];
            checker.CheckMembers(mode.Name, modeTokens[mode.Name], "mode struct", NameChecker.FixedModeMembers,
                mode.Levels.SelectMany((l, i) => NameChecker.LevelMembers(l, i).Select(m => (m, levels[i], $"level '{l.Name}'"))), typeNames);
            foreach (var (level, at) in mode.Levels.Zip(levels, (l, t) => (l, t)).Where(x => NameChecker.Problem(x.l.Name, type: false) is not null))
                diagnostics.Add(new DiagnosticInfo(D.GeneratedName, $"level '{level.Name}' of mode '{mode.Name}' {NameChecker.Problem(level.Name, type: false)}; its constants are named after it", at.Span));
        }
        foreach (LayoutModel layout in layouts.Select(l => l!))
        {
            var regions = layoutBinder.RegionTokens[layout.Name];
            var members = layout.Regions.Zip(regions, (r, t) => (r.Name, t, $"region '{r.Name}'")).ToList();
            // Compute's locals: the lets, as the emitter spells them; a region's constant they shadow would break it.
            var locals = layout.Lets.Zip(layoutBinder.LetTokens[layout.Name], (l, t) => (LayoutEmitter.Identifier(l.Name), t, $"let '{l.Name}'"));
            checker.CheckMembers(layout.Name, layoutTokens[layout.Name], "layout struct", NameChecker.FixedLayoutMembers, members.Concat(locals), new HashSet<string>(typeNames.Append(layout.Mode)));
            foreach (var (name, at, what) in members.Where(m => NameChecker.Problem(m.Name, type: false) is not null).Concat(locals.Where(l => NameChecker.Problem(l.Item1, type: false) is not null)))
                diagnostics.Add(new DiagnosticInfo(D.GeneratedName, $"{what} of layout '{layout.Name}' {NameChecker.Problem(name, type: false)}; the generated code names it", at.Span));
        }
        return declarations;
    }

    private static Declaration Declared(string kind, Token at) => new(kind, at.Text, at.Span.Line, at.Span.Column, at.Span.Length);

    private static Dictionary<string, T> Declare<T>(List<T> declarations, Func<T, Token> nameOf, Dictionary<string, Token> names, List<DiagnosticInfo> diagnostics)
    {
        var result = new Dictionary<string, T>();
        foreach (T declaration in declarations)
        {
            Token name = nameOf(declaration);
            if (NameChecker.UsedTypes.Contains(name.Text))
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
