using System.Collections.Generic;

namespace ExectOS.Tool.Cli;

/// <summary>Options of <c>exectos boot</c>; the initial values are the documented defaults.</summary>
public sealed record BootOptions
{
    /// <summary>Default guest memory, in QEMU's notation.</summary>
    public const string DefaultMemory = "512M";

    /// <summary>Default run time before the run is judged hung.</summary>
    public const double DefaultTimeoutSeconds = 60;

    public string Architecture { get; init; } = "amd64";

    public string Memory { get; init; } = DefaultMemory;

    public int Cpus { get; init; } = 1;

    public string Machine { get; init; } = "q35";

    public string CpuModel { get; init; } = "qemu64";

    /// <summary>The <see cref="Kernel"/> value that leaves the kernel off the boot volume.</summary>
    public const string NoKernel = "none";

    /// <summary>Replaces the built kernel image (tests boot corrupted kernels this way); "none" leaves it out.</summary>
    public string? Kernel { get; init; }

    /// <summary>Kernel boot parameters, written to the volume for the loader to check and pass on (e.g. TEST=BUGCHECK).</summary>
    public string? KernelParameters { get; init; }

    /// <summary>Replaces the built loader image.</summary>
    public string? Loader { get; init; }

    public double TimeoutSeconds { get; init; } = DefaultTimeoutSeconds;

    public bool Gdb { get; init; }

    /// <summary><c>exectos debug</c>: QEMU halted with its gdb stub and gdb attached, with the kernel's symbols.</summary>
    public bool Debug { get; init; }

    /// <summary>Which debugger <c>exectos debug</c> attaches (<c>--debugger</c>).</summary>
    public Boot.DebuggerKind Debugger { get; init; } = Boot.DebuggerKind.Gdb;

    /// <summary>Commands the debugger runs in batch mode after attaching (<c>--debugger-command</c>); none: it is interactive.</summary>
    public IReadOnlyList<string> DebuggerCommands { get; init; } = [];

    public bool NoBuild { get; init; }

    /// <summary>Where <c>--report</c> writes the boot report page (HTML with inline SVG), or null for none.</summary>
    public string? Report { get; init; }

    public IReadOnlyList<string> ExtraQemuArguments { get; init; } = [];
}
