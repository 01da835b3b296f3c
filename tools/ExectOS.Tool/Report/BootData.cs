using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace ExectOS.Tool.Report;

/// <summary>One memory-map descriptor: a run of physical memory of one loader memory type.</summary>
public sealed record PhysicalRange(string Type, ulong Base, ulong Bytes, ulong Flags)
{
    public ulong End => Base + Bytes;
}

/// <summary>One region of the kernel's virtual layout.</summary>
public sealed record LayoutRegion(string Name, ulong Start, ulong Bytes)
{
    /// <summary>The last byte (a region may end at the top of the address space).</summary>
    public ulong Last => Start + (Bytes - 1);
}

/// <summary>Frames in one PFN state, or (with a use) active or reserved frames of one use.</summary>
public sealed record PageCount(string State, string? Use, ulong Count);

/// <summary>A pool's totals.</summary>
public sealed record PoolRow(string Pool, ulong CommittedPages, ulong BytesInUse, ulong Allocations, ulong Frees, ulong BigAllocations);

/// <summary>One pool tag's activity.</summary>
public sealed record PoolTagRow(string Pool, string Tag, ulong Allocations, ulong Frees, ulong BytesInUse);

/// <summary>One kind of kernel stack (pages are the paging mode's).</summary>
public sealed record StackRow(string Kind, ulong Live, ulong Committed, ulong Reserved, ulong Cached, ulong DeepestBytes);

