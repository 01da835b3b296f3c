using System.Collections.Generic;
using System.Linq;
using ExectOS.Descriptors.Model;
using ExectOS.Descriptors.Syntax;
using D = ExectOS.Descriptors.Model.DescriptorDiagnostics;

namespace ExectOS.Descriptors.Binding;

/// <summary>
/// Parses a layout formula from a statement's tokens: + - * / with the usual precedence, parentheses,
/// numbers (with K/M/G/T), `pages`, earlier `let` names, min(a, b), max(a, b) and above(a, b).
/// </summary>
internal sealed class ExpressionParser
{
    private readonly List<Token> _tokens;
    private readonly ISet<string> _lets;
    private readonly List<DiagnosticInfo> _diagnostics;
    private readonly Token _end;
    private int _position;

    private ExpressionParser(List<Token> tokens, ISet<string> lets, List<DiagnosticInfo> diagnostics, Token end)
    {
        _tokens = tokens;
        _lets = lets;
        _diagnostics = diagnostics;
        _end = end;
    }

    /// <summary>Parses tokens[start..stop) as one formula; null (reported) when malformed.</summary>
    public static ExpressionModel? Parse(List<Token> tokens, int start, int stop, ISet<string> lets, List<DiagnosticInfo> diagnostics, Token end)
    {
        var parser = new ExpressionParser(tokens.Skip(start).Take(stop - start).ToList(), lets, diagnostics, end);
        ExpressionModel? expression = parser.Sum();
        if (expression is not null && parser._position < parser._tokens.Count)
            return parser.Fail($"expected an operator or the end of the formula, found {parser.Current.Describe()}");
        return expression;
    }

    private Token Current => _position < _tokens.Count ? _tokens[_position] : _end;

    private ExpressionModel? Sum()
    {
        ExpressionModel? left = Product();
        while (left is not null && (Current.Is("+") || Current.Is("-")))
        {
            ExpressionKind kind = _tokens[_position++].Is("+") ? ExpressionKind.Add : ExpressionKind.Subtract;
            ExpressionModel? right = Product();
            left = right is null ? null : Node(kind, left, right);
        }
        return left;
    }

    private ExpressionModel? Product()
    {
        ExpressionModel? left = Primary();
        while (left is not null && (Current.Is("*") || Current.Is("/")))
        {
            ExpressionKind kind = _tokens[_position++].Is("*") ? ExpressionKind.Multiply : ExpressionKind.Divide;
            ExpressionModel? right = Primary();
            left = right is null ? null : Node(kind, left, right);
        }
        return left;
    }

    private ExpressionModel? Primary()
    {
        Token token = Current;
        _position++;
        if (token.Kind == TokenKind.Number)
        {
            if (token.Value > long.MaxValue)
                return Fail($"{token.Text} is too large for a formula (at most 2^63 - 1)", token);
            // The literal's unit (K, M, G, T) or "0x" is kept so generated code reads like the descriptor.
            string unit = token.Text.StartsWith("0x", System.StringComparison.OrdinalIgnoreCase) ? "0x"
                : char.IsLetter(token.Text[token.Text.Length - 1]) ? char.ToUpperInvariant(token.Text[token.Text.Length - 1]).ToString() : "";
            return new ExpressionModel(ExpressionKind.Number, (long)token.Value, unit, EquatableArray<ExpressionModel>.Empty);
        }
        if (token.Is("("))
        {
            ExpressionModel? inner = Sum();
            return inner is not null && Expect(")") ? inner : null;
        }
        if (token.Kind == TokenKind.Name && (token.Text == "min" || token.Text == "max" || token.Text == "above"))
        {
            if (!Expect("("))
                return null;
            ExpressionModel? first = Sum();
            if (first is null || !Expect(","))
                return null;
            ExpressionModel? second = Sum();
            if (second is null || !Expect(")"))
                return null;
            return Node(token.Text == "min" ? ExpressionKind.Minimum : token.Text == "max" ? ExpressionKind.Maximum : ExpressionKind.Above, first, second);
        }
        if (token.Kind == TokenKind.Name && token.Text == "pages")
            return new ExpressionModel(ExpressionKind.Pages, 0, null, EquatableArray<ExpressionModel>.Empty);
        if (token.Kind == TokenKind.Name)
        {
            if (!_lets.Contains(token.Text))
            {
                _diagnostics.Add(new DiagnosticInfo(D.UnknownName, $"'{token.Text}' is not 'pages' or a 'let' declared above", token.Span));
                return null;
            }
            return new ExpressionModel(ExpressionKind.Let, 0, token.Text, EquatableArray<ExpressionModel>.Empty);
        }
        _position--;
        return Fail($"expected a number, 'pages', a name, min(...), max(...), above(...) or '(', found {token.Describe()}", token);
    }

    private bool Expect(string text)
    {
        if (Current.Is(text))
        {
            _position++;
            return true;
        }
        Fail($"expected '{text}', found {Current.Describe()}");
        return false;
    }

    private static ExpressionModel Node(ExpressionKind kind, ExpressionModel left, ExpressionModel right)
        => new(kind, 0, null, new[] { left, right }.ToEquatableArray());

    private ExpressionModel? Fail(string message, Token? at = null)
    {
        _diagnostics.Add(new DiagnosticInfo(D.Syntax, message, (at ?? Current).Span));
        return null;
    }
}
