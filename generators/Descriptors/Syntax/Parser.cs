using System.Collections.Generic;
using System.Linq;
using ExectOS.Descriptors.Model;

namespace ExectOS.Descriptors.Syntax;

/// <summary>
/// Recursive-descent parser. On an error it reports once, skips to the end of the statement and goes on,
/// so one typo gives one diagnostic and the rest of the file is still checked.
/// </summary>
internal sealed class Parser
{
    private static readonly HashSet<string> FieldKeywords = new() { "flag", "number", "enum", "frame", "reserved", "software" };

    private readonly List<Token> _tokens;
    private readonly List<DiagnosticInfo> _diagnostics;
    private int _position;

    private Parser(List<Token> tokens, List<DiagnosticInfo> diagnostics)
    {
        _tokens = tokens;
        _diagnostics = diagnostics;
    }

    public static FileSyntax Parse(List<Token> tokens, List<DiagnosticInfo> diagnostics)
        => new Parser(tokens, diagnostics).ParseFile();

    private Token Current => _tokens[_position];

    private Token Peek => _tokens[System.Math.Min(_position + 1, _tokens.Count - 1)];

    private Token Next() => _tokens[_position++ < _tokens.Count - 1 ? _position - 1 : _tokens.Count - 1];

    private FileSyntax ParseFile()
    {
        var file = new FileSyntax { First = _tokens.FirstOrDefault(t => t.Kind != TokenKind.EndOfLine) };
        while (Current.Kind != TokenKind.EndOfFile)
        {
            if (Current.Kind == TokenKind.EndOfLine)
            {
                Next();
                continue;
            }
            Token keyword = Next();
            bool ok = keyword.Text switch
            {
                "architecture" => Expect(TokenKind.Name, "an architecture name", out Token name) && Add(file.Architectures, name) && EndStatement(),
                "fields" => Expect(TokenKind.Name, "a fields block name", out Token fragment) && ParseItems(out var items) && Add(file.Fragments, new FieldsSyntax(fragment, items)),
                "entry" => ParseEntry(file),
                "mode" => ParseMode(file),
                "layout" => ParseLayout(file),
                "feature" => ParseLine(keyword, file.Features),
                "image" => ParseLine(keyword, file.Images),
                _ => Report(DescriptorDiagnostics.UnknownKeyword, $"'{keyword.Text}' is not a declaration; expected architecture, fields, entry, mode, layout, feature or image", keyword),
            };
            if (!ok)
                Recover();
        }
        return file;
    }

    private bool ParseEntry(FileSyntax file)
    {
        if (!Expect(TokenKind.Name, "an entry name", out Token name) || !ExpectWord("bits") || !Expect(TokenKind.Number, "the entry width in bits", out Token width))
            return false;
        if (!ParseItems(out var items))
            return false;
        file.Entries.Add(new EntrySyntax(name, width, items));
        return true;
    }

    private bool ParseItems(out List<EntryItemSyntax> items)
    {
        var parsed = new List<EntryItemSyntax>();
        items = parsed;
        return ParseBlock(keyword =>
        {
            EntryItemSyntax? item = keyword.Text == "use"
                ? (Expect(TokenKind.Name, "the name of a fields block", out Token used) && EndStatement() ? new UseSyntax(keyword, used) : null)
                : FieldKeywords.Contains(keyword.Text) ? ParseField(keyword)
                : ReportNull(DescriptorDiagnostics.UnknownKeyword, $"'{keyword.Text}' is not a field kind; expected flag, number, enum, frame, reserved, software or use", keyword);
            if (item is null)
                RecoverInBlock();
            else
                parsed.Add(item);
        }) && EndStatement();
    }

    /// <summary>Parses `{ statement* }`: blank lines skipped, each statement handed its first token.</summary>
    private bool ParseBlock(System.Action<Token> statement)
    {
        if (!ExpectOpenBlock())
            return false;
        while (!Current.Is("}"))
        {
            if (Current.Kind == TokenKind.EndOfFile)
                return Report(DescriptorDiagnostics.Syntax, "expected '}' before the end of the file", Current);
            if (Current.Kind == TokenKind.EndOfLine)
                Next();
            else
                statement(Next());
        }
        Next();
        return true;
    }

