using ExectOS.Tool.Boot;
using Xunit;

namespace ExectOS.Tool.Tests;

public sealed class AnsiStripperTests
{
    private const string Esc = SerialSamples.Esc;

    [Theory]
    [InlineData(Esc + "[2J" + Esc + "[01;01H" + Esc + "[=3hBdsDxe: loading", "BdsDxe: loading")]
    [InlineData(Esc + "[1m" + Esc + "[33m" + Esc + "[40mMapping table" + Esc + "[0m", "Mapping table")]
    [InlineData(Esc + "cafter reset", "after reset")]
    [InlineData(Esc + "7saved" + Esc + "8", "saved")]
    [InlineData(Esc + "(Bcharset", "charset")]
    [InlineData(Esc + "]0;window title\u0007text", "text")]
    [InlineData(Esc + "]2;title" + Esc + "\\text", "text")]
    [InlineData("\u009b31mred\u009b0m", "red")]
    [InlineData("dangling" + Esc, "dangling")]
    [InlineData("half" + Esc + "[12;3", "half")]
    [InlineData(Esc + "[?25l" + Esc + "[?25hcursor", "cursor")]
    public void RemovesEscapeSequences(string raw, string expected)
    {
        Assert.Equal(expected, AnsiStripper.Strip(raw));
    }

    [Theory]
    [InlineData("plain text, [brackets] and 0x1F")]
    [InlineData("\ttabs\tand unicode: \u00e9\u2500")]
    [InlineData("")]
    public void LeavesOtherTextAlone(string text)
    {
        Assert.Equal(text, AnsiStripper.Strip(text));
    }
}
