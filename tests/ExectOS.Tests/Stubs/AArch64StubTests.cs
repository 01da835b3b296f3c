using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using ExectOS.StubAssembler;
using ExectOS.Tests.Snapshots;
using Xunit;

namespace ExectOS.Tests.Stubs;

/// <summary>
/// The AArch64 stub object from LLVM's assembler: a COFF ARM64 object with one external symbol for each import of
/// the AArch64 image's <c>Cpu</c> (its Arch/ part and the shared one) and each helper ilc's arm64 code calls, and
/// llvm-objdump's listing reviewed.
/// </summary>
public sealed partial class AArch64StubTests
{
    private const ushort Arm64Machine = 0xAA64;
    private const byte ClassExternal = 2;

    /// <summary>The reference-store helpers ilc's arm64 code calls, which no C# source imports.</summary>
    private static readonly string[] CompilerHelpers = ["RhpAssignRefArm64", "RhpCheckedAssignRefArm64", "RhpByRefAssignRefArm64"];

    [Fact]
    public void Object_is_arm64_coff_with_a_symbol_for_every_import_and_helper()
    {
        CoffObject obj = CoffObject.Parse(LlvmStubs.Assemble());

        Assert.Equal(Arm64Machine, obj.Machine);
        string cpu = File.ReadAllText(Path.Combine(Snapshot.RepositoryRoot, "kernel/Xtos/Arch/AArch64/Cpu.cs"))
            + File.ReadAllText(Path.Combine(Snapshot.RepositoryRoot, "kernel/Xtos/Hardware/Cpu.cs"));
        string[] imports = RuntimeImport().Matches(cpu).Select(m => m.Groups[1].Value).ToArray();
        Assert.NotEmpty(imports);
        string[] externals = obj.Symbols.Where(s => s.StorageClass == ClassExternal).Select(s => s.Name).ToArray();
        Assert.Equal(imports.Concat(CompilerHelpers).Order(), externals.Order());
        CoffSection text = obj.Sections.Single(s => s.Name == ".text");
        Assert.Equal(0, text.RelocationCount);
    }

    [Fact]
    public void Listing_matches_the_approved_snapshot() =>
        Snapshot.Match("stubs/arm64", LlvmStubs.Disassemble(LlvmStubs.Assemble()));

    /// <summary>
    /// No stub runs on into its padding: each ends in a return, or in a jump that never comes back (the hand-off's br
    /// into the kernel, the trap return's eret, a halt loop's b, a vector entry's b to the common part).
    /// </summary>
    [Fact]
    public void Every_stub_ends_in_a_return_or_a_jump_before_its_padding()
    {
        string listing = LlvmStubs.Disassemble(LlvmStubs.Assemble());
        var endings = new System.Collections.Generic.Dictionary<string, string>();
        foreach (string stub in listing.Split("\n\n").Where(b => b.Contains(">:\n", System.StringComparison.Ordinal)))
        {
            string name = Regex.Match(stub, "<([A-Za-z0-9]+)>:").Groups[1].Value;
            string[] instructions = stub.Split('\n').Skip(1).Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();
            // Padding: nops, and the zeros llvm-objdump folds into "...".
            string[] code = instructions.Reverse().SkipWhile(l => l.EndsWith("nop", System.StringComparison.Ordinal) || l == "...").Reverse().ToArray();
            string last = Regex.Match(code[^1], @"\t([a-z.]+)(\t|$)").Groups[1].Value;
            endings[name] = last;
        }
        // The early handler's two strings are data, not code.
        string[] data = ["ArEarlyAt", "ArEarlyEnd"];
        var jumps = new System.Collections.Generic.Dictionary<string, string>
        {
            ["ArHandOff"] = "br",
            ["ArTrapCommon"] = "eret",
            ["ArHaltForever"] = "b",
            ["ArVectorTable"] = "b",
            ["ArEarlyFault"] = "b",
            ["ArEarlyVectors"] = "b",
        };
        Assert.All(endings.Where(e => !jumps.ContainsKey(e.Key) && !data.Contains(e.Key)), e => Assert.Equal("ret", e.Value));
        Assert.All(jumps, j => Assert.Equal(j.Value, endings[j.Key]));
    }

    /// <summary>
    /// The hand-off stub fits the room the hand-off page gives it before its parameters: AArch64's HandOffLayout.CodeBytes,
    /// read from its source (the hosted build compiles x86's).
    /// </summary>
    [Fact]
    public void The_hand_off_stub_fits_before_its_parameter_block()
    {
        string listing = LlvmStubs.Disassemble(LlvmStubs.Assemble());
        string stub = listing.Split("\n\n").Single(b => b.Contains("<ArHandOff>:", System.StringComparison.Ordinal));
        int instructions = stub.Split('\n').Skip(1).Count(l => l.Trim().Length > 0 && l.Trim() != "..." && !l.TrimEnd().EndsWith("nop", System.StringComparison.Ordinal));
        string layout = File.ReadAllText(Path.Combine(Snapshot.RepositoryRoot, "kernel/Xtos/Arch/AArch64/HandOffLayout.cs"));
        int room = System.Convert.ToInt32(Regex.Match(layout, @"const int CodeBytes = 0x([0-9A-F]+);").Groups[1].Value, 16);
        int parameters = System.Convert.ToInt32(Regex.Match(layout, @"const int Parameters = 0x([0-9A-F]+);").Groups[1].Value, 16);
        Assert.InRange(instructions * 4, 4, room);
        Assert.True(room <= parameters);
        // The early handler and its vectors lie where HandOffLayout says, from the piece's start.
        int Offset(string name) => System.Convert.ToInt32(Regex.Match(listing, $"([0-9a-f]+) <{name}>:").Groups[1].Value, 16) - System.Convert.ToInt32(Regex.Match(listing, "([0-9a-f]+) <ArHandOff>:").Groups[1].Value, 16);
        Assert.Equal(System.Convert.ToInt32(Regex.Match(layout, @"const int EarlyCode = 0x([0-9A-F]+);").Groups[1].Value, 16), Offset("ArEarlyFault"));
        Assert.Equal(System.Convert.ToInt32(Regex.Match(layout, @"const int EarlyVectors = 0x([0-9A-F]+);").Groups[1].Value, 16), Offset("ArEarlyVectors"));
    }

    [Fact]
    public void Cli_writes_the_llvm_object_and_its_listing()
    {
        string directory = Directory.CreateTempSubdirectory("exectos-stubs-").FullName;
        try
        {
            string obj = Path.Combine(directory, "stubs.obj"), listing = Path.Combine(directory, "stubs.txt");
            Assert.Equal(0, Program.Main(["--arch", LlvmStubs.Architecture, "--out", obj, "--listing", listing]));
            Assert.Equal(Arm64Machine, CoffObject.Parse(File.ReadAllBytes(obj)).Machine);
            Assert.StartsWith("Disassembly of section .text:", File.ReadAllText(listing));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [GeneratedRegex("""RuntimeImport\("([A-Za-z0-9]+)"\)""")]
    private static partial Regex RuntimeImport();
}
