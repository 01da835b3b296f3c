using System;
using System.Collections.Generic;
using System.Globalization;
using ExectOS.Tool.Boot;

namespace ExectOS.Tool.Cli;

/// <summary>Strict parser for the exectos command line; reports the first problem as a value.</summary>
public static class CommandLine
{
    private const int MaxCpus = 255;

    public static ParsedCommand Parse(IReadOnlyList<string> args)
    {
        if (args.Count == 0)
        {
            return new ParsedCommand(CommandKind.None);
        }

        foreach (string arg in args)
        {
            if (arg is "--help" or "-h")
            {
                return new ParsedCommand(CommandKind.Help);
            }
        }

        var tokens = new Tokens(args, start: 1);
        return args[0] switch
        {
            "help" => new ParsedCommand(CommandKind.Help),
            "boot" => ParseBoot(tokens),
            "debug" => ParseBoot(tokens, debug: true),
            "test" => ParseTest(tokens),
            "bench" => ParseBench(tokens),
            _ => ParsedCommand.Failure($"unknown command '{args[0]}'"),
        };
    }

    /// <summary>Boot options that take a value: each checks the value and returns the updated options or an error.</summary>
    private static readonly Dictionary<string, Func<BootOptions, string, (BootOptions Options, string? Error)>> BootValueOptions = new()
    {
        ["--arch"] = (o, v) => (o with { Architecture = v }, CheckArchitecture(v)),
        ["--memory"] = (o, v) => MemorySize.Normalize(v) is { } m ? (o with { Memory = m }, null) : (o, $"--memory must be <n>M, <n>G or <n>T, not '{v}'"),
        ["--smp"] = (o, v) => ParseCpus(v) is int n ? (o with { Cpus = n }, null) : (o, $"--smp must be a whole number from 1 to {MaxCpus}, not '{v}'"),
        ["--machine"] = (o, v) => (o with { Machine = v }, v is "q35" or "pc" ? null : $"--machine must be q35 or pc, not '{v}'"),
        ["--cpu"] = (o, v) => (o with { CpuModel = v }, null),
        ["--kernel"] = (o, v) => (o with { Kernel = v }, null),
        ["--loader"] = (o, v) => (o with { Loader = v }, null),
        // Not checked here: the loader owns the rules for parameters, and tests exercise its refusals.
        ["--params"] = (o, v) => (o with { KernelParameters = v }, null),
        ["--report"] = (o, v) => (o with { Report = v }, ReportFolderError(v)),
        ["--timeout"] = (o, v) => ParseTimeout(v) is double s ? (o with { TimeoutSeconds = s }, null) : (o, $"--timeout must be a positive number of seconds, not '{v}'"),
    };

    /// <summary>The report is written after the boot: a folder that is not there is said before it.</summary>
    private static string? ReportFolderError(string path)
    {
        string? folder = path.Length == 0 ? null : System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        return folder is null || path.EndsWith('/') ? $"--report takes a file name, not '{path}'"
            : System.IO.Directory.Exists(folder) ? null : $"--report: folder {folder} does not exist";
    }

    private static readonly Dictionary<string, Func<BootOptions, BootOptions>> BootFlags = new()
    {
        ["--gdb"] = o => o with { Gdb = true },
        ["--no-build"] = o => o with { NoBuild = true },
    };

    /// <summary><c>boot</c>, or <c>debug</c>: the same options with the gdb stub always on, and gdb's batch commands.</summary>
    private static ParsedCommand ParseBoot(Tokens tokens, bool debug = false)
    {
        // QEMU arguments start with '-', so the value of --qemu-arg is taken whatever it looks like.
        var raw = new Dictionary<string, Func<BootOptions, string, (BootOptions, string?)>>
        {
            ["--qemu-arg"] = (o, v) => (o with { ExtraQemuArguments = [.. o.ExtraQemuArguments, v] }, null),
        };
        var values = BootValueOptions;
        if (debug)
        {
            raw["--debugger-command"] = (o, v) => (o with { DebuggerCommands = [.. o.DebuggerCommands, v] }, null);
            values = new(BootValueOptions)
            {
                ["--debugger"] = (o, v) => v switch
                {
                    "gdb" => (o with { Debugger = DebuggerKind.Gdb }, null),
                    "lldb" => (o with { Debugger = DebuggerKind.Lldb }, null),
                    _ => (o, $"--debugger must be gdb or lldb, not '{v}'"),
                },
            };
        }

        var start = new BootOptions { Gdb = debug, Debug = debug };
        (BootOptions options, string? error) = ParseOptions(tokens, start, debug ? "debug" : "boot", values, BootFlags, raw);
        error ??= GuestAddressSpace.FitCpu(options.Machine, options.Memory, options.CpuModel).Error;
        // A debugger session ends with the debugger's verdict, not the kernel's, so there is no data to report.
        error ??= debug && options.Report is not null ? "--report is an option of exectos boot, not of exectos debug" : null;
        return error is null ? new ParsedCommand(debug ? CommandKind.Debug : CommandKind.Boot, Boot: options) : ParsedCommand.Failure(error);
    }

    private static readonly Dictionary<string, Func<TestOptions, string, (TestOptions, string?)>> TestValueOptions = new()
    {
        ["--filter"] = (o, v) => (o with { Filter = v }, null),
    };

