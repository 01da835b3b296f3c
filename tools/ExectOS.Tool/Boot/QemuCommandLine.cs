using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using ExectOS.Tool.Cli;

namespace ExectOS.Tool.Boot;

/// <summary>A program and its argument vector, passed to the OS without a shell.</summary>
public sealed record ProcessInvocation(string FileName, IReadOnlyList<string> Arguments)
{
    /// <summary>The command as one line a user can paste into a POSIX shell.</summary>
    public string Display()
    {
        var line = new StringBuilder(ShellQuote(FileName));
        foreach (string argument in Arguments)
        {
            line.Append(' ').Append(ShellQuote(argument));
        }

        return line.ToString();
    }

    public static string ShellQuote(string word)
    {
        if (word.Length > 0 && word.AsSpan().IndexOfAnyExcept(SafeCharacters) < 0)
        {
            return word;
        }

        return "'" + word.Replace("'", @"'\''", StringComparison.Ordinal) + "'";
    }

    private static readonly System.Buffers.SearchValues<char> SafeCharacters = System.Buffers.SearchValues.Create(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.,:/=+@%");
}

/// <summary>Builds the QEMU command line for one boot.</summary>
public static class QemuCommandLine
{
    /// <summary>Where <c>--gdb</c> makes QEMU listen (its <c>-s</c> default).</summary>
    public const string GdbEndpoint = "localhost:1234";

    /// <summary>The id of the guest RAM's memory backend.</summary>
    public const string RamBackendId = "ram";

    /// <param name="unreservedRam">
    /// Back guest RAM with a memory-backend-ram that reserves nothing (QEMU 6.1 and later): host memory is taken only
    /// for the pages the guest touches, so a guest larger than the host boots.
    /// </param>
    public static ProcessInvocation Build(ArchitectureProfile profile, BootOptions options, string firmwareVars, string volumeDirectory, bool unreservedRam = true)
    {
        string board = profile.Board ?? options.Machine;
        string machine = profile.SecureBootFirmware ? board + ",smm=on" : board;
        var args = new List<string>
        {
            "-machine", machine,
            "-m", options.Memory,
            "-smp", options.Cpus.ToString(CultureInfo.InvariantCulture),
            "-cpu", profile.Processor ?? GuestAddressSpace.FitCpu(options.Machine, options.Memory, options.CpuModel).CpuModel,
            "-display", "none",
            "-no-reboot",
            "-serial", "stdio",
            "-monitor", "none",
            "-net", "none",
        };

        // Several guest processors run on several host threads (QEMU's multi-threaded TCG): their races are real.
        if (options.Cpus > 1)
            args.AddRange(["-accel", "tcg,thread=multi"]);

        if (unreservedRam)
        {
            // A second -machine adds to the first, so the line starts as it always has.
            args.AddRange(["-object", $"memory-backend-ram,id={RamBackendId},size={options.Memory},reserve=off", "-machine", "memory-backend=" + RamBackendId]);
        }

        if (profile.SecureBootFirmware)
        {
            // The secure-boot OVMF refuses to start unless its flash is only writable from SMM.
            args.Add("-global");
            args.Add("driver=cfi.pflash01,property=secure,value=on");
        }

        args.Add("-drive");
        args.Add("if=pflash,format=raw,unit=0,readonly=on,file=" + EscapeOptionValue(profile.FirmwareCode));
        args.Add("-drive");
        args.Add("if=pflash,format=raw,unit=1,file=" + EscapeOptionValue(firmwareVars));

        // The volume is read-only (the loader only reads), and QEMU's IDE/AHCI disks refuse a
        // read-only drive ("Block node is read-only"), so it is attached as virtio-blk, which OVMF boots.
        args.Add("-drive");
        args.Add("if=virtio,format=raw,readonly=on,file=fat:" + EscapeOptionValue(volumeDirectory));

        if (profile.DebugExitDevice)
        {
            args.Add("-device");
            args.Add(string.Create(
                CultureInfo.InvariantCulture,
                $"isa-debug-exit,iobase=0x{BootProtocol.DebugExitPort:x},iosize=0x{BootProtocol.DebugExitPortSize:x2}"));
        }

        if (profile.Semihosting)
        {
            // target=native: the guest's SYS_EXIT ends QEMU with its status; no other semihosting call is made.
            args.Add("-semihosting-config");
            args.Add("enable=on,target=native");
        }

        if (options.Gdb)
        {
            args.Add("-s");
            args.Add("-S");
        }

        args.AddRange(options.ExtraQemuArguments);
        return new ProcessInvocation(profile.QemuBinary, args);
    }

    /// <summary>QEMU option values end at a comma; a literal comma is written twice.</summary>
    public static string EscapeOptionValue(string value) => value.Replace(",", ",,", StringComparison.Ordinal);
}
