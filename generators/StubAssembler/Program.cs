using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace ExectOS.StubAssembler;

/// <summary>Command line: <c>exectos-stubs --arch x64|x86|arm64 --out file.obj [--listing file.txt]</c>.</summary>
public static class Program
{
    private const int Success = 0;
    private const int Failure = 1;
    private const int Usage = 2;

    public static int Main(string[] args)
    {
        if (!TryParse(args, out Options options, out string error))
        {
            Console.Error.WriteLine($"exectos-stubs: {error} (usage: exectos-stubs --arch x64|x86|arm64 --out <file.obj> [--listing <file.txt>])");
            return Usage;
        }

        try
        {
            if (options.Llvm)
            {
                byte[] coff = LlvmStubs.Assemble();
                WriteFile(options.Output, coff);
                if (options.Listing is not null)
                {
                    WriteFile(options.Listing, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetBytes(LlvmStubs.Disassemble(coff)));
                }

                return Success;
            }

            StubImage image = StubImage.Build(options.Architecture);
            WriteFile(options.Output, CoffWriter.Write(image));
            if (options.Listing is not null)
            {
                WriteFile(options.Listing, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetBytes(Listing.Format(image)));
            }

            return Success;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"exectos-stubs: {e.Message}");
            return Failure;
        }
    }

    /// <param name="Llvm">The architecture's stubs come from LLVM's assembler (<see cref="LlvmStubs"/>), not Iced.</param>
    private sealed record Options(StubArchitecture Architecture, string Output, string? Listing, bool Llvm = false);

    private static bool TryParse(string[] args, out Options options, out string error)
    {
        options = null!;
        var values = new Dictionary<string, string>();
        for (int i = 0; i < args.Length; i += 2)
        {
            string name = args[i];
            if (name is not ("--arch" or "--out" or "--listing"))
            {
                error = $"unknown argument '{name}'";
                return false;
            }

            if (i + 1 >= args.Length || args[i + 1].Length == 0)
            {
                error = $"{name} needs a value";
                return false;
            }

            if (!values.TryAdd(name, args[i + 1]))
            {
                error = $"{name} given twice";
                return false;
            }
        }

        if (!values.TryGetValue("--arch", out string? arch) || !values.TryGetValue("--out", out string? output))
        {
            error = values.ContainsKey("--arch") ? "--out is required" : "--arch is required";
            return false;
        }

        if (arch == LlvmStubs.Architecture)
        {
            options = new Options(default, output, values.GetValueOrDefault("--listing"), Llvm: true);
            error = "";
            return true;
        }

        if (!StubArchitectures.TryParse(arch, out StubArchitecture architecture))
        {
            error = $"unknown architecture '{arch}'";
            return false;
        }

        options = new Options(architecture, output, values.GetValueOrDefault("--listing"));
        error = "";
        return true;
    }

    // Rewrites only changed files, so an unchanged object does not trigger a relink.
    private static void WriteFile(string path, byte[] contents)
    {
        string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        if (File.Exists(path) && File.ReadAllBytes(path).AsSpan().SequenceEqual(contents))
        {
            return;
        }

        File.WriteAllBytes(path, contents);
    }
}
