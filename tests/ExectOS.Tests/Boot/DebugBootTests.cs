using System;
using System.Buffers.Binary;
using System.IO;
using System.Linq;
using Xunit;

namespace ExectOS.Tests.Boot;

/// <summary><c>./exectos debug</c> in batch mode: gdb, given the kernel's symbols, stops at its entry and walks its stack.</summary>
[Collection("QEMU")]
[Trait("Category", "Boot")]
public sealed class DebugBootTests
{
    [Fact]
    public void GdbBreaksAtTheKernelEntryAndPrintsABacktraceWithKernelFunctionNames()
    {
        var result = ExectosCommand.Run(
            "debug", "--no-build",
            "--debugger-command", "break KeStartSystem",
            "--debugger-command", "continue",
            "--debugger-command", "break Xtoskrnl_ExectOS_Kernel_KernelMain__PrintLoaderBlock",
            "--debugger-command", "continue",
            "--debugger-command", "bt");

        Assert.True(result.ExitCode == 0, result.Output);
        // The entry's address from the booted image (its link base moved to the layout's LoaderMappings window):
        // the symbols copy describes the same code.
        byte[] kernel = File.ReadAllBytes(ExectosCommand.KernelImage);
        int optional = BinaryPrimitives.ReadInt32LittleEndian(kernel.AsSpan(0x3C)) + 24;
        ulong entry = 0xFFFFF80000000000UL + BinaryPrimitives.ReadUInt32LittleEndian(kernel.AsSpan(optional + 16));
        // Each check names the whole output when it fails (the debugger's lines are what tell a failure apart).
        Assert.True(result.Lines.Contains($"Breakpoint 1 at 0x{entry:x}"), result.Output);
        Assert.True(result.Lines.Any(l => l.StartsWith($"Breakpoint 1, 0x{entry:x16} in Xtoskrnl_ExectOS_Kernel_KernelMain__Start ()", StringComparison.Ordinal)), result.Output);
        Assert.True(result.Lines.Any(l => System.Text.RegularExpressions.Regex.IsMatch(l, "^#0  0xfffff80000[0-9a-f]{6} in Xtoskrnl_ExectOS_Kernel_KernelMain__PrintLoaderBlock \\(\\)$")), result.Output);
        Assert.True(result.Lines.Any(l => System.Text.RegularExpressions.Regex.IsMatch(l, "^#1  0xfffff80000[0-9a-f]{6} in Xtoskrnl_ExectOS_Kernel_KernelMain__Start \\(\\)$")), result.Output);
        Assert.Equal("exectos: debugger exited with status 0", result.LastLine);
    }

    [Fact]
    public void LldbStopsAtASourceLineOfTheKernelAndShowsIt()
    {
        // The line that checks the loader block, found in the source rather than written down here.
        string[] source = File.ReadAllLines(Path.Combine(ExectOS.Tests.Snapshots.Snapshot.RepositoryRoot, "kernel/Xtoskrnl/KernelMain.cs"));
        int line = Array.FindIndex(source, l => l.Contains("LoaderBlockError error = LoaderBlock.Validate(", StringComparison.Ordinal)) + 1;
        Assert.True(line > 0);

        var result = ExectosCommand.Run(
            "debug", "--no-build", "--debugger", "lldb",
            "--debugger-command", $"breakpoint set -f KernelMain.cs -l {line}",
            "--debugger-command", "continue",
            "--debugger-command", "frame info",
            "--debugger-command", "process kill");

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains(result.Lines, l => System.Text.RegularExpressions.Regex.IsMatch(l, $@"^frame #0: 0xfffff80000[0-9a-f]{{6}} xtoskrnl\.exe at KernelMain\.cs:{line}$"));
        Assert.Contains(result.Lines, l => l.StartsWith($"-> {line}", StringComparison.Ordinal) && l.EndsWith(source[line - 1].Trim(), StringComparison.Ordinal));
        Assert.Equal("exectos: debugger exited with status 0", result.LastLine);
    }
}
