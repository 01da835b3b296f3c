using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using ExectOS.Tool.Cli;

namespace ExectOS.Tool.Boot;

/// <summary>
/// gdb for <c>exectos debug</c>: it reads the kernel's names from the COFF symbol table of the copy the build links
/// into <c>artifacts/images/&lt;arch&gt;/symbols/</c> (gdb reads no CodeView, and LLDB 14 crashes on the PDB), moved
/// to where the loader runs the kernel, then attaches to QEMU's stub.
/// </summary>
public static class Debugger
{
    public const string Program = "gdb";

    /// <summary>
    /// Where the loader runs each architecture's kernel: the start of its layout's LoaderMappings window
    /// (descriptors/x86/paging.xd), the same in every paging mode of the image; gdb's name for the architecture.
    /// </summary>
    private static readonly Dictionary<string, (ulong KernelBase, string GdbArchitecture)> Targets = new()
    {
        ["amd64"] = (0xFFFF_F800_0000_0000, "i386:x86-64"),
    };

    /// <summary>The architectures <c>exectos debug</c> knows.</summary>
    public static IReadOnlyCollection<string> Architectures => Targets.Keys;

    public static bool Knows(string architecture) => Targets.ContainsKey(architecture);

    /// <summary>The kernel's symbols image: the booted one plus a COFF symbol table.</summary>
    public static string SymbolImage(RepositoryLayout repo, ArchitectureProfile profile) =>
        Path.Combine(repo.ImagesDirectory(profile.Name), "symbols", BootProtocol.KernelImageName);

    /// <summary>The gdb command line: symbols moved from the image's link base to where it runs, attach, then the batch commands.</summary>
    public static ProcessInvocation Build(ArchitectureProfile profile, string symbolImage, ulong linkBase, IReadOnlyList<string> batchCommands)
    {
        (ulong kernelBase, string architecture) = Targets[profile.Name];
        var args = new List<string> { "-nx", "-q" };
        if (batchCommands.Count > 0)
        {
            args.Add("-batch");
        }

        foreach (string command in (ReadOnlySpan<string>)[
            "set pagination off",
            "set confirm off",
            "set architecture " + architecture,
            string.Create(CultureInfo.InvariantCulture, $"symbol-file {symbolImage} -o 0x{kernelBase - linkBase:x}"),
            "target remote " + QemuCommandLine.GdbEndpoint,
        ])
        {
            args.Add("-ex");
            args.Add(command);
        }

        foreach (string command in batchCommands)
        {
            args.Add("-ex");
            args.Add(command);
        }

        return new ProcessInvocation(Program, args);
    }

    /// <summary>The ImageBase of a PE file's optional header (PE32 or PE32+).</summary>
    public static ulong LinkBase(string peFile)
    {
        byte[] bytes = File.ReadAllBytes(peFile);
        int optional = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(0x3C)) + 24;
        return BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(optional)) == 0x20B
            ? BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(optional + 24))
            : BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(optional + 28));
    }
}
