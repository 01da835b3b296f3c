using System.Collections.Generic;
using System.Text;
using ExectOS.Tool.Boot;
using Xunit;

namespace ExectOS.Tool.Tests;

public sealed class SerialLineReaderTests
{
    [Fact]
    public void SplitsOvmfOutputIntoCleanLines()
    {
        var reader = new SerialLineReader();
        IReadOnlyList<string> lines = reader.Feed(SerialSamples.Bytes(SerialSamples.FirmwareStart));

        Assert.Equal(
            [
                "BdsDxe: failed to load Boot0001 \"UEFI QEMU DVD-ROM QM00005 \" from PciRoot(0x0)/Pci(0x1F,0x2)/Sata(0x2,0xFFFF,0x0): Not Found",
                "BdsDxe: loading Boot0002 \"UEFI Misc Device\" from PciRoot(0x0)/Pci(0x2,0x0)",
                "BdsDxe: starting Boot0002 \"UEFI Misc Device\" from PciRoot(0x0)/Pci(0x2,0x0)",
            ],
            lines);
        Assert.Null(reader.Finish());
    }

    [Fact]
    public void KeepsEmptyLinesAndDropsStrayCarriageReturns()
    {
        var reader = new SerialLineReader();
        IReadOnlyList<string> lines = reader.Feed(Encoding.UTF8.GetBytes("a\r\n\r\n\nprogress 1\rprogress 2\r\n"));

        Assert.Equal(["a", "", "", "progress 1progress 2"], lines);
    }

    [Fact]
    public void JoinsLinesSplitAcrossReadsEvenInsideEscapesAndCharacters()
    {
        byte[] bytes = Encoding.UTF8.GetBytes(SerialSamples.Esc + "[01;01Hcaf\u00e9 \u2500\r\nnext");
        var reader = new SerialLineReader();
        var lines = new List<string>();
        foreach (byte b in bytes)
        {
            lines.AddRange(reader.Feed([b]));
        }

        Assert.Equal(["caf\u00e9 \u2500"], lines);
        Assert.Equal("next", reader.Finish());
        Assert.Null(reader.Finish());
    }

    [Fact]
    public void ShowsAnEndlessLineInPieces()
    {
        var reader = new SerialLineReader();
        IReadOnlyList<string> lines = reader.Feed(Encoding.ASCII.GetBytes(new string('x', SerialLineReader.MaxLineBytes + 10)));

        Assert.Single(lines);
        Assert.Equal(SerialLineReader.MaxLineBytes, lines[0].Length);
        Assert.Equal(new string('x', 10), reader.Finish());
    }
}
