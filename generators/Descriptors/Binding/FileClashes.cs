using System;
using System.Collections.Immutable;
using System.Linq;
using ExectOS.Descriptors.Emit;
using ExectOS.Descriptors.Model;
using D = ExectOS.Descriptors.Model.DescriptorDiagnostics;

namespace ExectOS.Descriptors.Binding;

/// <summary>What one compiled descriptor file puts where the others can meet it: its generated file and its names.</summary>
internal sealed record FileSummary(string Path, string SourceName, string HintName, string Architecture, EquatableArray<Declaration> Declarations)
{
    public static FileSummary? Of(DescriptorResult result)
        => result.Model is not DescriptorModel model ? null
            : new FileSummary(result.Path, model.SourceName, Emitter.HintName(model), model.Architecture, model.Declarations);
}

/// <summary>
/// Files are compiled one by one; these checks see them together. Of two files that clash, the one whose path sorts
/// later gets the diagnostic and generates nothing, so the compiler never meets two sources of one name (CS8785) or
/// two types of one name in one namespace (CS0101).
/// </summary>
internal static class FileClashes
{
    public static DiagnosticInfo? Find(FileSummary file, ImmutableArray<FileSummary?> all)
    {
        foreach (FileSummary other in all.Where(o => o is not null && string.CompareOrdinal(o.Path, file.Path) < 0).Select(o => o!).OrderBy(o => o.Path, StringComparer.Ordinal))
        {
            if (string.Equals(other.HintName, file.HintName, StringComparison.OrdinalIgnoreCase))
                return At(file, file.Declarations[0], $"{other.SourceName} is also architecture '{other.Architecture}' and named '{FileName(other)}': both would generate '{file.HintName}'; give descriptor files of one architecture distinct names");
            foreach (Declaration declared in file.Declarations.Skip(1))
            {
                Declaration? first = other.Declarations.Skip(1).FirstOrDefault(o => o.Kind == declared.Kind && o.Name == declared.Name
                    && (declared.Kind == "image" || other.Architecture == file.Architecture));
                if (first is not null)
                    return At(file, declared, declared.Kind == "image"
                        ? $"image '{declared.Name}' is also declared in {other.SourceName} line {first.Line + 1}; an image's modes are listed once"
                        : $"the type '{declared.Name}' is also generated from {other.SourceName} line {first.Line + 1}, in the same namespace ExectOS.Paging.{file.Architecture}; rename one");
            }
        }
        return null;
    }

    private static string FileName(FileSummary file) => file.SourceName.Substring(file.SourceName.LastIndexOf('/') + 1);

    private static DiagnosticInfo At(FileSummary file, Declaration at, string message)
        => new(D.FileClash, message, new SourceSpan(file.Path, 0, 0, at.Line, at.Column, at.Line, at.Column + at.Length));
}
