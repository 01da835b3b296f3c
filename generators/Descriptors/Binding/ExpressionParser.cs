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
    /// <summary>Parentheses and calls inside each other; the parser recurses once per level.</summary>
    internal const int MaxNesting = 64;

    /// <summary>Operations chained in one formula (a sum of N terms is N - 1 deep); the evaluator and emitter recurse per level.</summary>
    internal const int MaxDepth = 256;

    private readonly List<Token> _tokens;
    private readonly ISet<string> _lets;
    private readonly List<DiagnosticInfo> _diagnostics;
    private readonly Token _end;
    private readonly string? _defining;
    private int _position;
    private int _nesting;

    private ExpressionParser(List<Token> tokens, ISet<string> lets, List<DiagnosticInfo> diagnostics, Token end, string? defining)
    {
        _defining = defining;
        _tokens = tokens;
        _lets = lets;
        _diagnostics = diagnostics;
        _end = end;
    }

    /// <summary>Parses tokens[start..stop) as one formula; null (reported) when malformed.</summary>
    /// <param name="defining">The let this formula defines, if any: it may not use itself.</param>
    public static ExpressionModel? Parse(List<Token> tokens, int start, int stop, ISet<string> lets, List<DiagnosticInfo> diagnostics, Token end, string? defining = null)
    {
        var parser = new ExpressionParser(tokens.Skip(start).Take(stop - start).ToList(), lets, diagnostics, end, defining);
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
            Token op = _tokens[_position++];
            ExpressionModel? right = Product();
            left = right is null ? null : Node(op.Is("+") ? ExpressionKind.Add : ExpressionKind.Subtract, left, right, op);
        }
        return left;
    }

    private ExpressionModel? Product()
    {
        ExpressionModel? left = Primary();
        while (left is not null && (Current.Is("*") || Current.Is("/")))
        {
            Token op = _tokens[_position++];
            ExpressionModel? right = Primary();
            left = right is null ? null : Node(op.Is("*") ? ExpressionKind.Multiply : ExpressionKind.Divide, left, right, op);
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
            if (!Enter(token))
                return null;
            ExpressionModel? inner = Sum();
            _nesting--;
            return inner is not null && Expect(")") ? inner : null;
        }
        if (token.Kind == TokenKind.Name && (token.Text == "min" || token.Text == "max" || token.Text == "above"))
        {
            if (!Expect("(") || !Enter(token))
                return null;
            ExpressionModel? first = Sum();
            ExpressionModel? second = first is not null && Expect(",") ? Sum() : null;
            _nesting--;
            if (second is null || !Expect(")"))
                return null;
            return Node(token.Text == "min" ? ExpressionKind.Minimum : token.Text == "max" ? ExpressionKind.Maximum : ExpressionKind.Above, first!, second, token);
        }
        if (token.Kind == TokenKind.Name && token.Text == "pages")
            return new ExpressionModel(ExpressionKind.Pages, 0, null, EquatableArray<ExpressionModel>.Empty);
        if (token.Kind == TokenKind.Name)
        {
            if (!_lets.Contains(token.Text))
            {
                _diagnostics.Add(new DiagnosticInfo(D.UnknownName, token.Text == _defining
                    ? $"let '{token.Text}' is used in its own formula; a formula uses 'pages' and the lets declared above it"
                    : $"'{token.Text}' is not 'pages' or a 'let' declared above", token.Span));
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

    private bool Enter(Token at)
    {
        if (++_nesting <= MaxNesting)
            return true;
        _diagnostics.Add(new DiagnosticInfo(D.TooDeep, $"this formula nests parentheses and calls more than {MaxNesting} deep; split it with 'let'", at.Span));
        return false;
    }

    private ExpressionModel? Node(ExpressionKind kind, ExpressionModel left, ExpressionModel right, Token at)
    {
        var node = new ExpressionModel(kind, 0, null, new[] { left, right }.ToEquatableArray());
        if (node.Depth <= MaxDepth)
            return node;
        _diagnostics.Add(new DiagnosticInfo(D.TooDeep, $"this formula chains more than {MaxDepth} operations; split it with 'let'", at.Span));
        return null;
    }

    private ExpressionModel? Fail(string message, Token? at = null)
    {
        _diagnostics.Add(new DiagnosticInfo(D.Syntax, message, (at ?? Current).Span));
        return null;
    }
}
