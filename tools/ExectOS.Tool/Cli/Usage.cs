using System.Globalization;

namespace ExectOS.Tool.Cli;

/// <summary>The help text, built from the option defaults so the two cannot drift apart.</summary>
public static class Usage
{
    public static string Text
    {
        get
        {
            var defaults = new BootOptions();
            string timeout = defaults.TimeoutSeconds.ToString(CultureInfo.InvariantCulture);
            return $"""
                usage: exectos <command> [options]

                commands:
                  boot    build what is stale, boot ExectOS in QEMU, stream COM1, exit with the kernel's verdict
                  debug   boot halted with QEMU's gdb stub and a debugger attached, knowing the kernel's symbols; boot's options, and:
                            --debugger NAME          gdb (function names, backtraces) or lldb (source lines; LLDB 16) (default gdb)
                            --debugger-command CMD   run CMD in the debugger after attaching, then end (batch mode); repeatable (default none: interactive)
                  test    run the whole test suite (dotnet test) and print one summary line
                  bench   run the benchmarks (Release build), each printed as a ratio against its baseline
                  help    print this text (also --help, -h)

                boot options:
                  --arch ARCH        architecture: amd64, i686 or aarch64 (default {defaults.Architecture}; aarch64: on virt, cortex-a72)
                  --memory SIZE      guest memory as <n>M, <n>G or <n>T; not reserved up front (default {defaults.Memory})
                  --smp N            number of CPUs (default {defaults.Cpus})
                  --machine TYPE     q35 or pc, for amd64 and i686 (default {defaults.Machine})
                  --cpu MODEL        QEMU CPU model, for amd64 and i686 (default {defaults.CpuModel})
                  --kernel FILE      kernel image to boot, or none (default artifacts/images/<arch>/xtoskrnl.exe)
                  --loader FILE      loader image to boot (default artifacts/images/<arch>/BOOTX64.EFI)
                  --params TEXT      kernel boot parameters, e.g. TEST=BUGCHECK (default none)
                  --report FILE      after the boot, write a report page (HTML, inline SVG) from the kernel's data records (default none)
                  --timeout S        seconds before the run counts as hung (default {timeout})
                  --gdb              start halted with a gdb stub on localhost:1234; no timeout (default off)
                  --no-build         boot the existing images without running dotnet build (default off)
                  --qemu-arg ARG     pass ARG to QEMU as is; repeatable (default none)

                test options:
                  --filter EXPR      dotnet test filter expression (default none: every test)
                  --no-boot          skip tests in the Boot category, which start QEMU (default off)

                bench options:
                  --filter TEXT      only benchmarks whose name contains TEXT (default none: all)
                  --rounds N         measured rounds per benchmark (default {BenchOptions.DefaultRounds})

                environment:
                  EXECTOS_KEEP_TEMP=1          keep the boot volume's temporary folder
                  EXECTOS_ACCEPT_SNAPSHOTS     passed through to the tests untouched

                exit status: 0 pass, 1 fail, 2 usage error, 3 missing host tool, 4 build failure or missing image
                """;
        }
    }
}
