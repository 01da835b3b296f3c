using System.Globalization;
using System.Linq;
using ExectOS.Descriptors.Binding;
using ExectOS.Descriptors.Model;

namespace ExectOS.Descriptors.Emit;

/// <summary>Writes one paging mode as a struct implementing IPagingMode, with per-level constants and index helpers.</summary>
internal static class ModeEmitter
{
    public static void Emit(CodeWriter w, DescriptorModel model, ModeModel mode)
    {
        string canonical = mode.Canonical ? "canonical " : mode.Split ? "split (low and high halves, a root each) " : "";
        w.Line($"/// <summary>{model.Architecture} paging mode {mode.Name}: {mode.VirtualBits}-bit {canonical}virtual and {mode.PhysicalBits}-bit physical addresses, {ModeBinder.Size(mode.PageShift)} pages, {mode.Levels.Count} levels ({model.SourceName} line {mode.Line}).</summary>");
        w.Open($"public readonly struct {mode.Name} : IPagingMode");
        w.Line($"public static string Name => \"{mode.Name}\";");
        w.Line($"public static uint Id => 0x{mode.Id:X8};");
        w.Line($"public static int VirtualBits => {mode.VirtualBits};");
        w.Line($"public static bool CanonicalAddresses => {(mode.Canonical ? "true" : "false")};");
        w.Line($"public static int PhysicalBits => {mode.PhysicalBits};");
        w.Line($"public static int PageShift => {mode.PageShift};");
        w.Line($"public static int EntryBytes => {mode.EntryWidth / 8};");
        w.Line($"public static int LevelCount => {mode.Levels.Count};");
        w.Line($"public static int SelfMapIndex => {(mode.SelfMap < 0 ? "-1" : $"0x{mode.SelfMap:X}")};");
        w.Line($"public static int SelfMapLevels => {mode.SelfMapLevels};");
        w.Line($"public static int RootCount => {(mode.Split ? 2 : 1)};");
        w.Line($"public static int RootOf(VirtualAddress address) => {(mode.Split ? "(int)(address.Value >> 63)" : "0")};");

        for (int i = 0; i < mode.Levels.Count; i++)
        {
            LevelModel level = mode.Levels[i];
            string formats = string.Join(", ", new[] { level.TableFormat is null ? null : $"tables: {level.TableFormat}", level.PageFormat is null ? null : $"{ModeBinder.Size(level.Shift)} pages: {level.PageFormat}" }.Where(x => x is not null));
            w.Line();
            w.Line($"/// <summary>Level {i}, {level.Name}: address bits {level.Shift + level.IndexBits - 1}:{level.Shift}; {formats}.</summary>");
            w.Line($"public const int {level.Name}Level = {i};");
            w.Line($"public const int {level.Name}Shift = {level.Shift};");
            w.Line($"public const ulong {level.Name}IndexMask = {FormatEmitter.Hex((1UL << level.IndexBits) - 1, 64)};");
            w.Line($"public static int {level.Name}Index(VirtualAddress address) => (int)((address.Value >> {level.Shift}) & {level.Name}IndexMask);");
        }

        w.Line();
        EmitSwitch(w, "int LevelShift(int level)", mode, l => l.Shift.ToString(CultureInfo.InvariantCulture), "-1");
        w.Line();
        EmitSwitch(w, "int LevelIndexBits(int level)", mode, l => l.IndexBits.ToString(CultureInfo.InvariantCulture), "0");
        w.Line();
        EmitSwitch(w, "bool LevelMapsPages(int level)", mode, l => l.PageFormat is null ? "false" : "true", "false");
        w.Line();
        w.Line($"public static int Index(int level, VirtualAddress address)");
        w.Line("    => (int)((address.Value >> LevelShift(level)) & ((1UL << LevelIndexBits(level)) - 1));");
        w.Line();
        w.Line($"public static bool IsCanonical(VirtualAddress address) => {CanonicalTest(mode)};");
        w.Line();
        w.Line($"public static int RequirementCount => {mode.Requirements.Count};");
        w.Line();
        w.Open($"public static FeatureRequirement Requirement(int index) => index switch");
        for (int i = 0; i < mode.Requirements.Count; i++)
        {
            FeatureModel r = mode.Requirements[i];
            w.Line(r.Register is null
                ? $"{i} => new FeatureRequirement(\"{r.Name}\", FeatureProbe.{Probe(r.Probe)}, 0x{r.Selector:X}, 0x{r.Subselector:X}, {r.Word}, {r.Bit}),"
                : $"{i} => new FeatureRequirement(\"{r.Name}\", \"{r.Register}\", 0x{r.Selector:X8}, {r.Word}, {r.Bit}, FeatureComparison.{Comparison(r.Comparison!)}, 0x{r.Value:X}),");
        }
        w.Line("_ => default,");
        w.Close(";");
        w.Line();
        EntryOperationsEmitter.Emit(w, model, mode);
        w.Close();
    }

    /// <summary>The FeatureProbe member for a probe keyword.</summary>
    private static string Probe(string keyword) => keyword switch
    {
        "cpuid" => "CpuId",
        _ => throw new System.ArgumentException($"no probe kind '{keyword}'"),
    };

    /// <summary>The FeatureComparison member for a register probe's comparison word.</summary>
    private static string Comparison(string word) => word switch
    {
        "is" => "Equal",
        "not" => "NotEqual",
        "atleast" => "AtLeast",
        _ => throw new System.ArgumentException($"no comparison '{word}'"),
    };

    private static void EmitSwitch(CodeWriter w, string signature, ModeModel mode, System.Func<LevelModel, string> value, string otherwise)
    {
        w.Open($"public static {signature} => level switch");
        for (int i = 0; i < mode.Levels.Count; i++)
            w.Line($"{i} => {value(mode.Levels[i])},");
        w.Line($"_ => {otherwise},");
        w.Close(";");
    }

    private static string CanonicalTest(ModeModel mode)
    {
        if (mode.VirtualBits == 64)
            return "true";
        if (mode.Split)
            return $"(address.Value >> {mode.VirtualBits}) == 0 || (address.Value >> {mode.VirtualBits}) == {FormatEmitter.Hex(ulong.MaxValue >> mode.VirtualBits, 64)}";
        if (!mode.Canonical)
            return $"(address.Value >> {mode.VirtualBits}) == 0";
        int unused = 64 - mode.VirtualBits;
        return $"(ulong)((long)(address.Value << {unused}) >> {unused}) == address.Value";
    }
}
