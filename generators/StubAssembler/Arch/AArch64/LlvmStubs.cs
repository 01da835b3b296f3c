using System;
using System.Diagnostics;
using System.IO;
using System.Reflection;

namespace ExectOS.StubAssembler;

/// <summary>
/// The AArch64 stubs come from LLVM's assembler, not Iced (which encodes only x86): Stubs.s, embedded in this
/// program, assembled by Debian's llvm-mc into a COFF ARM64 object. A maintained assembler resolves the system
/// registers' encodings (op0, op1, CRn, CRm, op2) and the branch offsets, where a hand encoder would hide its bugs;
/// the listing comes from llvm-objdump, a disassembler independent of what wrote the bytes.
/// </summary>
public static class LlvmStubs
{
    /// <summary>The name ilc and kernel/Architectures.props give the architecture.</summary>
    public const string Architecture = "arm64";

    /// <summary>The triple that makes llvm-mc write COFF for Windows-style ARM64 images (UEFI's PE32+).</summary>
    public const string Triple = "aarch64-pc-windows-msvc";

    /// <summary>The Debian package both programs come from.</summary>
    public const string Package = "llvm";

    /// <summary>The assembler source as embedded in this program.</summary>
    public static string Source()
    {
        using Stream stream = typeof(LlvmStubs).Assembly.GetManifestResourceStream("ExectOS.StubAssembler.Arch.AArch64.Stubs.s")
            ?? throw new InvalidOperationException("Stubs.s is not embedded in the stub assembler");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>Assembles <see cref="Source"/> into the bytes of a COFF object; throws with llvm-mc's message when it fails.</summary>
    public static byte[] Assemble()
    {
        string directory = Path.Combine(Path.GetTempPath(), "exectos-stubs-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        try
        {
            string source = Path.Combine(directory, "stubs.s"), obj = Path.Combine(directory, "stubs.obj");
            File.WriteAllText(source, Source());
            Run("llvm-mc", $"-triple={Triple}", "-filetype=obj", "-o", obj, source);
            return File.ReadAllBytes(obj);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>llvm-objdump's disassembly of <paramref name="coffObject"/>, without the temporary file's name.</summary>
    public static string Disassemble(byte[] coffObject)
    {
        string path = Path.Combine(Path.GetTempPath(), "exectos-stubs-" + Guid.NewGuid().ToString("N") + ".obj");
        File.WriteAllBytes(path, coffObject);
        try
        {
            string listing = Run("llvm-objdump", "-d", "--no-show-raw-insn", path);
            int start = listing.IndexOf("Disassembly of section", StringComparison.Ordinal);
            return (start < 0 ? listing : listing[start..]).Replace("\r\n", "\n", StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static string Run(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new IOException($"{program} did not start");
        }
        catch (System.ComponentModel.Win32Exception)
        {
            throw new IOException($"{program} not found; run: sudo apt-get install -y {Package}");
        }

        using (process)
        {
            System.Threading.Tasks.Task<string> error = process.StandardError.ReadToEndAsync();
            string output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                throw new IOException($"{program} exited with status {process.ExitCode}: {error.Result.Trim()}");
            }

            return output;
        }
    }
}