    private FieldSyntax? ParseField(Token keyword)
    {
        Token? name = null, width = null, fixedValue = null, role = null, align = null, roleNot = null;
        PositionSyntax? position = null;
        List<(Token, Token)>? members = null;
        if (keyword.Text != "reserved" && Current.Kind == TokenKind.Name)
            name = Next();
        if (Current.Kind == TokenKind.Number)
            width = Next();
        if (Current.Is("["))
        {
            Next();
            if (!Expect(TokenKind.Number, "a bit number", out Token high))
                return null;
            Token? low = null;
            if (Current.Is(":"))
            {
                Next();
                if (!Expect(TokenKind.Number, "the low bit number", out Token lowToken))
                    return null;
                low = lowToken;
            }
            if (!ExpectPunctuation("]"))
                return null;
            position = new PositionSyntax(high, low);
        }
        while (Current.Kind != TokenKind.EndOfLine && Current.Kind != TokenKind.EndOfFile && !Current.Is("}"))
        {
            Token clause = Next();
            Token? given = clause.Is("=") ? fixedValue : clause.Is("role") ? role : clause.Is("align") ? align : clause.Is("{") ? members?.FirstOrDefault().Item1 : null;
            if (given is Token earlier)
                return ReportNull(DescriptorDiagnostics.Repeated, $"{(name is null ? "this field" : $"field '{name.Value.Text}'")} already has {(clause.Is("{") ? "its members" : $"'{clause.Text} {earlier.Text}'")}; each clause is given once", clause);
            if (clause.Is("="))
            {
                // An enum may be fixed to one of its members by name (bound later against the members).
                if (keyword.Text == "enum" && Current.Kind == TokenKind.Name)
                    fixedValue = Next();
                else if (Expect(TokenKind.Number, "a fixed value", out Token value))
                    fixedValue = value;
                else
                    return null;
            }
            else if (clause.Is("role"))
            {
                // `role not R`: the bit set says the opposite of R (AArch64 AP[2] read-only, nG not global).
                if (Current.Is("not") && Peek.Kind == TokenKind.Name)
                    roleNot = Next();
                if (!Expect(TokenKind.Name, "a role", out Token roleName))
                    return null;
                role = roleName;
            }
            else if (clause.Is("align"))
            {
                if (!Expect(TokenKind.Number, "an alignment in bits", out Token alignment))
                    return null;
                align = alignment;
            }
            else if (clause.Is("{") && keyword.Text == "enum")
            {
                _position--;
                if (!ParseMembers(name, out members))
                    return null;
            }
            else
            {
                return ReportNull(DescriptorDiagnostics.Syntax, $"unexpected {clause.Describe()} in a field; expected '= value', 'role NAME', 'align BITS' or the end of the line", clause);
            }
        }
        if (Current.Kind != TokenKind.EndOfFile && !Current.Is("}"))
            Next();
        return new FieldSyntax(keyword, name, width, position, fixedValue, role, align, roleNot, members);
    }

    private bool ParseMembers(Token? enumName, out List<(Token, Token)> members)
    {
        members = new List<(Token, Token)>();
        Token open = Current;
        if (!ExpectPunctuation("{"))
            return false;
        while (true)
        {
            bool newLine = false;
            while (Current.Kind == TokenKind.EndOfLine || Current.Is(","))
                newLine |= Next().Kind == TokenKind.EndOfLine;
            if (Current.Is("}"))
            {
                Next();
                return true;
            }
            // Members may span lines; a line that starts otherwise than NAME = means the brace was never closed.
            bool member = Current.Kind == TokenKind.Name && Peek.Is("=");
            if (Current.Kind == TokenKind.EndOfFile || (newLine && !member))
                return Report(DescriptorDiagnostics.Syntax, $"the members of enum '{enumName?.Text}' that start here are not closed: expected '}}' after the last 'NAME = VALUE'", open);
            if (!Expect(TokenKind.Name, "an enum member name", out Token name) || !ExpectPunctuation("=") || !Expect(TokenKind.Number, "the member's value", out Token value))
                return false;
            members.Add((name, value));
        }
    }

    private bool ParseMode(FileSyntax file)
    {
        if (!Expect(TokenKind.Name, "a mode name", out Token name))
            return false;
        Token? extends = null;
        if (Current.Is("extends"))
        {
            Next();
            if (!Expect(TokenKind.Name, "the name of the mode extended", out Token baseName))
                return false;
            extends = baseName;
        }
        if (!ParseStatements(out List<ModeItemSyntax> items))
            return false;
        file.Modes.Add(new ModeSyntax(name, extends, items));
        return EndStatement();
    }

    private bool ParseLayout(FileSyntax file)
    {
        if (!Expect(TokenKind.Name, "a layout name", out Token name) || !ExpectWord("for") || !Expect(TokenKind.Name, "the mode the layout is for", out Token mode))
            return false;
        Token? extends = null;
        if (Current.Is("extends"))
        {
            Next();
            if (!Expect(TokenKind.Name, "the name of the layout extended", out Token baseName))
                return false;
            extends = baseName;
        }
        if (!ParseStatements(out List<ModeItemSyntax> items))
            return false;
        file.Layouts.Add(new LayoutSyntax(name, mode, extends, items));
        return EndStatement();
    }

    /// <summary>A one-line declaration (`feature ...`, `image ...`) kept as keyword + tokens, bound later.</summary>
    private bool ParseLine(Token keyword, List<ModeItemSyntax> list)
    {
        var arguments = new List<Token>();
        while (Current.Kind != TokenKind.EndOfLine && Current.Kind != TokenKind.EndOfFile)
        {
            if (Current.Is("{") || Current.Is("}"))
                return Report(DescriptorDiagnostics.Syntax, $"'{keyword.Text}' is one line; unexpected {Current.Describe()}", Current);
            arguments.Add(Next());
        }
        list.Add(new ModeItemSyntax(keyword, arguments));
        return true;
    }

    /// <summary>A block of statements kept as keyword + tokens to the end of the line.</summary>
    private bool ParseStatements(out List<ModeItemSyntax> items)
    {
        var parsed = new List<ModeItemSyntax>();
        items = parsed;
        return ParseBlock(keyword =>
        {
            var arguments = new List<Token>();
            while (Current.Kind != TokenKind.EndOfLine && Current.Kind != TokenKind.EndOfFile && !Current.Is("}"))
                arguments.Add(Next());
            parsed.Add(new ModeItemSyntax(keyword, arguments));
        });
    }

    private bool ExpectOpenBlock()
    {
        while (Current.Kind == TokenKind.EndOfLine)
            Next();
        return ExpectPunctuation("{");
    }

    private bool Expect(TokenKind kind, string what, out Token token)
    {
        token = Current;
        if (Current.Kind == kind)
        {
            Next();
            return true;
        }
        if (Current.Kind != TokenKind.Invalid)
            Report(DescriptorDiagnostics.Syntax, $"expected {what}, found {Current.Describe()}", Current);
        return false;
    }

    private bool ExpectWord(string word) => ExpectText(word, $"'{word}'");

    private bool ExpectPunctuation(string text) => ExpectText(text, $"'{text}'");

    private bool ExpectText(string text, string what)
    {
        if (Current.Is(text))
        {
            Next();
            return true;
        }
        return Report(DescriptorDiagnostics.Syntax, $"expected {what}, found {Current.Describe()}", Current);
    }

    private bool EndStatement()
    {
        if (Current.Kind == TokenKind.EndOfLine || Current.Kind == TokenKind.EndOfFile)
            return true;
        return Report(DescriptorDiagnostics.Syntax, $"expected the end of the line, found {Current.Describe()}", Current);
    }

    // Top level: skip to the next line that starts a declaration, stepping over a whole block if one opens.
    private void Recover()
    {
        int depth = 0;
        while (Current.Kind != TokenKind.EndOfFile)
        {
            Token token = Next();
            if (token.Is("{"))
                depth++;
            else if (token.Is("}") && --depth <= 0)
                return;
            else if (token.Kind == TokenKind.EndOfLine && depth == 0)
                return;
        }
    }

    // Inside a block: skip to the end of the statement but never past the block's closing brace.
    private void RecoverInBlock()
    {
        while (Current.Kind != TokenKind.EndOfFile && Current.Kind != TokenKind.EndOfLine && !Current.Is("}"))
            Next();
    }

    private static bool Add<T>(List<T> list, T item)
    {
        list.Add(item);
        return true;
    }

    private bool Report(string id, string message, Token at)
    {
        _diagnostics.Add(new DiagnosticInfo(id, message, at.Span));
        return false;
    }

    private T? ReportNull<T>(string id, string message, Token at) where T : class
    {
        Report(id, message, at);
        return null;
    }

    private FieldSyntax? ReportNull(string id, string message, Token at) => ReportNull<FieldSyntax>(id, message, at);
}
