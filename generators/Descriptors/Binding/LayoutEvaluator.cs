using System.Collections.Generic;
using System.Numerics;
using ExectOS.Descriptors.Model;

namespace ExectOS.Descriptors.Binding;

/// <summary>
/// Evaluates a layout for one page count exactly (big integers), with the same rules as the generated
/// Compute: lets in order, size clamped to min then max and rounded up to the alignment, starts placed.
/// Results must fit the generated code's 64-bit arithmetic, or the evaluation fails with a reason.
/// </summary>
internal static class LayoutEvaluator
{
    private static readonly BigInteger LongMax = long.MaxValue;
    private static readonly BigInteger Top = BigInteger.One << 64;

    public static Dictionary<string, (BigInteger Start, BigInteger End)>? Evaluate(LayoutModel layout, ulong pages, out string? failedRegion, out string? why)
    {
        failedRegion = null;
        why = null;
        var values = new Dictionary<string, BigInteger>();
        foreach (LetModel let in layout.Lets)
        {
            BigInteger? value = Value(let.Value, pages, values, out why);
            if (value is null || BigInteger.Abs(value.Value) > LongMax)
            {
                failedRegion = let.Name;
                why = $"'{let.Name}' {why ?? $"= {value} does not fit 64 bits"}";
                return null;
            }
            values[let.Name] = value.Value;
        }

        var placed = new Dictionary<string, (BigInteger Start, BigInteger End)>();
        foreach (RegionModel region in layout.Regions)
        {
            failedRegion = region.Name;
            // Stop at the first that fails: evaluating the next would overwrite the reason.
            BigInteger? size = Value(region.Size, pages, values, out why), minimum = null, maximum = null;
            if (size is null || (region.Minimum is not null && (minimum = Value(region.Minimum, pages, values, out why)) is null)
                || (region.Maximum is not null && (maximum = Value(region.Maximum, pages, values, out why)) is null))
                return null;
            BigInteger bytes = size.Value;
            if (minimum is not null && bytes < minimum.Value)
                bytes = minimum.Value;
            if (maximum is not null && bytes > maximum.Value)
                bytes = maximum.Value;
            if (bytes < 0 || bytes > LongMax)
            {
                why = $"region '{region.Name}' would be {bytes} bytes";
                return null;
            }
            bytes = AlignUp(bytes, region.Align);
            BigInteger start = region.Placement switch
            {
                Placement.At => region.Address,
                Placement.After => AlignUp(placed[region.After!].End, region.Align),
                _ => AlignDown(region.Address - bytes, region.Align),
            };
            placed[region.Name] = (start, start + bytes);
        }
        failedRegion = null;
        return placed;
    }

    private static BigInteger? Value(ExpressionModel e, ulong pages, Dictionary<string, BigInteger> lets, out string? why)
    {
        why = null;
        switch (e.Kind)
        {
            case ExpressionKind.Number:
                return e.Value;
            case ExpressionKind.Pages:
                return pages;
            case ExpressionKind.Let:
                return lets[e.Name!];
        }
        BigInteger? left = Value(e.Operands[0], pages, lets, out why);
        if (left is null)
            return null;
        BigInteger? right = Value(e.Operands[1], pages, lets, out why);
        if (right is null)
            return null;
        BigInteger result;
        switch (e.Kind)
        {
            case ExpressionKind.Add: result = left.Value + right.Value; break;
            case ExpressionKind.Subtract: result = left.Value - right.Value; break;
            case ExpressionKind.Multiply: result = left.Value * right.Value; break;
            case ExpressionKind.Minimum: result = BigInteger.Min(left.Value, right.Value); break;
            case ExpressionKind.Maximum: result = BigInteger.Max(left.Value, right.Value); break;
            case ExpressionKind.Above: result = left.Value > right.Value ? BigInteger.One : BigInteger.Zero; break;
            default:
                if (right.Value.IsZero)
                {
                    why = "divides by zero";
                    return null;
                }
                result = BigInteger.Divide(left.Value, right.Value); // truncates toward zero, as C# does
                break;
        }
        // Every intermediate value must fit the generated code's long arithmetic.
        if (BigInteger.Abs(result) > LongMax)
        {
            why = $"a formula step reaches {result}, beyond 64-bit arithmetic";
            return null;
        }
        return result;
    }

    internal static BigInteger AlignUp(BigInteger value, ulong align) => (value + align - 1) / align * align;

    internal static BigInteger AlignDown(BigInteger value, ulong align) => value >= 0 ? value / align * align : -AlignUp(-value, align);
}
