using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Xml.Linq;
using static ExectOS.Tool.Report.Markup;

namespace ExectOS.Tool.Report;

/// <summary>
/// <c>exectos boot --report FILE</c>: one self-contained page (XHTML with inline SVG and CSS, nothing fetched)
/// from the kernel's <see cref="BootData"/>: physical memory by loader type, the virtual layout, PFN states,
/// pools by tag and stacks, and the serial log. Well-formed XML, so tests read it with an XML parser.
/// </summary>
public static class BootReportPage
{
    public const double Width = 1320;

    private const ulong FourGiB = 1UL << 32;

    /// <summary>Written as XML text: it must hold no '&lt;', '&gt;' or '&amp;', which an HTML parser would not unescape in a style element.</summary>
    private const string Style = """
        body { font: 14px/1.4 sans-serif; margin: 24px 40px; color: #212121; background: #ffffff; }
        h1 { font-size: 24px; margin: 0 0 4px 0; } h2 { font-size: 18px; margin: 28px 0 8px 0; border-bottom: 1px solid #bdbdbd; }
        .meta { color: #616161; } .pass { color: #2e7d32; font-weight: bold; } .fail { color: #c62828; font-weight: bold; }
        table { border-collapse: collapse; margin: 6px 0; } th, td { padding: 2px 10px; border-bottom: 1px solid #eeeeee; text-align: left; }
        td.n { text-align: right; font-variant-numeric: tabular-nums; } code, pre { font-family: monospace; font-size: 12px; }
        .legend .item { white-space: nowrap; } .legend span.swatch { display: inline-block; width: 12px; height: 12px; margin: 0 4px 0 14px; vertical-align: middle; border: 1px solid #757575; }
        svg text { font-family: sans-serif; } svg .small { font-size: 11px; fill: #424242; } svg .label { font-size: 12px; } svg .detail { font-size: 12px; font-family: monospace; fill: #424242; }
        """;

    private static readonly (string State, string Color)[] StateColors =
    [
        ("free", "#4caf50"), ("zeroed", "#a5d6a7"), ("bad", "#000000"), ("active", "#ff9800"), ("reserved", "#3f51b5"),
    ];

    /// <summary>The page as text. <paramref name="serial"/> is the boot's serial log, shown folded at the end.</summary>
    public static string Render(BootData data, IReadOnlyList<string> serial, string verdict)
    {
        var body = H("body",
            H("h1", "ExectOS boot report"),
            H("p", A("class", "meta"), $"{data.Architecture}, paging {data.Mode} ({data.Levels} levels), layout {data.Layout}, {Size(data.PageBytes)} pages. ",
                serial.FirstOrDefault(l => l.StartsWith("XTOSKRNL: ExectOS kernel", StringComparison.Ordinal)) ?? ""),
            H("p", A("class", verdict.Contains(" PASS ", StringComparison.Ordinal) || verdict.StartsWith("exectos: PASS", StringComparison.Ordinal) ? "pass" : "fail"), verdict));
        body.Add(PhysicalSection(data));
        body.Add(LayoutSection(data));
        body.Add(PagesSection(data));
        body.Add(PoolSection(data));
        body.Add(StackSection(data));
        body.Add(H("h2", "Serial log"),
            H("details", H("summary", $"{serial.Count} lines (the data records are the lines starting {BootData.Marker}{BootData.Version})"), H("pre", string.Join('\n', serial))));

        var html = new XElement(Xhtml + "html", new XAttribute("lang", "en"),
            H("head", new XElement(Xhtml + "meta", new XAttribute("charset", "utf-8")), H("title", $"ExectOS boot report: {data.Architecture} {data.Mode}"), H("style", Style)),
            body);
        return "<!DOCTYPE html>\n" + html.ToString(SaveOptions.None) + "\n";
    }

