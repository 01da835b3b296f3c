using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using ExectOS.Memory;
using ExectOS.Tests.Memory;

namespace ExectOS.Tests.Descriptors;

/// <summary>Finds what the generator produced in the hosted build, so tests cover every descriptor without naming one.</summary>
internal static class GeneratedTypes
{
    private static readonly Assembly Hosted = typeof(PhysicalAddress).Assembly;

    private static readonly Lazy<Dictionary<Type, Type>> Layouts = new(FindLayouts);

    public static IEnumerable<Type> EntryFormats()
        => Hosted.GetTypes().Where(t => t.IsValueType && !t.IsEnum && t.Namespace?.StartsWith("ExectOS.Paging.", StringComparison.Ordinal) == true
            && t.GetField("Value") is not null && t.GetField("Width") is not null).OrderBy(t => t.FullName, StringComparer.Ordinal);

    public static IEnumerable<Type> PagingModes()
        => Hosted.GetTypes().Where(t => t.IsValueType && typeof(IPagingMode).IsAssignableFrom(t)).OrderBy(t => t.FullName, StringComparer.Ordinal);

    /// <summary>Every generated image class (Amd64Image, I686Image ...): their Dispatch pairs each mode with its kernel layout.</summary>
    public static IEnumerable<Type> Images()
        => Hosted.GetTypes().Where(t => t.Namespace?.StartsWith("ExectOS.Paging.", StringComparison.Ordinal) == true && t.IsAbstract && t.IsSealed
            && t.Name.EndsWith("Image", StringComparison.Ordinal)).OrderBy(t => t.FullName, StringComparer.Ordinal);

    public static IEnumerable<object[]> EntryFormatData() => EntryFormats().Select(t => new object[] { t.FullName! });

    public static IEnumerable<object[]> PagingModeData() => PagingModes().Select(t => new object[] { t.FullName! });

    /// <summary>The modes a descriptor gives a kernel layout (an image runs them).</summary>
    public static IEnumerable<object[]> LayoutModeData() => PagingModes().Where(m => DescriptorLayout(m) is not null).Select(t => new object[] { t.FullName! });

    /// <summary>
    /// The layout modes with a self-map (a root slot, or PAE's four directory slots): tests of the self-map formula run on these.
    /// </summary>
    public static IEnumerable<object[]> SelfMapLayoutModeData()
        => LayoutModeData().Where(row => (int)Named((string)row[0]).GetProperty(nameof(IPagingMode.SelfMapIndex))!.GetValue(null)! >= 0);

    public static Type Named(string fullName) => Hosted.GetType(fullName, throwOnError: true)!;

    /// <summary>The kernel layout the mode's image enters it with, or null for a mode no image runs (RISC-V today).</summary>
    public static Type? DescriptorLayout(Type mode) => Layouts.Value.GetValueOrDefault(mode);

    /// <summary>The layout tests use for a mode: its descriptor's, or <see cref="TestLayout{TMode}"/> where it has none.</summary>
    public static Type LayoutFor(Type mode) => DescriptorLayout(mode) ?? typeof(TestLayout<>).MakeGenericType(mode);

    /// <summary>Each row of <paramref name="modes"/> followed by each row of <paramref name="rows"/>: a theory per mode and case.</summary>
    public static IEnumerable<object[]> Cross(IEnumerable<object[]> modes, IEnumerable<object[]> rows)
        => modes.SelectMany(m => rows.Select(r => m.Concat(r).ToArray()));

    /// <summary>
    /// Calls the static generic method <paramref name="name"/> of <paramref name="owner"/> for <paramref name="mode"/>:
    /// with &lt;TMode&gt;, or &lt;TMode, TLayout&gt; with the layout of <see cref="LayoutFor"/>. Its exceptions are the test's.
    /// </summary>
    public static object? RunForMode(Type owner, string name, string mode, params object?[] arguments)
    {
        MethodInfo method = owner.GetMethod(name, BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.Static)
            ?? throw new MissingMethodException(owner.FullName, name);
        Type type = Named(mode);
        Type[] types = method.GetGenericArguments().Length == 1 ? [type] : [type, LayoutFor(type)];
        return method.MakeGenericMethod(types).Invoke(null, BindingFlags.DoNotWrapExceptions, null, arguments, null);
    }

    /// <summary>Calls <paramref name="image"/>'s generated Dispatch with <paramref name="id"/>: the mode and layout it entered, or false.</summary>
    public static bool Dispatch(Type image, uint id, out Type? mode, out Type? layout)
    {
        MethodInfo dispatch = image.GetMethod("Dispatch")!.MakeGenericMethod(typeof(Recorder));
        object?[] arguments = { id, new Recorder() };
        bool entered = (bool)dispatch.Invoke(null, arguments)!;
        (mode, layout) = ((Recorder)arguments[1]!).Entered;
        return entered;
    }

    private static Dictionary<Type, Type> FindLayouts()
    {
        var layouts = new Dictionary<Type, Type>();
        foreach (Type image in Images())
        {
            int count = (int)image.GetProperty("ModeCount")!.GetValue(null)!;
            for (int i = 0; i < count; i++)
            {
                if (Dispatch(image, (uint)image.GetMethod("ModeId")!.Invoke(null, new object[] { i })!, out Type? mode, out Type? layout))
                    layouts[mode!] = layout!;
            }
        }
        return layouts;
    }

    private struct Recorder : IModeVisitor
    {
        public (Type? Mode, Type? Layout) Entered;

        public void Visit<TMode, TLayout>()
            where TMode : struct, IPagingMode
            where TLayout : struct, ILayout
            => Entered = (typeof(TMode), typeof(TLayout));
    }
}
