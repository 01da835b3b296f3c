using System.Linq;
using ExectOS.Descriptors.Model;

namespace ExectOS.Descriptors.Emit;

/// <summary>
/// Writes an image's mode list as a static class: the loader walks it in order of preference, and both the
/// loader and the kernel enter their generic code once, through <c>Dispatch</c>, with the mode a loader
/// block names. Also writes <c>ExectOS.Paging.ImageModes</c>, the list of the image being built.
/// </summary>
internal static class ImageEmitter
{
    public static void Emit(CodeWriter w, DescriptorModel model, ImageModel image)
    {
        w.Line($"/// <summary>{model.Architecture} image {image.Name}: the paging modes its loader and kernel run, the loader's preference first ({model.SourceName} line {image.Line}).</summary>");
        w.Open($"public static class {image.TypeName}");
        w.Line($"public static string Name => \"{image.Name}\";");
        w.Line($"public static int ModeCount => {image.Modes.Count};");
        int largest = image.Modes.Select(m => model.Modes.First(x => x.Name == m.Mode).PageShift).DefaultIfEmpty(12).Max();
        w.Line();
        w.Line("/// <summary>The largest page of the image's modes (log2): the loader aligns what it maps to it before it knows the mode.</summary>");
        w.Line($"public static int LargestPageShift => {largest};");
        w.Line();
        w.Line("/// <summary>The identifier of the mode at <paramref name=\"index\"/> in order of preference (0: most preferred); 0 past the end.</summary>");
        w.Open("public static uint ModeId(int index) => index switch");
        for (int i = 0; i < image.Modes.Count; i++)
            w.Line($"{i} => {image.Modes[i].Mode}.Id,");
        w.Line("_ => 0,");
        w.Close(";");
        w.Line();
        w.Line("/// <summary>Calls <paramref name=\"visitor\"/> with the mode <paramref name=\"modeId\"/> names and its kernel layout; false when this image has no such mode.</summary>");
        w.Open("public static bool Dispatch<TVisitor>(uint modeId, ref TVisitor visitor) where TVisitor : struct, IModeVisitor");
        w.Open("switch (modeId)");
        foreach (ImageModeModel mode in image.Modes)
        {
            w.Line($"case 0x{mode.Id:X8}: // {mode.Mode}");
            w.Line($"    visitor.Visit<{mode.Mode}, {mode.Layout}>();");
            w.Line("    return true;");
        }
        w.Line("default:");
        w.Line("    return false;");
        w.Close();
        w.Close();
        w.Close();
    }

    /// <summary>The image being built (the build's ImageArch) under one name, for the loader's and kernel's entry code.</summary>
    public static string EmitCurrent(DescriptorModel model, ImageModel image)
    {
        var w = new CodeWriter();
        Emitter.WriteHeader(w, $"for ImageArch={image.Name}, from {model.SourceName}");
        w.Open("namespace ExectOS.Paging");
        w.Line($"/// <summary>The paging modes of the image being built: {image.Name} (<see cref=\"{model.Architecture}.{image.TypeName}\"/>).</summary>");
        w.Open("public static class ImageModes");
        string target = $"{model.Architecture}.{image.TypeName}";
        w.Line($"public static string Name => {target}.Name;");
        w.Line($"public static int ModeCount => {target}.ModeCount;");
        w.Line($"public static int LargestPageShift => {target}.LargestPageShift;");
        w.Line($"public static uint ModeId(int index) => {target}.ModeId(index);");
        w.Line();
        w.Line("public static bool Dispatch<TVisitor>(uint modeId, ref TVisitor visitor) where TVisitor : struct, IModeVisitor");
        w.Line($"    => {target}.Dispatch(modeId, ref visitor);");
        w.Close();
        w.Close();
        return w.ToString();
    }
}
