using System;

namespace ExectOS.Descriptors.Model;

/// <summary>Where something is in a descriptor file; lines and columns are zero-based, as Roslyn's.</summary>
internal readonly record struct SourceSpan(string Path, int Start, int Length, int Line, int Column, int EndLine, int EndColumn)
{
    public static SourceSpan Between(SourceSpan first, SourceSpan last)
        => new(first.Path, first.Start, Math.Max(0, last.Start + last.Length - first.Start), first.Line, first.Column, last.EndLine, last.EndColumn);

    public override string ToString() => $"{Path}({Line + 1},{Column + 1})";
}
