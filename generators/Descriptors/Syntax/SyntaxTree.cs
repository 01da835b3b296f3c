using System.Collections.Generic;

namespace ExectOS.Descriptors.Syntax;

/// <summary>A parsed descriptor file, before names are resolved.</summary>
internal sealed class FileSyntax
{
    public List<Token> Architectures { get; } = new();

    /// <summary>The file's first token (end of file when it has none): where a missing architecture line is reported.</summary>
    public Token First { get; set; }
    public List<FieldsSyntax> Fragments { get; } = new();
    public List<EntrySyntax> Entries { get; } = new();
    public List<ModeSyntax> Modes { get; } = new();
    public List<LayoutSyntax> Layouts { get; } = new();

    /// <summary>`feature NAME PROBE ARGUMENTS...`: a processor feature the architecture layer probes.</summary>
    public List<ModeItemSyntax> Features { get; } = new();

    /// <summary>`image NAME modes MODE...`: the modes an image of that architecture runs, preferred first.</summary>
    public List<ModeItemSyntax> Images { get; } = new();
}

/// <summary>`layout NAME for MODE { ... }`; its statements keep their raw tokens, parsed by the layout binder.</summary>
internal sealed record LayoutSyntax(Token Name, Token Mode, Token? Extends, List<ModeItemSyntax> Items);

/// <summary>A bit position as written: [High] or [High:Low].</summary>
internal sealed record PositionSyntax(Token High, Token? Low);

/// <summary>A member of an entry or fields block: a field, or `use` of a fields block.</summary>
internal abstract record EntryItemSyntax(Token Keyword);

/// <summary>`use NAME`.</summary>
internal sealed record UseSyntax(Token Keyword, Token Name) : EntryItemSyntax(Keyword);

/// <summary>A field: kind keyword, optional name, width or position, and the optional clauses.</summary>
internal sealed record FieldSyntax(
    Token Keyword,
    Token? Name,
    Token? Width,
    PositionSyntax? Position,
    Token? FixedValue,
    Token? Role,
    Token? Align,
    Token? RoleNot,
    List<(Token Name, Token Value)>? Members) : EntryItemSyntax(Keyword);

/// <summary>`fields NAME { ... }`.</summary>
internal sealed record FieldsSyntax(Token Name, List<EntryItemSyntax> Items);

/// <summary>`entry NAME bits W { ... }`.</summary>
internal sealed record EntrySyntax(Token Name, Token Width, List<EntryItemSyntax> Items);

/// <summary>A statement in a mode block; Arguments are the tokens after the keyword.</summary>
internal sealed record ModeItemSyntax(Token Keyword, List<Token> Arguments);

/// <summary>`mode NAME [extends BASE] { ... }`.</summary>
internal sealed record ModeSyntax(Token Name, Token? Extends, List<ModeItemSyntax> Items);
