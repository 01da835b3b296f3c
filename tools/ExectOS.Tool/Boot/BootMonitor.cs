using System;
using System.Text.RegularExpressions;

namespace ExectOS.Tool.Boot;

/// <summary>The kernel's bug-check line, taken apart.</summary>
public sealed record BugCheck(string Code, string Parameter1, string Parameter2, string Parameter3, string Parameter4, string Name);

/// <summary>Watches clean serial lines for what the verdict needs: loader errors, the STOP line, the last line.</summary>
public sealed partial class BootMonitor
{
    /// <summary>The last line that had any text, for the timeout message.</summary>
    public string? LastLine { get; private set; }

    /// <summary>The text after <see cref="BootProtocol.LoaderErrorPrefix"/> on the first loader error line.</summary>
    public string? LoaderError { get; private set; }

    /// <summary>The text after <see cref="BootProtocol.KernelErrorPrefix"/> on the first kernel error line.</summary>
    public string? KernelError { get; private set; }

    /// <summary>The last STOP line seen; the kernel prints it right before reporting a bug check.</summary>
    public BugCheck? BugCheck { get; private set; }

    /// <summary>Records one line; returns true when the run is decided and QEMU should be stopped now.</summary>
    public bool Observe(string line)
    {
        if (line.Trim().Length > 0)
        {
            LastLine = line;
        }

        // After a loader error the firmware goes on to other boot options and its shell: nothing
        // useful follows, so the first error decides the run.
        string trimmed = line.TrimStart();
        if (LoaderError is null && trimmed.StartsWith(BootProtocol.LoaderErrorPrefix, StringComparison.Ordinal))
        {
            LoaderError = trimmed[BootProtocol.LoaderErrorPrefix.Length..].TrimEnd();
            return true;
        }

        // The bug check that follows still ends the run; the verdict names this reason instead of its parameters.
        if (KernelError is null && trimmed.StartsWith(BootProtocol.KernelErrorPrefix, StringComparison.Ordinal))
        {
            KernelError = trimmed[BootProtocol.KernelErrorPrefix.Length..].TrimEnd();
        }

        BugCheck? bugCheck = ParseBugCheck(line);
        if (bugCheck is not null)
        {
            BugCheck = bugCheck;
        }

        return false;
    }

    /// <summary>Parses <c>*** STOP: 0xCODE (0xP1, 0xP2, 0xP3, 0xP4) NAME</c> anywhere in a line.</summary>
    public static BugCheck? ParseBugCheck(string line)
    {
        if (!line.Contains(BootProtocol.BugCheckMarker, StringComparison.Ordinal))
        {
            return null;
        }

        Match match = StopLine().Match(line);
        if (!match.Success)
        {
            return null;
        }

        return new BugCheck(
            match.Groups["code"].Value,
            match.Groups["p1"].Value,
            match.Groups["p2"].Value,
            match.Groups["p3"].Value,
            match.Groups["p4"].Value,
            match.Groups["name"].Value.Trim());
    }

    [GeneratedRegex(
        @"\*\*\* STOP: (?<code>0x[0-9A-Fa-f]{8}) \((?<p1>0x[0-9A-Fa-f]{16}), (?<p2>0x[0-9A-Fa-f]{16}), (?<p3>0x[0-9A-Fa-f]{16}), (?<p4>0x[0-9A-Fa-f]{16})\)(?: +(?<name>\S.*))?$",
        RegexOptions.CultureInvariant)]
    private static partial Regex StopLine();
}
