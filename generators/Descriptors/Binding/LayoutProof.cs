using System.Collections.Generic;
using System.Linq;
using System.Numerics;
using ExectOS.Descriptors.Model;
using ExectOS.Descriptors.Syntax;
using D = ExectOS.Descriptors.Model.DescriptorDiagnostics;

namespace ExectOS.Descriptors.Binding;

/// <summary>
/// Proves a layout for every page count of its range, not samples. The range is split in halves until, over a
/// piece, interval arithmetic shows every formula defined and within 64 bits, every region inside the address space
/// and every two regions apart; a piece of a few counts is evaluated count by count (LayoutEvaluator, exact). Where a
/// formula changes form (above, min, max, a division's step) the halving narrows in on that count, so an overlap or a
/// division by zero at a single page count is found, and reported with that count: left pieces first, so it is the
/// lowest such count. Sound: a piece is passed only when no count in it can fail.
/// </summary>
internal sealed class LayoutProof
{
    /// <summary>Pieces this small are checked count by count.</summary>
    private const ulong PointwiseBelow = 1;

    /// <summary>Pieces and single counts examined at most; a layout that needs more is refused (XD0045), never passed unproven.</summary>
    internal const int Budget = 20_000;

    /// <summary>Steps spent looking for more faults after the first is reported.</summary>
    private const int AfterFirstReport = 1_000;

    private static readonly BigInteger LongMax = long.MaxValue;
    private static readonly BigInteger Top = BigInteger.One << 64;

    private readonly LayoutModel _layout;
    private readonly ModeModel _mode;
    private readonly Dictionary<string, (Token Name, Token Size)> _tokens;
    private readonly List<DiagnosticInfo> _diagnostics;
    private readonly HashSet<string> _reported = new();
    private readonly HashSet<(string, string)> _ordered = new();
    private bool _valueFailed;
    private int _firstReport;

    public LayoutProof(LayoutModel layout, ModeModel mode, Dictionary<string, (Token Name, Token Size)> tokens, List<DiagnosticInfo> diagnostics)
    {
        _layout = layout;
        _mode = mode;
        _tokens = tokens;
        _diagnostics = diagnostics;
        // A region placed after another starts at or past its end (sizes are proven non-negative): the two, and
        // everything down such a chain, cannot overlap, whatever the intervals say.
        foreach (RegionModel region in layout.Regions)
        {
            for (string? before = region.After; before is not null; before = layout.Regions.First(r => r.Name == before).After)
                _ordered.Add((before, region.Name));
        }
    }

    /// <returns>The number of pieces and single counts examined.</returns>
    public int Run()
    {
        var pending = new Stack<(ulong Low, ulong High)>();
        pending.Push((_layout.MinimumPages, _layout.MaximumPages));
        int examined = 0;
        while (pending.Count > 0 && !_valueFailed)
        {
            (ulong low, ulong high) = pending.Pop();
            examined += high - low < PointwiseBelow ? (int)(high - low + 1) : 1;
            // Once a fault is reported the layout is refused: a little more search for other faults, not the whole budget.
            if (_reported.Count > 0 && _firstReport == 0)
                _firstReport = examined;
            if (_reported.Count > 0 && examined > _firstReport + AfterFirstReport)
                return examined;
            if (examined > Budget)
            {
                // A layout already refused for a fault the proof found needs no word about what it did not finish.
                if (_reported.Count == 0)
                    Report(D.ProofBudget, "", $"layout '{_layout.Name}' is proven for {_layout.MinimumPages} to {low - 1} pages, but not for {low} pages and up within {Budget} steps: its regions come too close to tell apart over a range of counts (chain them with 'after', or narrow 'pages')", _tokens[_layout.Regions[0].Name].Name);
                return examined;
            }
            if (high - low < PointwiseBelow)
            {
                for (ulong pages = low; pages <= high && !_valueFailed; pages++)
                    CheckPoint(pages);
                continue;
            }
            if (ProvenOver(low, high))
                continue;
            ulong middle = low + (high - low) / 2;
            pending.Push((middle + 1, high));
            pending.Push((low, middle));
        }
        return examined;
    }

