using System.IO;
using System.Text.RegularExpressions;
using ExectOS.Tool.Boot;
using Xunit;

namespace ExectOS.Tool.Tests;

public sealed class DebuggerTests
{
    [Fact]
    public void GdbGetsTheSymbolsWhereTheKernelRunsThenAttachesThenTheBatch()
    {
        ProcessInvocation gdb = Debugger.Build(DebuggerKind.Gdb, "gdb", ArchitectureProfile.Amd64, "/r/symbols/xtoskrnl.exe", 0x140000000, ["bt"]);

        Assert.Equal("gdb", gdb.FileName);
        Assert.Equal(
            [
                "-nx", "-q", "-batch",
                "-ex", "set pagination off", "-ex", "set confirm off", "-ex", "set architecture i386:x86-64",
                "-ex", "symbol-file /r/symbols/xtoskrnl.exe -o 0xfffff7fec0000000",
                "-ex", "target remote localhost:1234",
                "-ex", "bt",
            ],
            gdb.Arguments);
        Assert.DoesNotContain("-batch", Debugger.Build(DebuggerKind.Gdb, "gdb", ArchitectureProfile.Amd64, "/r/k.exe", 0x140000000, []).Arguments);
    }

    [Fact]
    public void LldbGetsTheImageAndItsPdbThenAttachesThenMovesTheModule()
    {
        ProcessInvocation lldb = Debugger.Build(DebuggerKind.Lldb, "lldb-16", ArchitectureProfile.Amd64, "/r/symbols/pdb/xtoskrnl.exe", 0x140000000, ["bt"]);

        Assert.Equal("lldb-16", lldb.FileName);
        Assert.Equal(
            [
                "--no-lldbinit", "--batch",
                "-o", "target create /r/symbols/pdb/xtoskrnl.exe", "-o", "target symbols add /r/symbols/pdb/xtoskrnl.exe.pdb",
                "-o", "gdb-remote localhost:1234",
                "-o", "target modules load --file xtoskrnl.exe --slide 0xfffff7fec0000000",
                "-o", "bt",
            ],
            lldb.Arguments);
    }

    /// <summary>The loader runs the kernel at the start of its layout's LoaderMappings window; gdb must put the symbols there.</summary>
    [Fact]
    public void TheKernelBaseIsTheAmd64LayoutsLoaderMappings()
    {
        string descriptor = File.ReadAllText(Path.Combine(RepositoryLayout.TryLocate()!.Root, "descriptors/x86/paging.xd"));
        Match layout = Regex.Match(descriptor, @"layout Amd64Kernel for Amd64 \{.*?region LoaderMappings at (0x[0-9A-F]+) ", RegexOptions.Singleline);

        Assert.True(layout.Success);
        Assert.Contains($"-o 0x{System.Convert.ToUInt64(layout.Groups[1].Value, 16) - 0x140000000:x}", string.Join(' ', Debugger.Build(DebuggerKind.Gdb, "gdb", ArchitectureProfile.Amd64, "k", 0x140000000, []).Arguments));
    }

    [Fact]
    public void LinkBaseIsReadFromThePeHeader()
    {
        string folder = Directory.CreateTempSubdirectory("exectos-debugger-tests-").FullName;
        try
        {
            Assert.Equal(0x140000000UL, Debugger.LinkBase(StubEfiImage.WriteTo(folder, "k.exe", StubEfiImage.Hang("x"))));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