    private static readonly Dictionary<string, Func<TestOptions, TestOptions>> TestFlags = new()
    {
        ["--no-boot"] = o => o with { NoBoot = true },
    };

    private static ParsedCommand ParseTest(Tokens tokens)
    {
        (TestOptions options, string? error) = ParseOptions(tokens, new TestOptions(), "test", TestValueOptions, TestFlags);
        return error is null ? new ParsedCommand(CommandKind.Test, Test: options) : ParsedCommand.Failure(error);
    }

    private static readonly Dictionary<string, Func<BenchOptions, string, (BenchOptions, string?)>> BenchValueOptions = new()
    {
        ["--filter"] = (o, v) => (o with { Filter = v }, null),
        ["--rounds"] = (o, v) => int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n is > 0 and <= 1000
            ? (o with { Rounds = n }, null)
            : (o, $"--rounds must be a whole number from 1 to 1000, not '{v}'"),
    };

    private static ParsedCommand ParseBench(Tokens tokens)
    {
        (BenchOptions options, string? error) = ParseOptions(tokens, new BenchOptions(), "bench", BenchValueOptions, new Dictionary<string, Func<BenchOptions, BenchOptions>>());
        return error is null ? new ParsedCommand(CommandKind.Bench, Bench: options) : ParsedCommand.Failure(error);
    }

    /// <summary>One loop for every command: options with values, flags, and options whose value may look like an option.</summary>
    private static (T Options, string? Error) ParseOptions<T>(
        Tokens tokens,
        T options,
        string command,
        Dictionary<string, Func<T, string, (T, string?)>> values,
        Dictionary<string, Func<T, T>> flags,
        Dictionary<string, Func<T, string, (T, string?)>>? raw = null)
    {
        while (tokens.Next(out string name, out string? inlineValue))
        {
            string? error;
            if (values.TryGetValue(name, out var apply))
            {
                error = tokens.Value(name, inlineValue, out string value);
                if (error is null)
                {
                    (options, error) = apply(options, value);
                }
            }
            else if (flags.TryGetValue(name, out var set))
            {
                error = NoValue(name, inlineValue);
                options = set(options);
            }
            else if (raw is not null && raw.TryGetValue(name, out var applyRaw))
            {
                error = tokens.RawValue(name, inlineValue, out string value);
                if (error is null)
                {
                    (options, error) = applyRaw(options, value);
                }
            }
            else
            {
                error = Unknown(name, command);
            }

            if (error is not null)
            {
                return (options, error);
            }
        }

        return (options, null);
    }

    private static string? CheckArchitecture(string arch)
    {
        if (ArchitectureProfile.Find(arch) is not null)
        {
            return null;
        }

        var names = new List<string>();
        foreach (ArchitectureProfile profile in ArchitectureProfile.All)
        {
            names.Add(profile.Name);
        }

        return $"--arch must be one of {string.Join(", ", names)}, not '{arch}'";
    }

    private static int? ParseCpus(string text) =>
        IsDecimal(text)
        && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int cpus)
        && cpus >= 1
        && cpus <= MaxCpus
            ? cpus
            : null;

    private static double? ParseTimeout(string text) =>
        double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double seconds)
        && seconds > 0
        && seconds <= TimeSpan.FromDays(1).TotalSeconds
            ? seconds
            : null;

    internal static bool IsDecimal(string text)
    {
        if (text.Length == 0)
        {
            return false;
        }

        foreach (char c in text)
        {
            if (c is < '0' or > '9')
            {
                return false;
            }
        }

        return true;
    }

    private static string? NoValue(string name, string? inlineValue) =>
        inlineValue is null ? null : $"option {name} takes no value";

    private static string Unknown(string name, string command) =>
        name.StartsWith('-') ? $"unknown option '{name}' for {command}" : $"unexpected argument '{name}'";

    /// <summary>Walks the arguments after the command, splitting <c>--name=value</c>.</summary>
    private sealed class Tokens(IReadOnlyList<string> args, int start)
    {
        private int _index = start;

        public bool Next(out string name, out string? inlineValue)
        {
            inlineValue = null;
            if (_index >= args.Count)
            {
                name = string.Empty;
                return false;
            }

            name = args[_index++];
            int equals = name.IndexOf('=', StringComparison.Ordinal);
            if (name.StartsWith("--", StringComparison.Ordinal) && equals > 2)
            {
                inlineValue = name[(equals + 1)..];
                name = name[..equals];
            }

            return true;
        }

        /// <summary>Takes a value that must not look like another option, so a forgotten value is reported.</summary>
        public string? Value(string name, string? inlineValue, out string value)
        {
            if (inlineValue is null && _index < args.Count && args[_index].StartsWith("--", StringComparison.Ordinal))
            {
                value = string.Empty;
                return $"option {name} needs a value";
            }

            string? error = RawValue(name, inlineValue, out value);
            return error ?? (value.Length == 0 ? $"option {name} needs a non-empty value" : null);
        }

        public string? RawValue(string name, string? inlineValue, out string value)
        {
            if (inlineValue is not null)
            {
                value = inlineValue;
                return null;
            }

            if (_index >= args.Count)
            {
                value = string.Empty;
                return $"option {name} needs a value";
            }

            value = args[_index++];
            return null;
        }
    }
}