    /// <summary>Writes the page through a temporary file in the same folder, so a reader never sees half of it.</summary>
    public static void WriteAtomically(string path, string page)
    {
        string full = Path.GetFullPath(path);
        string temporary = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Environment.ProcessId}.tmp");
        try
        {
            File.WriteAllText(temporary, page, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
            File.Move(temporary, full, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    private static IEnumerable<XElement> PhysicalSection(BootData data)
    {
        ulong top = data.Ranges.Count == 0 ? 0 : data.Ranges.Max(r => r.End);
        ulong described = (ulong)data.Ranges.Sum(r => (decimal)r.Bytes);
        yield return H("h2", "Physical memory by loader memory type");
        yield return H("p", $"{data.Ranges.Count} descriptors, {Size(described)} described, highest address {Hex(top == 0 ? 0 : top - 1)}. " +
            $"To scale, except that a run narrower than {ReportCharts.MinRangeWidth} px is drawn {ReportCharts.MinRangeWidth} px wide and a hole wider than " +
            $"{ReportCharts.MaxHoleWidth} px is cut to that width and marked with a break (its size above it). Hover a run for its addresses.");
        yield return ReportCharts.PhysicalBar(data.Ranges, 0, top, Width, "physical");
        if (top > FourGiB)
        {
            yield return H("p", "The first 4 GiB, where the firmware's small ranges are, at its own scale:");
            yield return ReportCharts.PhysicalBar(data.Ranges, 0, FourGiB, Width, "physical-low");
        }

        var byType = data.Ranges.GroupBy(r => r.Type).OrderByDescending(g => g.Sum(r => (decimal)r.Bytes)).ToArray();
        yield return H("p", A("class", "legend"), byType.Select(g =>
            (object)H("span", A("class", "item"), H("span", A("class", "swatch"), A("style", "background:" + ReportCharts.TypeColor(g.Key))), $"{g.Key} {Size((ulong)g.Sum(r => (decimal)r.Bytes))}")));
        yield return Table(
            ["type", "descriptors", "pages (4 KiB)", "size"],
            byType.Select(g => Row(g.Key, g.Count(), (ulong)g.Sum(r => (decimal)r.Bytes) / BootData.FirmwarePageBytes, Size((ulong)g.Sum(r => (decimal)r.Bytes)))).ToArray());
    }

    private static IEnumerable<XElement> LayoutSection(BootData data)
    {
        yield return H("h2", $"Virtual layout {data.Layout}");
        yield return H("p", "Each region of the kernel's layout in address order; the bar's length is the region's size on a log scale.");
        yield return ReportCharts.LogBars(
            data.Regions.OrderBy(r => r.Start).Select(r => new LogBar(r.Name, r.Bytes, $"{Hex(r.Start)}-{Hex(r.Last)} {Size(r.Bytes)}", "#5c6bc0")).ToArray(),
            12, Size, Width, "layout");
    }

    private static IEnumerable<XElement> PagesSection(BootData data)
    {
        var states = data.Pages.Where(p => p.Use is null).ToArray();
        ulong total = states.Aggregate(0UL, (sum, p) => sum + p.Count);
        yield return H("h2", "Page frames by PFN state");
        yield return H("p", $"{Count(total)} described frames of {Size(data.PageBytes)} at the end of the boot; each state's part of the bar to scale (at least 3 px).");
        yield return ReportCharts.StackedBar(states.Select(p => (p.State, p.Count, StateColor(p.State))).ToArray(), Width, "pfn-states");
        yield return H("p", A("class", "legend"), states.Select(p =>
            (object)H("span", A("class", "item"), H("span", A("class", "swatch"), A("style", "background:" + StateColor(p.State))), $"{p.State} {Count(p.Count)}")));
        var uses = data.Pages.Where(p => p.Use is not null).OrderBy(p => p.State, StringComparer.Ordinal).ThenByDescending(p => p.Count).ToArray();
        yield return H("p", "Active and reserved frames by use (log scale):");
        yield return ReportCharts.LogBars(
            uses.Select(p => new LogBar($"{p.State} {p.Use}", p.Count, $"{Count(p.Count)} frames, {Size(p.Count * data.PageBytes)}", StateColor(p.State))).ToArray(),
            0, v => Count(v), Width, "pfn-uses");
    }

    private static IEnumerable<XElement> PoolSection(BootData data)
    {
        yield return H("h2", "Pools");
        yield return Table(
            ["pool", "committed pages", "bytes in use", "allocations", "frees", "big allocations"],
            data.Pools.Select(p => Row(p.Pool, p.CommittedPages, p.BytesInUse, p.Allocations, p.Frees, p.BigAllocations)).ToArray());
        yield return H("p", "By tag (every tag with activity since boot):");
        yield return Table(
            ["pool", "tag", "allocations", "frees", "live", "bytes in use"],
            data.PoolTags.Select(t => Row(t.Pool, H("td", H("code", $"'{t.Tag}'")), t.Allocations, t.Frees, t.Allocations - t.Frees, t.BytesInUse)).ToArray());
    }

    private static IEnumerable<XElement> StackSection(BootData data)
    {
        yield return H("h2", "Kernel stacks");
        yield return Table(
            ["kind", "live", "committed pages", "reserved pages", "cached", "deepest use"],
            data.Stacks.Select(s => Row(s.Kind, s.Live, s.Committed, s.Reserved, s.Cached, Size(s.DeepestBytes))).ToArray());
    }

    private static string StateColor(string state)
        => Array.Find(StateColors, s => s.State == state).Color ?? "#9e9e9e";
}