    private void CheckPoint(ulong pages)
    {
        Dictionary<string, (BigInteger Start, BigInteger End)>? placed = LayoutEvaluator.Evaluate(_layout, pages, out string? failed, out string? why);
        if (placed is null)
        {
            Report(D.LayoutValue, failed!, $"layout '{_layout.Name}' with {pages} pages: {why}", _tokens[failed!].Size);
            _valueFailed = true;
            return;
        }
        foreach (RegionModel region in _layout.Regions)
        {
            (BigInteger start, BigInteger end) = placed[region.Name];
            if (!Inside(start, end, start, end))
                Report(D.RegionOutside, region.Name, $"region '{region.Name}' spans 0x{start:X}..0x{end:X} with {pages} pages, outside the {_mode.VirtualBits}-bit {(_mode.Canonical ? "canonical " : _mode.Split ? "split " : "")}address space of mode '{_mode.Name}'", _tokens[region.Name].Name);
        }
        var ordered = _layout.Regions.Where(r => placed[r.Name].End > placed[r.Name].Start).OrderBy(r => placed[r.Name].Start).ToList();
        for (int i = 1; i < ordered.Count; i++)
        {
            RegionModel before = ordered[i - 1], after = ordered[i];
            if (placed[after.Name].Start < placed[before.Name].End)
            {
                RegionModel later = before.Line > after.Line ? before : after, other = later == before ? after : before;
                Report(D.RegionsOverlap, later.Name, $"region '{later.Name}' (0x{placed[later.Name].Start:X}..0x{placed[later.Name].End:X}) overlaps region '{other.Name}' (0x{placed[other.Name].Start:X}..0x{placed[other.Name].End:X}) with {pages} pages", _tokens[later.Name].Name);
            }
        }
    }

    /// <summary>True when no page count in low..high can fail a check not yet reported.</summary>
    private bool ProvenOver(ulong low, ulong high)
    {
        var lets = new Dictionary<string, Range>();
        foreach (LetModel let in _layout.Lets)
        {
            if (Value(let.Value, low, high, lets) is not Range value)
                return false;
            lets[let.Name] = value;
        }
        var placed = new Dictionary<string, (Range Start, Range End, Range Bytes)>();
        foreach (RegionModel region in _layout.Regions)
        {
            Range? size = Value(region.Size, low, high, lets);
            Range? minimum = region.Minimum is null ? null : Value(region.Minimum, low, high, lets);
            Range? maximum = region.Maximum is null ? null : Value(region.Maximum, low, high, lets);
            if (size is not Range bytes || (region.Minimum is not null && minimum is null) || (region.Maximum is not null && maximum is null))
                return false;
            if (minimum is Range m)
                bytes = new Range(BigInteger.Max(bytes.Low, m.Low), BigInteger.Max(bytes.High, m.High));
            if (maximum is Range n)
                bytes = new Range(BigInteger.Min(bytes.Low, n.Low), BigInteger.Min(bytes.High, n.High));
            if (bytes.Low < 0 || bytes.High > LongMax)
                return false;
            bytes = new Range(AlignUp(bytes.Low, region.Align), AlignUp(bytes.High, region.Align));
            Range start, end;
            switch (region.Placement)
            {
                case Placement.At:
                    start = new Range(region.Address, region.Address);
                    end = new Range(start.Low + bytes.Low, start.High + bytes.High);
                    break;
                case Placement.After:
                    Range previous = placed[region.After!].End;
                    start = new Range(AlignUp(previous.Low, region.Align), AlignUp(previous.High, region.Align));
                    end = new Range(start.Low + bytes.Low, start.High + bytes.High);
                    break;
                default:
                    // AlignDown(address - bytes) + bytes lies in (address - align, address].
                    start = new Range(AlignDown(region.Address - bytes.High, region.Align), AlignDown(region.Address - bytes.Low, region.Align));
                    end = new Range(BigInteger.Max(start.Low + bytes.Low, region.Address - region.Align + 1), BigInteger.Min(start.High + bytes.High, region.Address));
                    break;
            }
            placed[region.Name] = (start, end, bytes);
        }
        foreach (RegionModel region in _layout.Regions)
        {
            var (start, end, _) = placed[region.Name];
            if (!_reported.Contains(D.RegionOutside + region.Name) && !Inside(start.Low, start.High, end.Low, end.High))
                return false;
        }
        for (int i = 0; i < _layout.Regions.Count; i++)
        {
            for (int j = i + 1; j < _layout.Regions.Count; j++)
            {
                RegionModel a = _layout.Regions[i], b = _layout.Regions[j];
                RegionModel later = a.Line > b.Line ? a : b;
                if (_reported.Contains(D.RegionsOverlap + later.Name) || _ordered.Contains((a.Name, b.Name)) || _ordered.Contains((b.Name, a.Name)))
                    continue;
                var (aStart, aEnd, aBytes) = placed[a.Name];
                var (bStart, bEnd, bBytes) = placed[b.Name];
                bool apart = aBytes.High.IsZero || bBytes.High.IsZero || aEnd.High <= bStart.Low || bEnd.High <= aStart.Low;
                if (!apart)
                    return false;
            }
        }
        return true;
    }

