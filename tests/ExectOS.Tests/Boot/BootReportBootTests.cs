using System;
using System.IO;
using System.Linq;
using System.Xml.Linq;
using ExectOS.Tests.Snapshots;
using Xunit;

namespace ExectOS.Tests.Boot;

/// <summary>One real boot with <c>--report</c>, shared by the tests that read its page.</summary>
public sealed class ReportedBoot : IDisposable
{
    public string Folder { get; } = Directory.CreateTempSubdirectory("exectos-report-").FullName;

    public string Page => Path.Combine(Folder, "boot.html");

    internal ExectosCommand.Result Result { get; }

    public ReportedBoot() => Result = ExectosCommand.Boot("--memory", "128M", "--report", Page);

    public void Dispose() => Directory.Delete(Folder, recursive: true);
}

/// <summary>
/// <c>./exectos boot --report</c> on real boots: the page parses as XML with the layout's regions in its SVG, Debian's
/// chromium renders it (the PNG is kept at artifacts/test-results/boot-report.png), i686 reports too, and a boot whose
/// kernel printed no data says so and keeps its verdict.
/// </summary>
[Collection("QEMU")]
[Trait("Category", "Boot")]
public sealed class BootReportBootTests(ReportedBoot boot) : IClassFixture<ReportedBoot>
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    private static readonly string[] Amd64Regions =
        ["PageTables", "Hyperspace", "SharedPage", "LoaderMappings", "SystemPtes", "PagedPool", "Session", "SystemCache", "PfnDatabase", "NonPagedPool", "NonPagedExpansion", "HardwarePool"];

    [Fact]
    public void TheReportOfARealBootIsWellFormedSvgWithTheLayoutsRegions()
    {
        Assert.True(boot.Result.ExitCode == 0, boot.Result.Output);
        Assert.Equal("exectos: PASS", string.Join(' ', boot.Result.LastLine.Split(' ').Take(2)));
        Assert.Contains($"exectos: report {boot.Page} (", boot.Result.Lines[^2]);
        AssertRegions(XDocument.Load(boot.Page), Amd64Regions);
    }

    [Fact]
    public void ChromiumRendersTheReportToAPng()
    {
        Assert.True(boot.Result.ExitCode == 0, boot.Result.Output);
        string? chromium = new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser" }.FirstOrDefault(File.Exists);
        Assert.True(chromium is not null, "chromium is not installed; ./exectos test installs it (Debian package chromium) when run as root");
        string results = Path.Combine(Snapshot.RepositoryRoot, "artifacts", "test-results");
        Directory.CreateDirectory(results);
        string png = Path.Combine(results, "boot-report.png");
        File.Delete(png);
        string profile = Directory.CreateTempSubdirectory("exectos-chromium-").FullName;
        try
        {
            var result = ExectosCommand.Capture(chromium!, [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--user-data-dir=" + profile, "--screenshot=" + png, "--window-size=1400,2000",
                new Uri(boot.Page).AbsoluteUri,
            ], TimeSpan.FromMinutes(2));
            File.WriteAllText(Path.Combine(results, "boot-report-chromium.log"), result.Output);
            Assert.True(File.Exists(png), $"chromium wrote no screenshot (exit {result.ExitCode}); its output is in {results}/boot-report-chromium.log");
        }
        finally
        {
            Directory.Delete(profile, recursive: true);
        }

        PngImage image = PngImage.Read(File.ReadAllBytes(png));
        Assert.Equal((1400, 2000), (image.Width, image.Height));
        (int colours, long notWhite) = image.Census();
        // Text, bars in a dozen colours and their anti-aliased edges: a blank or error page has a handful.
        Assert.True(colours > 64, $"{colours} colours");
        Assert.True(notWhite > image.Width * image.Height / 20, $"{notWhite} pixels not white");
    }

    [Fact]
    public void I686ReportsItsOwnLayout()
    {
        string page = Path.Combine(boot.Folder, "i686.html");
        var result = ExectosCommand.Boot("--arch", "i686", "--memory", "128M", "--report", page);

        Assert.True(result.ExitCode == 0, result.Output);
        AssertRegions(XDocument.Load(page), ["LoaderMappings", "PfnDatabase", "SystemWorkingSet", "PagedPool", "SystemPtes", "HardwarePool"]);
    }

    [Fact]
    public void ABootWithoutDataKeepsItsVerdictAndSaysWhyThereIsNoReport()
    {
        string page = Path.Combine(boot.Folder, "bugcheck.html");
        var result = ExectosCommand.Boot("--memory", "128M", "--params", "TEST=BUGCHECK", "--report", page);

        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("exectos: FAIL bug check 0x000000E2 MANUALLY_INITIATED_CRASH", result.LastLine, StringComparison.Ordinal);
        Assert.Equal("exectos: no report: the kernel printed no XTOSKRNL-DATA v1 records", result.Lines[^2]);
        Assert.False(File.Exists(page));
    }

    private static void AssertRegions(XDocument document, string[] regions)
    {
        Assert.Equal("html", document.Root!.Name.LocalName);
        XElement layout = document.Descendants(Svg + "svg").Single(e => (string?)e.Attribute("id") == "layout");
        var names = layout.Descendants(Svg + "text").Select(t => t.Value).ToHashSet();
        Assert.All(regions, r => Assert.Contains(r, names));
        XElement physical = document.Descendants(Svg + "svg").Single(e => (string?)e.Attribute("id") == "physical");
        Assert.Contains(physical.Elements(Svg + "rect"), r => (string?)r.Attribute("data-type") == "LoaderFree");
        Assert.Contains(physical.Elements(Svg + "rect"), r => (string?)r.Attribute("data-type") == "LoaderSystemCode");
    }
}
