using System;
using System.IO;
using System.Linq;
using System.Xml;
using System.Xml.Linq;

namespace ExectOS.Tool.Testing;

/// <summary>Test counts summed over one or more result files.</summary>
public readonly record struct TestCounts(int Passed, int Failed, int Skipped)
{
    public static TestCounts operator +(TestCounts a, TestCounts b) =>
        new(a.Passed + b.Passed, a.Failed + b.Failed, a.Skipped + b.Skipped);

    /// <summary>Whether anything actually executed; skipped tests do not count.</summary>
    public bool AnyRan => Passed + Failed > 0;
}

/// <summary>Counts outcomes in a Visual Studio test results (.trx) file.</summary>
/// <remarks>Counts the results themselves, not the summary counters, whose meaning for skipped tests
/// varies between adapters.</remarks>
public static class TrxCounter
{
    private static readonly XNamespace Trx = "http://microsoft.com/schemas/VisualStudio/TeamTest/2010";

    public static TestCounts Count(string trxText)
    {
        XDocument document = XDocument.Parse(trxText);
        XElement? results = document.Root?.Element(Trx + "Results");
        if (results is null)
        {
            return default;
        }

        var counts = default(TestCounts);
        // Only direct children: data-driven tests nest their rows as InnerResults under one parent.
        foreach (XElement result in results.Elements().Where(e => e.Name.Namespace == Trx))
        {
            counts += Classify((string?)result.Attribute("outcome"));
        }

        return counts;
    }

    /// <summary>Counts a file; an unreadable file counts as one failure so it cannot pass silently.</summary>
    public static TestCounts CountFile(string path, out string? problem)
    {
        problem = null;
        try
        {
            return Count(File.ReadAllText(path));
        }
        catch (Exception e) when (e is XmlException or IOException or UnauthorizedAccessException)
        {
            problem = $"cannot read {path}: {e.Message}";
            return new TestCounts(0, 1, 0);
        }
    }

    private static TestCounts Classify(string? outcome) => outcome switch
    {
        "Passed" or "PassedButRunAborted" or "Warning" => new TestCounts(1, 0, 0),
        "NotExecuted" or "Inconclusive" or "NotRunnable" or "Pending" => new TestCounts(0, 0, 1),
        _ => new TestCounts(0, 1, 0),
    };
}
