using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Threading;
using ExectOS.Tool.Cli;

namespace ExectOS.Tool.Boot;

/// <summary>Which debugger <c>exectos debug</c> attaches.</summary>
public enum DebuggerKind
{
    /// <summary>Function names and backtraces, from the COFF symbol table of <c>symbols/&lt;image&gt;</c>.</summary>
    Gdb,

    /// <summary>Source lines, from the PDB in <c>symbols/pdb/</c>; LLDB 16 or later (14 gives the PDB's functions no address).</summary>
    Lldb,
}

/// <summary>
/// The debugger for <c>exectos debug</c>: it reads the kernel's symbols from a copy the build links into
/// <c>artifacts/images/&lt;arch&gt;/symbols/</c>, moved to where the loader runs the kernel, then attaches to QEMU's stub.
/// gdb reads no CodeView and ilc writes no function types into it, so each debugger has half: gdb the names, LLDB the lines.
/// </summary>
public static class Debugger
{
    /// <summary>
    /// Where the loader runs each architecture's kernel: the start of its layout's LoaderMappings window
    /// (descriptors/x86/paging.xd), the same in every paging mode of the image; gdb's name for the architecture.
    /// </summary>
    private static readonly Dictionary<string, (ulong KernelBase, string GdbArchitecture)> Targets = new()
    {
        ["amd64"] = (0xFFFF_F800_0000_0000, "i386:x86-64"),
    };

    /// <summary>Debian 12 ships LLDB 14 as lldb and newer ones under their version.</summary>
    private static readonly string[] LldbPrograms = ["lldb-19", "lldb-18", "lldb-17", "lldb-16"];

    /// <summary>The architectures <c>exectos debug</c> knows.</summary>
    public static IReadOnlyCollection<string> Architectures => Targets.Keys;

    public static bool Knows(string architecture) => Targets.ContainsKey(architecture);

    /// <summary>The debugger program on PATH, or null with what to install.</summary>
    public static (string? Program, string Install) Find(DebuggerKind kind)
    {
        if (kind == DebuggerKind.Gdb)
        {
            return (HostProcess.FindOnPath("gdb") is null ? null : "gdb", "gdb");
        }

        foreach (string program in LldbPrograms)
        {
            if (HostProcess.FindOnPath(program) is not null)
            {
                return (program, "lldb-16");
            }
        }

        return (null, "lldb-16");
    }

    /// <summary>The kernel's symbols image for <paramref name="kind"/>: the booted image's code plus a COFF symbol table, or a PDB.</summary>
    public static string SymbolImage(RepositoryLayout repo, ArchitectureProfile profile, DebuggerKind kind) =>
        kind == DebuggerKind.Gdb
            ? Path.Combine(repo.ImagesDirectory(profile.Name), "symbols", BootProtocol.KernelImageName)
            : Path.Combine(repo.ImagesDirectory(profile.Name), "symbols", "pdb", BootProtocol.KernelImageName);

    /// <summary>The debugger's command line: symbols moved from the image's link base to where it runs, attach, then the batch commands.</summary>
    public static ProcessInvocation Build(DebuggerKind kind, string program, ArchitectureProfile profile, string symbolImage, ulong linkBase, IReadOnlyList<string> batchCommands)
    {
        (ulong kernelBase, string architecture) = Targets[profile.Name];
        string offset = string.Create(CultureInfo.InvariantCulture, $"0x{kernelBase - linkBase:x}");
        bool gdb = kind == DebuggerKind.Gdb;
        var args = new List<string>(gdb ? ["-nx", "-q"] : ["--no-lldbinit"]);
        if (batchCommands.Count > 0)
        {
            args.Add(gdb ? "-batch" : "--batch");
        }

        string[] attach = gdb
            ?
            [
                "set pagination off",
                "set confirm off",
                "set architecture " + architecture,
                $"symbol-file {symbolImage} -o {offset}",
                "target remote " + QemuCommandLine.GdbEndpoint,
            ]
            :
            [
                "target create " + symbolImage,
                $"target symbols add {symbolImage}.pdb",
                "gdb-remote " + QemuCommandLine.GdbEndpoint,
                $"target modules load --file {Path.GetFileName(symbolImage)} --slide {offset}",
            ];
        foreach (string command in (IEnumerable<string>)[.. attach, .. batchCommands])
        {
            args.Add(gdb ? "-ex" : "-o");
            args.Add(command);
        }

        return new ProcessInvocation(program, args);
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

    /// <summary>
    /// Waits until something listens on the stub's TCP port (LLDB does not retry a refused connection), read from
    /// /proc/net/tcp so that no probe connects: QEMU takes a connection as a debugger attaching.
    /// </summary>
    public static bool WaitForStub(TimeSpan timeout)
    {
        string port = string.Create(CultureInfo.InvariantCulture, $":{int.Parse(QemuCommandLine.GdbEndpoint.Split(':')[1], CultureInfo.InvariantCulture):X4} ");
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            foreach (string table in (ReadOnlySpan<string>)["/proc/net/tcp", "/proc/net/tcp6"])
            {
                // Columns: sl, local address:port, remote address:port, state (0A is LISTEN).
                foreach (string line in File.Exists(table) ? File.ReadLines(table) : [])
                {
                    string[] columns = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    if (columns.Length > 3 && (columns[1] + " ").EndsWith(port, StringComparison.Ordinal) && columns[3] == "0A")
                    {
                        return true;
                    }
                }
            }

            Thread.Sleep(50);
        }

        return false;
    }
}
