using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using ExectOS.Memory;

namespace ExectOS.Tests.Descriptors;

/// <summary>Finds what the generator produced in the hosted build, so tests cover every descriptor without naming one.</summary>
internal static class GeneratedTypes
{
    private static readonly Assembly Hosted = typeof(PhysicalAddress).Assembly;

    public static IEnumerable<Type> EntryFormats()
        => Hosted.GetTypes().Where(t => t.IsValueType && !t.IsEnum && t.Namespace?.StartsWith("ExectOS.Paging.", StringComparison.Ordinal) == true
            && t.GetField("Value") is not null && t.GetField("Width") is not null).OrderBy(t => t.FullName, StringComparer.Ordinal);

    public static IEnumerable<Type> PagingModes()
        => Hosted.GetTypes().Where(t => t.IsValueType && typeof(IPagingMode).IsAssignableFrom(t)).OrderBy(t => t.FullName, StringComparer.Ordinal);

    public static IEnumerable<object[]> EntryFormatData() => EntryFormats().Select(t => new object[] { t.FullName! });

    public static IEnumerable<object[]> PagingModeData() => PagingModes().Select(t => new object[] { t.FullName! });

    public static Type Named(string fullName) => Hosted.GetType(fullName, throwOnError: true)!;
}