/// <summary>
/// What the kernel reported in its <c>XTOSKRNL-DATA v1</c> records (written by the kernel's <c>BootData</c>;
/// the README's "Boot report" lists every record and key).
/// </summary>
public sealed record BootData(
    string Architecture,
    string Mode,
    int Levels,
    string Layout,
    ulong PageBytes,
    IReadOnlyList<PhysicalRange> Ranges,
    IReadOnlyList<LayoutRegion> Regions,
    IReadOnlyList<PageCount> Pages,
    IReadOnlyList<PoolRow> Pools,
    IReadOnlyList<PoolTagRow> PoolTags,
    IReadOnlyList<StackRow> Stacks)
{
    /// <summary>What starts every record line; the version is the first word after it.</summary>
    public const string Marker = "XTOSKRNL-DATA ";

    public const string Version = "v1";

    /// <summary>The loader's memory descriptors count firmware pages of this size, whatever the paging mode's.</summary>
    public const ulong FirmwarePageBytes = 4096;

    /// <summary>
    /// The records among <paramref name="lines"/> (other lines are ignored), or a message saying why there is no
    /// usable data: none at all, another version, a malformed record, or a list without its end.
    /// </summary>
    public static (BootData? Data, string? Error) Parse(IEnumerable<string> lines)
    {
        var parser = new Parser();
        foreach (string line in lines)
        {
            int at = line.IndexOf(Marker, StringComparison.Ordinal);
            if (at < 0)
            {
                continue;
            }

            if (parser.Add(line[(at + Marker.Length)..].TrimEnd()) is { } error)
            {
                return (null, error);
            }
        }

        return parser.Finish();
    }

    private sealed class Parser
    {
        private readonly List<PhysicalRange> _ranges = [];
        private readonly List<LayoutRegion> _regions = [];
        private readonly List<PageCount> _pages = [];
        private readonly List<PoolRow> _pools = [];
        private readonly List<PoolTagRow> _tags = [];
        private readonly List<StackRow> _stacks = [];
        private Dictionary<string, string>? _begin;
        private int _records;
        private bool _ended;
        private int _lines;

        public string? Add(string text)
        {
            _lines++;
            string[] words = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (words.Length < 2)
            {
                return $"boot data record {_lines} is empty: '{text}'";
            }

            if (words[0] != Version)
            {
                return $"boot data is {words[0]}; this exectos reads {Version}";
            }

            var fields = new Dictionary<string, string>(StringComparer.Ordinal);
            for (int i = 2; i < words.Length; i++)
            {
                int equals = words[i].IndexOf('=', StringComparison.Ordinal);
                if (equals <= 0)
                {
                    return $"boot data record '{text}': '{words[i]}' is not key=value";
                }

                fields[words[i][..equals]] = words[i][(equals + 1)..];
            }

            try
            {
                return Record(words[1], new Fields(fields, text));
            }
            catch (FormatException e)
            {
                return e.Message;
            }
        }

        private string? Record(string kind, Fields f)
        {
            if (kind == "begin")
            {
                // A second begin (a kernel that printed twice, or two boots in one log): the last list counts.
                _begin = f.All;
                _ended = false;
                _records = 1;
                _ranges.Clear();
                _regions.Clear();
                _pages.Clear();
                _pools.Clear();
                _tags.Clear();
                _stacks.Clear();
                return null;
            }

            if (_begin is null)
            {
                return $"boot data record '{f.Line}' comes before the begin record";
            }

            if (kind == "end")
            {
                ulong expected = f.Number("records");
                if (expected != (ulong)_records)
                {
                    return $"boot data ends with records={expected} but {_records} records came before it (lines lost on serial?)";
                }

                _ended = true;
                return null;
            }

            _records++;
            switch (kind)
            {
                case "range":
                    _ranges.Add(new PhysicalRange(f.Text("type"), f.Number("base"), f.Number("pages") * FirmwarePageBytes, f.Number("flags")));
                    break;
                case "region":
                    _regions.Add(new LayoutRegion(f.Text("name"), f.Number("start"), f.Number("bytes")));
                    break;
                case "pages":
                    _pages.Add(new PageCount(f.Text("state"), null, f.Number("count")));
                    break;
                case "page-use":
                    _pages.Add(new PageCount(f.Text("state"), f.Text("use"), f.Number("count")));
                    break;
                case "pool":
                    _pools.Add(new PoolRow(f.Text("pool"), f.Number("committed-pages"), f.Number("bytes-in-use"), f.Number("allocations"), f.Number("frees"), f.Number("big-allocations")));
                    break;
                case "pool-tag":
                    _tags.Add(new PoolTagRow(f.Text("pool"), DecodeTag(f.Text("tag")), f.Number("allocations"), f.Number("frees"), f.Number("bytes-in-use")));
                    break;
                case "stack":
                    _stacks.Add(new StackRow(f.Text("kind"), f.Number("live"), f.Number("committed"), f.Number("reserved"), f.Number("cached"), f.Number("deepest-bytes")));
                    break;
                default:
                    // A newer kernel's extra record in the same version: not an error, nothing to draw.
                    break;
            }

            return null;
        }

        public (BootData?, string?) Finish()
        {
            if (_begin is null)
            {
                return (null, $"the kernel printed no {Marker}{Version} records");
            }

            if (!_ended)
            {
                return (null, $"boot data has no end record after {_records} records (the kernel stopped printing?)");
            }

            var f = new Fields(_begin, "begin");
            try
            {
                var data = new BootData(
                    f.Text("arch"), f.Text("mode"), (int)f.Number("levels"), f.Text("layout"), f.Number("page-bytes"),
                    _ranges.ToArray(), _regions.ToArray(), _pages.ToArray(), _pools.ToArray(), _tags.ToArray(), _stacks.ToArray());
                return (data, null);
            }
            catch (FormatException e)
            {
                return (null, e.Message);
            }
        }
    }

    /// <summary>A record's key=value pairs; a missing key or a bad number is a <see cref="FormatException"/> naming the record.</summary>
    private readonly record struct Fields(Dictionary<string, string> All, string Line)
    {
        public string Text(string key)
            => All.TryGetValue(key, out string? value) ? value : throw new FormatException($"boot data record '{Line}' has no {key}=");

        public ulong Number(string key)
        {
            string text = Text(key);
            bool ok = text.StartsWith("0x", StringComparison.Ordinal)
                ? ulong.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong value)
                : ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
            return ok ? value : throw new FormatException($"boot data record '{Line}': {key}={text} is not a number");
        }
    }

    /// <summary>Undoes the kernel's %XX escapes in a pool tag.</summary>
    public static string DecodeTag(string text)
    {
        var tag = new StringBuilder();
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] == '%' && i + 2 < text.Length && byte.TryParse(text.AsSpan(i + 1, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out byte b))
            {
                tag.Append((char)b);
                i += 2;
            }
            else
            {
                tag.Append(text[i]);
            }
        }

        return tag.ToString();
    }
}
