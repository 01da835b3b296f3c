using System.Collections.Generic;
using ExectOS.Descriptors.Model;

namespace ExectOS.Descriptors.Syntax;

/// <summary>Token kinds of the descriptor language.</summary>
internal enum TokenKind
{
    Name,
    Number,
    Punctuation,
    EndOfLine,
    EndOfFile,
    Invalid,
}

/// <summary>A token with its text, its value when it is a number, and its place.</summary>
internal readonly record struct Token(TokenKind Kind, string Text, ulong Value, SourceSpan Span)
{
    public bool Is(string text) => (Kind == TokenKind.Name || Kind == TokenKind.Punctuation) && Text == text;

    public string Describe() => Kind switch
    {
        TokenKind.EndOfLine => "end of line",
        TokenKind.EndOfFile => "end of file",
        _ => $"'{Text}'",
    };
}

/// <summary>Splits descriptor text into tokens; comments vanish, line ends and ';' become EndOfLine.</summary>
internal static class Lexer
{
    public static List<Token> Tokenize(string path, string text, List<DiagnosticInfo> diagnostics)
    {
        var tokens = new List<Token>();
        int line = 0, lineStart = 0, i = 0;

        Token Make(TokenKind kind, int start, int end, ulong value = 0)
            => new(kind, text.Substring(start, end - start), value,
                new SourceSpan(path, start, end - start, line, start - lineStart, line, end - lineStart));

        while (i < text.Length)
        {
            char c = text[i];
            // A line ends at LF, CRLF or a lone CR (as Roslyn counts lines, so positions agree).
            if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n')
            {
                i++;
            }
            else if (c == '\n' || c == '\r' || c == ';')
            {
                tokens.Add(Make(TokenKind.EndOfLine, i, i + 1));
                i++;
                if (c != ';')
                {
                    line++;
                    lineStart = i;
                }
            }
            else if (c == '#')
            {
                while (i < text.Length && text[i] != '\n' && text[i] != '\r')
                    i++;
            }
            else if (char.IsWhiteSpace(c))
            {
                i++;
            }
            else if (IsLetter(c) || c == '_')
            {
                int start = i;
                // '-' joins words (self-map) only when a letter follows; "pages-4096" is a subtraction.
                while (i < text.Length && (IsLetter(text[i]) || IsDigit(text[i]) || text[i] == '_' || (text[i] == '-' && i + 1 < text.Length && IsLetter(text[i + 1]))))
                    i++;
                tokens.Add(Make(TokenKind.Name, start, i));
            }
            else if (IsDigit(c))
            {
                int start = i;
                while (i < text.Length && (IsLetter(text[i]) || IsDigit(text[i]) || text[i] == '_'))
                    i++;
                Token token = Make(TokenKind.Number, start, i);
                if (TryParseNumber(token.Text, out ulong value))
                {
                    tokens.Add(token with { Value = value });
                }
                else
                {
                    diagnostics.Add(new DiagnosticInfo(DescriptorDiagnostics.BadNumber, $"'{token.Text}' is not a number (decimal, 0x hexadecimal, optionally with K, M, G or T)", token.Span));
                    tokens.Add(token with { Kind = TokenKind.Invalid });
                }
            }
            else if ("{}[]:=,.+-*/()".IndexOf(c) >= 0)
            {
                tokens.Add(Make(TokenKind.Punctuation, i, i + 1));
                i++;
            }
            else
            {
                Token token = Make(TokenKind.Invalid, i, i + 1);
                string what = c > 127 ? $"'{c}' (U+{(int)c:X4}): names and numbers are ASCII letters, digits and '_'" : $"'{c}'";
                diagnostics.Add(new DiagnosticInfo(DescriptorDiagnostics.Syntax, $"unexpected character {what}", token.Span));
                tokens.Add(token);
                i++;
            }
        }
        tokens.Add(Make(TokenKind.EndOfFile, text.Length, text.Length));
        return tokens;
    }

    // ASCII only: char.IsDigit takes any script's digits, which the number parser would misread.
    private static bool IsLetter(char c) => (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');

    private static bool IsDigit(char c) => c >= '0' && c <= '9';

    private static bool TryParseNumber(string text, out ulong value)
    {
        value = 0;
        int shift = 0;
        string digits = text.Replace("_", "");
        char last = char.ToUpperInvariant(digits[digits.Length - 1]);
        bool hex = digits.StartsWith("0x", System.StringComparison.OrdinalIgnoreCase);
        if (!hex && "KMGT".IndexOf(last) >= 0)
        {
            shift = 10 * ("KMGT".IndexOf(last) + 1);
            digits = digits.Substring(0, digits.Length - 1);
        }
        int numberBase = hex ? 16 : 10;
        if (hex)
            digits = digits.Substring(2);
        if (digits.Length == 0)
            return false;
        foreach (char d in digits)
        {
            int digit = IsDigit(d) ? d - '0' : hex && "abcdefABCDEF".IndexOf(d) >= 0 ? char.ToLowerInvariant(d) - 'a' + 10 : -1;
            if (digit < 0)
                return false;
            ulong next = value * (ulong)numberBase + (ulong)digit;
            if ((next - (ulong)digit) / (ulong)numberBase != value)
                return false;
            value = next;
        }
        if (shift > 0 && value > ulong.MaxValue >> shift)
            return false;
        value <<= shift;
        return true;
    }
}