    /// <summary>Whether every region from a start in startLow..startHigh to an end in endLow..endHigh lies in the mode's address space.</summary>
    private bool Inside(BigInteger startLow, BigInteger startHigh, BigInteger endLow, BigInteger endHigh)
    {
        if (startLow < 0 || endHigh > Top)
            return false;
        if (_mode.Split)
        {
            // Two halves of 2^VirtualBits bytes, one from 0 and one up to 2^64: a region lies within one of them.
            BigInteger size = BigInteger.One << _mode.VirtualBits;
            return endHigh <= size || startLow >= Top - size;
        }
        if (!_mode.Canonical)
            return endHigh <= BigInteger.One << _mode.VirtualBits;
        BigInteger half = BigInteger.One << (_mode.VirtualBits - 1);
        return endHigh <= half || startLow >= Top - half;
    }

    /// <summary>The values a formula takes for every page count in low..high (a superset), or null when one may be undefined or beyond 64 bits.</summary>
    private static Range? Value(ExpressionModel e, ulong low, ulong high, Dictionary<string, Range> lets)
    {
        switch (e.Kind)
        {
            case ExpressionKind.Number:
                return new Range(e.Value, e.Value);
            case ExpressionKind.Pages:
                return new Range(low, high);
            case ExpressionKind.Let:
                return lets[e.Name!];
        }
        if (Value(e.Operands[0], low, high, lets) is not Range a || Value(e.Operands[1], low, high, lets) is not Range b)
            return null;
        Range result;
        switch (e.Kind)
        {
            case ExpressionKind.Add: result = new Range(a.Low + b.Low, a.High + b.High); break;
            case ExpressionKind.Subtract: result = new Range(a.Low - b.High, a.High - b.Low); break;
            case ExpressionKind.Multiply: result = Corners(a, b, (x, y) => x * y); break;
            case ExpressionKind.Minimum: result = new Range(BigInteger.Min(a.Low, b.Low), BigInteger.Min(a.High, b.High)); break;
            case ExpressionKind.Maximum: result = new Range(BigInteger.Max(a.Low, b.Low), BigInteger.Max(a.High, b.High)); break;
            case ExpressionKind.Above:
                result = a.Low > b.High ? new Range(1, 1) : a.High <= b.Low ? new Range(0, 0) : new Range(0, 1);
                break;
            default:
                if (b.Low <= 0 && b.High >= 0)
                    return null;
                // Truncating division is monotone in each operand while the divisor keeps its sign: the extremes are corners.
                result = Corners(a, b, BigInteger.Divide);
                break;
        }
        return BigInteger.Abs(result.Low) > LongMax || BigInteger.Abs(result.High) > LongMax ? null : result;
    }

    private static Range Corners(Range a, Range b, System.Func<BigInteger, BigInteger, BigInteger> f)
    {
        BigInteger w = f(a.Low, b.Low), x = f(a.Low, b.High), y = f(a.High, b.Low), z = f(a.High, b.High);
        return new Range(BigInteger.Min(BigInteger.Min(w, x), BigInteger.Min(y, z)), BigInteger.Max(BigInteger.Max(w, x), BigInteger.Max(y, z)));
    }

    private static BigInteger AlignUp(BigInteger value, ulong align) => LayoutEvaluator.AlignUp(value, align);

    private static BigInteger AlignDown(BigInteger value, ulong align) => LayoutEvaluator.AlignDown(value, align);

    private void Report(string id, string key, string message, Token at)
    {
        if (_reported.Add(id + key))
            _diagnostics.Add(new DiagnosticInfo(id, message, at.Span));
    }

    private readonly struct Range
    {
        public Range(BigInteger low, BigInteger high)
        {
            Low = low;
            High = high;
        }

        public BigInteger Low { get; }
        public BigInteger High { get; }
    }
}
