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
            "test" => ParseTest(tokens),
            "bench" => ParseBench(tokens),
            _ => ParsedCommand.Failure($"unknown command '{args[0]}'"),
        };
    }

    /// <summary>Boot options that take a value: each checks the value and returns the updated options or an error.</summary>
    private static readonly Dictionary<string, Func<BootOptions, string, (BootOptions Options, string? Error)>> BootValueOptions = new()
    {
        ["--arch"] = (o, v) => (o with { Architecture = v }, CheckArchitecture(v)),
        ["--memory"] = (o, v) => NormalizeMemory(v) is { } m ? (o with { Memory = m }, null) : (o, $"--memory must be <n>M or <n>G, not '{v}'"),
        ["--smp"] = (o, v) => ParseCpus(v) is int n ? (o with { Cpus = n }, null) : (o, $"--smp must be a whole number from 1 to {MaxCpus}, not '{v}'"),
        ["--machine"] = (o, v) => (o with { Machine = v }, v is "q35" or "pc" ? null : $"--machine must be q35 or pc, not '{v}'"),
        ["--cpu"] = (o, v) => (o with { CpuModel = v }, null),
        ["--kernel"] = (o, v) => (o with { Kernel = v }, null),
        ["--loader"] = (o, v) => (o with { Loader = v }, null),
        // Not checked here: the loader owns the rules for parameters, and tests exercise its refusals.
        ["--params"] = (o, v) => (o with { KernelParameters = v }, null),
        ["--timeout"] = (o, v) => ParseTimeout(v) is double s ? (o with { TimeoutSeconds = s }, null) : (o, $"--timeout must be a positive number of seconds, not '{v}'"),
    };

    private static readonly Dictionary<string, Func<BootOptions, BootOptions>> BootFlags = new()
    {
        ["--gdb"] = o => o with { Gdb = true },
        ["--no-build"] = o => o with { NoBuild = true },
    };

    private static ParsedCommand ParseBoot(Tokens tokens)
    {
        var options = new BootOptions();
        var extra = new List<string>();
        while (tokens.Next(out string name, out string? inlineValue))
        {
            string? error;
            if (BootValueOptions.TryGetValue(name, out var apply))
            {
                error = tokens.Value(name, inlineValue, out string value);
                if (error is null)
                {
                    (options, error) = apply(options, value);
                }
            }
            else if (BootFlags.TryGetValue(name, out var set))
            {
                error = NoValue(name, inlineValue);
                options = set(options);
            }
            else if (name == "--qemu-arg")
            {
                // QEMU arguments start with '-', so the next token is taken whatever it looks like.
                error = tokens.RawValue(name, inlineValue, out string qemuArgument);
                extra.Add(qemuArgument);
            }
            else
            {
                error = Unknown(name, "boot");
            }

            if (error is not null)
            {
                return ParsedCommand.Failure(error);
            }
        }

        return new ParsedCommand(CommandKind.Boot, Boot: options with { ExtraQemuArguments = extra });
    }

    private static ParsedCommand ParseTest(Tokens tokens)
    {
        var options = new TestOptions();
        while (tokens.Next(out string name, out string? inlineValue))
        {
            string? error;
            switch (name)
            {
                case "--filter":
                    error = tokens.Value(name, inlineValue, out string filter);
                    options = options with { Filter = filter };
                    break;
                case "--no-boot":
                    error = NoValue(name, inlineValue);
                    options = options with { NoBoot = true };
                    break;
                default:
                    error = Unknown(name, "test");
                    break;
            }

            if (error is not null)
            {
                return ParsedCommand.Failure(error);
            }
        }

        return new ParsedCommand(CommandKind.Test, Test: options);
    }

    private static ParsedCommand ParseBench(Tokens tokens)
    {
        var options = new BenchOptions();
        while (tokens.Next(out string name, out string? inlineValue))
        {
            string? error;
            switch (name)
            {
                case "--filter":
                    error = tokens.Value(name, inlineValue, out string filter);
                    options = options with { Filter = filter };
                    break;
                case "--rounds":
                    error = tokens.Value(name, inlineValue, out string rounds);
                    if (error is null)
                    {
                        error = int.TryParse(rounds, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n is > 0 and <= 1000
                            ? null
                            : $"--rounds must be a whole number from 1 to 1000, not '{rounds}'";
                        options = options with { Rounds = n };
                    }
                    break;
                default:
                    error = Unknown(name, "bench");
                    break;
            }

            if (error is not null)
            {
                return ParsedCommand.Failure(error);
            }
        }

        return new ParsedCommand(CommandKind.Bench, Bench: options);
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

    /// <summary>Accepts <c>&lt;n&gt;M</c> or <c>&lt;n&gt;G</c>; returns QEMU's canonical spelling, or null.</summary>
    private static string? NormalizeMemory(string text)
    {
        if (text.Length < 2)
        {
            return null;
        }

        char unit = char.ToUpperInvariant(text[^1]);
        string digits = text[..^1];
        bool valid = (unit == 'M' || unit == 'G')
            && IsDecimal(digits)
            && long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out long amount)
            && amount > 0
            && amount <= (unit == 'G' ? 1024 : 1024 * 1024);
        return valid ? digits.TrimStart('0') + unit : null;
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

    private static bool IsDecimal(string text)
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
