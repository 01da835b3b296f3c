using System;
using System.Collections.Generic;
using System.Linq;
using System.Xml.Linq;
using static ExectOS.Tool.Report.Markup;

namespace ExectOS.Tool.Report;

/// <summary>One bar of a log-scale chart.</summary>
public sealed record LogBar(string Label, ulong Value, string Detail, string Color);

/// <summary>The report's inline SVG charts.</summary>
public static class ReportCharts
{
    /// <summary>Narrowest a memory range is drawn, so that a page among terabytes still shows.</summary>
    public const double MinRangeWidth = 2;

    public const double MinHoleWidth = 4;

    /// <summary>Widest a hole is drawn; a wider one would be to scale, so it is cut and marked with a break.</summary>
    public const double MaxHoleWidth = 64;

    private const double BarTop = 22, BarHeight = 40;

    private static readonly Dictionary<string, string> TypeColors = new(StringComparer.Ordinal)
    {
        ["LoaderFree"] = "#4caf50",
        ["LoaderFirmwareTemporary"] = "#81d4fa",
        ["LoaderFirmwarePermanent"] = "#3f51b5",
        ["LoaderSpecialMemory"] = "#9c27b0",
        ["LoaderSystemCode"] = "#ff9800",
        ["LoaderStartupKernelStack"] = "#f44336",
        ["LoaderMemoryData"] = "#ffeb3b",
        ["LoaderSystemBlock"] = "#e91e63",
        ["LoaderBad"] = "#000000",
    };

    public static string TypeColor(string type) => TypeColors.TryGetValue(type, out string? color) ? color : "#9e9e9e";

