using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Xml.Linq;
using ExectOS.Tool.Cli;
using ExectOS.Tool.Report;
using Xunit;

namespace ExectOS.Tool.Tests;

/// <summary>
/// The boot report's parser and page on serial logs captured from real boots (Samples/boot-report: amd64 with 512 MiB
/// and 1 TiB, i686 with 128 MiB): the data records agree with the human lines, and the page is well-formed XHTML whose
/// SVG draws every range and region.
/// </summary>
public sealed class BootReportTests
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    private static string[] Sample(string name) => File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Samples", "boot-report", name + ".serial.txt"));

    private static BootData Parse(string name)
    {
        (BootData? data, string? error) = BootData.Parse(Sample(name));
        Assert.True(data is not null, error);
        return data!;
    }

    [Theory]
    [InlineData("amd64-512M", "amd64", "Amd64", "Amd64Kernel")]
    [InlineData("amd64-1T", "amd64", "Amd64", "Amd64Kernel")]
    [InlineData("i686-128M", "i686", "I686Pae", "I686PaeKernel")]
    public void TheDataRecordsAgreeWithTheHumanLines(string sample, string architecture, string mode, string layout)
    {
        string[] lines = Sample(sample);
        BootData data = Parse(sample);

        Assert.Equal((architecture, mode, layout, 4096UL), (data.Architecture, data.Mode, data.Layout, data.PageBytes));
        string map = Assert.Single(lines, l => l.StartsWith("XTOSKRNL: memory map: ", StringComparison.Ordinal));
        Assert.Equal(int.Parse(map.Split(' ')[3], CultureInfo.InvariantCulture), data.Ranges.Count);
        // Pages by type, as the human lines sum them.
        foreach (string line in lines.Where(l => l.StartsWith("XTOSKRNL:   Loader", StringComparison.Ordinal)))
        {
            string[] words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            ulong bytes = (ulong)data.Ranges.Where(r => r.Type == words[1]).Sum(r => (decimal)r.Bytes);
            Assert.Equal(ulong.Parse(words[2], CultureInfo.InvariantCulture) * 4096, bytes);
        }

        // Every layout line's region, with its start and size.
        var layoutLines = lines.Where(l => l.StartsWith("XTOSKRNL:   0x", StringComparison.Ordinal)).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToArray();
        Assert.Equal(layoutLines.Length, data.Regions.Count);
        foreach (string[] words in layoutLines)
        {
            LayoutRegion region = Assert.Single(data.Regions, r => r.Name == words[3]);
            Assert.Equal(Convert.ToUInt64(words[1], 16), region.Start);
            Assert.Equal(Convert.ToUInt64(words[2], 16), region.Last);
        }

        // The state counts are those of the "pages:" line (taken before the self-test, which gives back what it took).
        Assert.Equal(["free", "zeroed", "bad", "active", "reserved"], data.Pages.Where(p => p.Use is null).Select(p => p.State));
        string pages = Assert.Single(lines, l => l.StartsWith("XTOSKRNL: pages: ", StringComparison.Ordinal));
        ulong reserved = ulong.Parse(pages.Split(", ")[^1].Split(' ')[0], CultureInfo.InvariantCulture);
        Assert.Equal(reserved, data.Pages.Single(p => p.State == "reserved" && p.Use is null).Count);
        Assert.Equal(reserved, (ulong)data.Pages.Where(p => p.State == "reserved" && p.Use is not null).Sum(p => (decimal)p.Count));
        ulong active = data.Pages.Single(p => p.State == "active" && p.Use is null).Count;
        Assert.Equal(active, (ulong)data.Pages.Where(p => p.State == "active" && p.Use is not null).Sum(p => (decimal)p.Count));

        Assert.Equal(["non-paged", "paged"], data.Pools.Select(p => p.Pool));
        Assert.Contains(data.PoolTags, t => t.Tag == "PTst" && t.Pool == "paged" && t.Allocations == 360);
        Assert.Equal(["kernel", "double-fault", "NMI"], data.Stacks.Select(s => s.Kind));
    }

    [Theory]
    [InlineData("amd64-512M")]
    [InlineData("amd64-1T")]
    [InlineData("i686-128M")]
    public void ThePageIsWellFormedXhtmlWithEveryRangeAndRegionDrawn(string sample)
    {
        BootData data = Parse(sample);
        string page = BootReportPage.Render(data, Sample(sample), "exectos: PASS kernel reported success in 4.0 s");
        Assert.StartsWith("<!DOCTYPE html>\n", page, StringComparison.Ordinal);
        // Kept for a look in a browser: the pages of the three captured boots.
        string results = Path.Combine(RepositoryLayout.TryLocate()!.Root, "artifacts", "test-results");
        Directory.CreateDirectory(results);
        File.WriteAllText(Path.Combine(results, $"boot-report-{sample}.html"), page);
        XDocument document = XDocument.Parse(page);
        // An HTML parser takes a style element's text as is: an escaped character there would be CSS it cannot read.
        string style = page[page.IndexOf("<style>", StringComparison.Ordinal)..page.IndexOf("</style>", StringComparison.Ordinal)];
        Assert.DoesNotContain('&', style);

        XElement physical = document.Descendants(Svg + "svg").Single(e => (string?)e.Attribute("id") == "physical");
        var ranges = physical.Elements(Svg + "rect").Where(r => (string?)r.Attribute("class") == "range").ToArray();
        var pieces = physical.Elements(Svg + "rect").Where(r => (string?)r.Attribute("class") is "range" or "hole").ToArray();
        // Each run of one type is drawn at least 2 px wide, and the bar is filled exactly.
        Assert.All(ranges, r => Assert.True(Width(r) >= ReportCharts.MinRangeWidth - 0.01, (string?)r.Element(Svg + "title")));
        Assert.InRange(pieces.Sum(Width), BootReportPage.Width - 0.1, BootReportPage.Width + 0.1);
        Assert.Equal(data.Ranges.Select(r => r.Type).ToHashSet(), ranges.Select(r => (string)r.Attribute("data-type")!).ToHashSet());

        XElement layout = document.Descendants(Svg + "svg").Single(e => (string?)e.Attribute("id") == "layout");
        var texts = layout.Descendants(Svg + "text").Select(t => t.Value).ToHashSet();
        Assert.All(data.Regions, r => Assert.Contains(r.Name, texts));
        Assert.Single(document.Descendants(Svg + "svg"), e => (string?)e.Attribute("id") == "pfn-states");
        Assert.Contains(document.Descendants(), e => e.Value == "'PTst'");
    }

    [Fact]
    public void OneTebibyteStaysToScaleWhereItCanAndShowsTheLowFourGiBApart()
    {
        BootData data = Parse("amd64-1T");
        XDocument document = XDocument.Parse(BootReportPage.Render(data, Sample("amd64-1T"), "exectos: PASS"));

        XElement physical = document.Descendants(Svg + "svg").Single(e => (string?)e.Attribute("id") == "physical");
        // QEMU puts the RAM above 4 GiB at 1 TiB here (the HyperTransport hole): nearly all of the machine, and nearly all
        // of the bar; the hole below it, 1020 GiB, is cut to a few pixels with a break.
        XElement high = physical.Elements(Svg + "rect").Single(r => ((string?)r.Element(Svg + "title"))?.StartsWith("LoaderFree 0x10000000000-", StringComparison.Ordinal) == true);
        Assert.True(Width(high) > BootReportPage.Width * 0.65, $"{Width(high)} px");
        XElement hole = physical.Elements(Svg + "rect").Single(r => ((string?)r.Element(Svg + "title"))?.StartsWith("hole 0x100000000-0xFFFFFFFFFF ", StringComparison.Ordinal) == true);
        Assert.Equal(ReportCharts.MaxHoleWidth, Width(hole), 2);
        Assert.Contains(physical.Elements(Svg + "text"), t => t.Value == "hole 1020 GiB");
        XElement low = document.Descendants(Svg + "svg").Single(e => (string?)e.Attribute("id") == "physical-low");
        Assert.True(low.Elements(Svg + "rect").Count(r => (string?)r.Attribute("class") == "range") > 20);
    }

    [Theory]
    [InlineData("", "the kernel printed no XTOSKRNL-DATA v1 records")]
    [InlineData("XTOSKRNL-DATA v2 begin arch=amd64", "boot data is v2; this exectos reads v1")]
    [InlineData("XTOSKRNL-DATA v1 begin arch=amd64 mode=Amd64 levels=4 layout=L page-bytes=4096\nXTOSKRNL-DATA v1 region name=A start=0x1000 bytes=4096", "boot data has no end record after 2 records (the kernel stopped printing?)")]
    [InlineData("XTOSKRNL-DATA v1 begin arch=amd64 mode=Amd64 levels=4 layout=L page-bytes=4096\nXTOSKRNL-DATA v1 end records=3", "boot data ends with records=3 but 1 records came before it (lines lost on serial?)")]
    [InlineData("XTOSKRNL-DATA v1 begin arch=amd64\nXTOSKRNL-DATA v1 region name=A start=0xZZ bytes=1", "boot data record 'v1 region name=A start=0xZZ bytes=1': start=0xZZ is not a number")]
    [InlineData("XTOSKRNL-DATA v1 region name=A start=0x0 bytes=1", "boot data record 'v1 region name=A start=0x0 bytes=1' comes before the begin record")]
    public void DataThatIsMissingOrBrokenIsSaidExactly(string log, string error)
    {
        (BootData? data, string? message) = BootData.Parse(["XTOSKRNL: start-up checks passed", .. log.Split('\n')]);

        Assert.Null(data);
        Assert.Equal(error, message);
    }

    [Fact]
    public void TagsArePercentDecodedAndUnknownRecordsIgnored()
    {
        string[] log =
        [
            "XTOSKRNL-DATA v1 begin arch=amd64 mode=Amd64 levels=4 layout=L page-bytes=4096",
            "XTOSKRNL-DATA v1 pool-tag pool=paged tag=A%20b%25 allocations=1 frees=0 bytes-in-use=16",
            "XTOSKRNL-DATA v1 future-record x=1",
            "XTOSKRNL-DATA v1 end records=3",
        ];
        (BootData? data, _) = BootData.Parse(log);

        Assert.Equal("A b%", Assert.Single(data!.PoolTags).Tag);
    }

    [Fact]
    public void ScaleFitKeepsMinimumsCutsHolesAndFillsTheBar()
    {
        BarPiece[] pieces = [new(1UL << 40, 2, double.MaxValue), new(4096, 2, double.MaxValue), new(1UL << 39, 4, 36), new(1UL << 30, 2, double.MaxValue)];

        double[] widths = ScaleFit.Widths(pieces, 1000, out double scale);

        Assert.Equal(1000, widths.Sum(), 6);
        Assert.Equal(2, widths[1], 6);
        Assert.Equal(36, widths[2], 6);
        Assert.Equal((1UL << 40) * scale, widths[0], 3);
        Assert.Equal(2, widths[3], 6);
        // Minimums that do not fit are shrunk alike.
        Assert.Equal([50.0, 50.0], ScaleFit.Widths([new(1, 80, 100), new(1, 80, 100)], 100, out _));
    }

    [Fact]
    public void ReportOptionNeedsAnExistingFolder()
    {
        Assert.Equal("/tmp/x.html", CommandLine.Parse(["boot", "--report", "/tmp/x.html"]).Boot!.Report);
        Assert.Equal("--report: folder /nonexistent-exectos does not exist", CommandLine.Parse(["boot", "--report", "/nonexistent-exectos/x.html"]).Error);
        Assert.Equal("--report is an option of exectos boot, not of exectos debug", CommandLine.Parse(["debug", "--report", "/tmp/x.html"]).Error);
    }

    [Fact]
    public void ThePageIsWrittenWholeOverAnOldOne()
    {
        string folder = Directory.CreateTempSubdirectory("exectos-report-").FullName;
        try
        {
            string path = Path.Combine(folder, "boot.html");
            File.WriteAllText(path, "old");
            BootReportPage.WriteAtomically(path, "new page");
            Assert.Equal("new page", File.ReadAllText(path));
            Assert.Equal(["boot.html"], Directory.GetFiles(folder).Select(Path.GetFileName));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static double Width(XElement rect) => double.Parse((string)rect.Attribute("width")!, CultureInfo.InvariantCulture);
}
