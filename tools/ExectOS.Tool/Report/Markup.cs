using System;
using System.Globalization;
using System.Xml.Linq;

namespace ExectOS.Tool.Report;

/// <summary>XHTML and SVG elements for the report, and the number formats it prints.</summary>
public static class Markup
{
    public static readonly XNamespace Xhtml = "http://www.w3.org/1999/xhtml";

    public static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    /// <summary>An HTML element; never written as <c>&lt;x /&gt;</c>, which an HTML parser would read as an open tag.</summary>
    public static XElement H(string name, params object?[] content) => new(Xhtml + name, content, "");

    public static XElement S(string name, params object?[] content) => new(Svg + name, content);

    public static XAttribute A(string name, object value) => new(name, value is double d ? Px(d) : value);

    public static string Px(double value) => Math.Round(value, 2).ToString(CultureInfo.InvariantCulture);

    public static string Hex(ulong value) => "0x" + value.ToString("X", CultureInfo.InvariantCulture);

    public static string Count(ulong value) => value.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>A byte count in the largest binary unit that leaves at least 1, up to three significant digits.</summary>
    public static string Size(ulong bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
        int unit = 0;
        double value = bytes;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        string digits = value >= 100 || value == Math.Floor(value) ? value.ToString("0", CultureInfo.InvariantCulture)
            : value >= 10 ? value.ToString("0.#", CultureInfo.InvariantCulture)
            : value.ToString("0.##", CultureInfo.InvariantCulture);
        return digits + " " + units[unit];
    }

    /// <summary>A table with a header row; cells that are numbers are right-aligned.</summary>
    public static XElement Table(string[] headers, params XElement[] rows)
        => H("table", H("thead", H("tr", Array.ConvertAll(headers, h => H("th", h)))), H("tbody", rows));

    public static XElement Row(params object[] cells)
        => H("tr", Array.ConvertAll(cells, c => c is XElement e && e.Name.LocalName == "td" ? e : H("td", c is ulong or int ? A("class", "n") : null, c is ulong n ? Count(n) : c)));
}