    /// <summary>
    /// Physical memory from <paramref name="from"/> to <paramref name="to"/> as one bar: each run of one type to
    /// scale (at least <see cref="MinRangeWidth"/> px), holes hatched (cut with a break beyond <see cref="MaxHoleWidth"/> px).
    /// </summary>
    public static XElement PhysicalBar(IReadOnlyList<PhysicalRange> ranges, ulong from, ulong to, double width, string id)
    {
        List<(PhysicalRange? Range, ulong Base, ulong End, int Descriptors)> pieces = PhysicalPieces(ranges, from, to);
        double[] widths = ScaleFit.Widths(
            pieces.Select(p => p.Range is null
                ? new BarPiece(p.End - p.Base, MinHoleWidth, MaxHoleWidth)
                : new BarPiece(p.End - p.Base, MinRangeWidth, double.MaxValue)).ToArray(),
            width,
            out double pixelsPerByte);

        var svg = S("svg", A("id", id), A("width", width + 2), A("height", BarTop + BarHeight + 30), A("role", "img"),
            S("defs", S("pattern", A("id", id + "-hatch"), A("width", 6), A("height", 6), A("patternUnits", "userSpaceOnUse"),
                S("rect", A("width", 6), A("height", 6), A("fill", "#eeeeee")),
                S("path", A("d", "M0,6 L6,0"), A("stroke", "#9e9e9e"), A("stroke-width", 1)))));
        double x = 1, lastHoleLabel = double.MinValue;
        var ticks = new List<(double X, ulong Address, ulong Weight)>();
        ulong segment = 0;
        int segmentTick = -1;
        for (int i = 0; i < pieces.Count; i++)
        {
            var (range, start, end, descriptors) = pieces[i];
            double w = widths[i];
            string span = $"{Hex(start)}-{Hex(end - 1)} ({Size(end - start)})";
            if (range is null)
            {
                bool cut = (end - start) * pixelsPerByte > w + 0.5;
                svg.Add(S("rect", A("class", "hole"), A("x", x), A("y", BarTop), A("width", w), A("height", BarHeight), A("fill", $"url(#{id}-hatch)"),
                    S("title", "hole " + span + (cut ? ", not to scale" : ""))));
                if (cut)
                {
                    double middle = x + w / 2;
                    svg.Add(S("path", A("d", $"M{Px(middle - 5)},{Px(BarTop + BarHeight + 4)} L{Px(middle - 1)},{Px(BarTop - 4)} M{Px(middle + 1)},{Px(BarTop + BarHeight + 4)} L{Px(middle + 5)},{Px(BarTop - 4)}"),
                        A("stroke", "#424242"), A("stroke-width", 1.5), A("fill", "none")));
                    if (middle - lastHoleLabel > 90)
                    {
                        svg.Add(S("text", A("x", Math.Min(middle, width - 40)), A("y", BarTop - 8), A("text-anchor", "middle"), A("class", "small"), "hole " + Size(end - start)));
                        lastHoleLabel = middle;
                    }
                }
            }
            else
            {
                svg.Add(S("rect", A("class", "range"), A("data-type", range.Type), A("x", x), A("y", BarTop), A("width", w), A("height", BarHeight), A("fill", TypeColor(range.Type)),
                    S("title", $"{range.Type} {span}" + (descriptors > 1 ? $", {descriptors} descriptors" : ""))));
            }

            // Where memory starts again after a hole and where it stops before one: what a reader looks for on the axis.
            // A run's start and end (a hole's start) weigh what the run of memory holds; round addresses inside wide
            // pieces weigh least, and are placed where room is left.
            if (range is null)
            {
                EndSegment();
                ticks.Add((x, start, segment));
                segment = 0;
            }
            else if (i == 0 || pieces[i - 1].Range is null)
            {
                segmentTick = ticks.Count;
                ticks.Add((x, start, i == 0 ? ulong.MaxValue : 0));
            }

            segment += range is null ? 0 : end - start;
            if (range is not null && w >= 150)
            {
                ulong step = 1UL << (int)Math.Ceiling(Math.Log2((end - start) / (w / 150)));
                for (ulong address = (start / step + 1) * step; address < end && address > start; address += step)
                {
                    ticks.Add((x + (address - start) * (w / (end - start)), address, 1));
                }
            }

            x += w;
        }

        EndSegment();
        ticks.Add((x, pieces.Count == 0 ? to : pieces[^1].End, ulong.MaxValue));
        // The first and last address always; then the boundaries of the largest runs of memory, as many as fit.
        var placed = new List<double>();
        foreach (var tick in ticks.OrderByDescending(t => t.Weight).ThenBy(t => t.X))
        {
            if (placed.TrueForAll(p => Math.Abs(p - tick.X) >= 60) || tick.Weight == ulong.MaxValue)
            {
                AddTick(svg, tick.X, tick.Address, width);
                placed.Add(tick.X);
            }
        }

        return svg;

        void EndSegment()
        {
            if (segmentTick >= 0 && ticks[segmentTick].Weight != ulong.MaxValue)
            {
                ticks[segmentTick] = ticks[segmentTick] with { Weight = segment };
            }

            segmentTick = -1;
        }
    }

    private static void AddTick(XElement svg, double x, ulong address, double width)
    {
        string anchor = x < 30 ? "start" : x > width - 30 ? "end" : "middle";
        svg.Add(S("line", A("x1", x), A("x2", x), A("y1", BarTop + BarHeight), A("y2", BarTop + BarHeight + 6), A("stroke", "#424242")));
        svg.Add(S("text", A("x", x), A("y", BarTop + BarHeight + 20), A("text-anchor", anchor), A("class", "small"), AxisText(address)));
    }

    /// <summary>An address in the largest unit that divides it exactly (2046 GiB, not a rounded 2 TiB), or about so many when that takes over four digits.</summary>
    private static string AxisText(ulong address)
    {
        if (address == 0)
        {
            return "0";
        }

        string[] units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
        int unit = 0;
        ulong value = address;
        while (unit < units.Length - 1 && value % 1024 == 0)
        {
            value /= 1024;
            unit++;
        }

        return value < 10000 ? $"{value} {units[unit]}" : "~" + Size(address);
    }

