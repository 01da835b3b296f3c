using System.Globalization;

namespace ExectOS.Tool.Cli;

/// <summary>Guest memory as <c>--memory</c> spells it: a whole number of MiB, GiB or TiB (<c>512M</c>, <c>48G</c>, <c>1T</c>).</summary>
public static class MemorySize
{
    /// <summary>The largest size the parser takes (1 EiB); what a machine can address is judged afterwards.</summary>
    private const ulong Largest = 1UL << 60;

    /// <summary>The canonical spelling (upper-case unit, no leading zeros), or null when <paramref name="text"/> is not a size.</summary>
    public static string? Normalize(string text)
    {
        if (text.Length < 2 || UnitShift(char.ToUpperInvariant(text[^1])) is not int shift)
        {
            return null;
        }

        string digits = text[..^1];
        bool valid = CommandLine.IsDecimal(digits)
            && ulong.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out ulong amount)
            && amount > 0
            && amount <= Largest >> shift;
        return valid ? digits.TrimStart('0') + char.ToUpperInvariant(text[^1]) : null;
    }

    /// <summary>The size in bytes of a spelling <see cref="Normalize"/> accepted.</summary>
    public static ulong Bytes(string size) =>
        ulong.Parse(size[..^1], NumberStyles.None, CultureInfo.InvariantCulture) << UnitShift(size[^1])!.Value;

    private static int? UnitShift(char unit) => unit switch
    {
        'M' => 20,
        'G' => 30,
        'T' => 40,
        _ => null,
    };
}