    /// <summary>Runs of one type (contiguous descriptors merged) and the holes between them, clipped to the window.</summary>
    private static List<(PhysicalRange? Range, ulong Base, ulong End, int Descriptors)> PhysicalPieces(IReadOnlyList<PhysicalRange> ranges, ulong from, ulong to)
    {
        var pieces = new List<(PhysicalRange? Range, ulong Base, ulong End, int Descriptors)>();
        ulong cursor = from;
        foreach (PhysicalRange range in ranges.OrderBy(r => r.Base))
        {
            ulong start = Math.Max(range.Base, from), end = Math.Min(range.End, to);
            if (start >= end)
            {
                continue;
            }

            if (start > cursor)
            {
                pieces.Add((null, cursor, start, 0));
            }

            if (pieces.Count > 0 && pieces[^1].Range?.Type == range.Type && pieces[^1].End == start)
            {
                pieces[^1] = (pieces[^1].Range, pieces[^1].Base, end, pieces[^1].Descriptors + 1);
            }
            else
            {
                pieces.Add((range, start, end, 1));
            }

            cursor = end;
        }

        if (to != ulong.MaxValue && cursor < to && pieces.Count > 0)
        {
            pieces.Add((null, cursor, to, 0));
        }

        return pieces;
    }

    /// <summary>A stacked bar of counts (PFN states), each nonzero part at least 3 px.</summary>
    public static XElement StackedBar(IReadOnlyList<(string Label, ulong Value, string Color)> parts, double width, string id)
    {
        var shown = parts.Where(p => p.Value != 0).ToArray();
        double[] widths = ScaleFit.Widths(shown.Select(p => new BarPiece(p.Value, 3, double.MaxValue)).ToArray(), width, out _);
        var svg = S("svg", A("id", id), A("width", width + 2), A("height", 34), A("role", "img"));
        double x = 1;
        for (int i = 0; i < shown.Length; i++)
        {
            svg.Add(S("rect", A("x", x), A("y", 1), A("width", widths[i]), A("height", 32), A("fill", shown[i].Color), S("title", $"{shown[i].Label}: {Count(shown[i].Value)}")));
            x += widths[i];
        }

        return svg;
    }

    /// <summary>
    /// Horizontal bars on a log2 scale from 2^<paramref name="minLog"/>: a label column, the bar, and its detail text
    /// (what a virtual layout needs: a 4 KiB page and a 512 GiB window in one picture).
    /// </summary>
    public static XElement LogBars(IReadOnlyList<LogBar> bars, int minLog, Func<ulong, string> tickText, double width, string id)
    {
        const double LabelWidth = 170, DetailWidth = 420, RowHeight = 22, AxisHeight = 26;
        double barWidth = width - LabelWidth - DetailWidth;
        ulong largest = bars.Count == 0 ? 1 : bars.Max(b => b.Value);
        int maxLog = Math.Max(minLog + 8, (int)Math.Ceiling(Math.Log2(Math.Max(largest, 1))));
        double Scale(ulong value) => value <= 1UL << minLog ? 0 : (Math.Log2(value) - minLog) / (maxLog - minLog) * barWidth;

        var svg = S("svg", A("id", id), A("width", width), A("height", AxisHeight + bars.Count * RowHeight + 4), A("role", "img"));
        int step = Math.Max(1, (maxLog - minLog + 5) / 6);
        for (int log = minLog; log <= maxLog; log += step)
        {
            double x = LabelWidth + Scale(1UL << log);
            svg.Add(S("line", A("x1", x), A("x2", x), A("y1", AxisHeight - 6), A("y2", AxisHeight + bars.Count * RowHeight), A("stroke", "#e0e0e0")));
            svg.Add(S("text", A("x", x), A("y", AxisHeight - 10), A("text-anchor", "middle"), A("class", "small"), tickText(1UL << log)));
        }

        for (int i = 0; i < bars.Count; i++)
        {
            double y = AxisHeight + i * RowHeight;
            double w = Math.Max(2, Scale(bars[i].Value));
            svg.Add(S("text", A("x", LabelWidth - 8), A("y", y + 15), A("text-anchor", "end"), A("class", "label"), bars[i].Label));
            svg.Add(S("rect", A("x", LabelWidth), A("y", y + 3), A("width", w), A("height", RowHeight - 6), A("fill", bars[i].Color),
                S("title", $"{bars[i].Label}: {bars[i].Detail}")));
            svg.Add(S("text", A("x", LabelWidth + barWidth + 10), A("y", y + 15), A("class", "detail"), bars[i].Detail));
        }

        return svg;
    }
}
