using ExectOS.Tool.Cli;
using Xunit;

namespace ExectOS.Tool.Tests;

public sealed class CommandLineTests
{
    [Fact]
    public void BootDefaults()
    {
        ParsedCommand command = CommandLine.Parse(["boot"]);

        Assert.Equal(CommandKind.Boot, command.Kind);
        BootOptions options = command.Boot!;
        Assert.Equal("amd64", options.Architecture);
        Assert.Equal("512M", options.Memory);
        Assert.Equal(1, options.Cpus);
        Assert.Equal("q35", options.Machine);
        Assert.Equal("qemu64", options.CpuModel);
        Assert.Equal(60, options.TimeoutSeconds);
        Assert.Null(options.Kernel);
        Assert.Null(options.Loader);
        Assert.False(options.Gdb);
        Assert.False(options.NoBuild);
        Assert.Empty(options.ExtraQemuArguments);
    }

    [Fact]
    public void BenchDefaultsAndOptions()
    {
        Assert.Equal(new BenchOptions(), CommandLine.Parse(["bench"]).Bench);
        Assert.Equal(BenchOptions.DefaultRounds, CommandLine.Parse(["bench"]).Bench!.Rounds);
        ParsedCommand command = CommandLine.Parse(["bench", "--filter", "MapRange", "--rounds=5"]);
        Assert.Equal(CommandKind.Bench, command.Kind);
        Assert.Equal(new BenchOptions { Filter = "MapRange", Rounds = 5 }, command.Bench);
    }

    [Theory]
    [InlineData("--rounds", "0")]
    [InlineData("--rounds", "many")]
    [InlineData("--memory", "1G")]
    public void BenchRefusesBadOptions(string option, string value)
    {
        ParsedCommand command = CommandLine.Parse(["bench", option, value]);
        Assert.True(command.IsError);
        Assert.Contains(option, command.Error);
    }

    [Fact]
    public void BootParamsArePassedThroughUnchecked()
    {
        Assert.Equal("TEST=BUGCHECK\tX", CommandLine.Parse(["boot", "--params", "TEST=BUGCHECK\tX"]).Boot!.KernelParameters);
    }

    [Fact]
    public void BootEveryOption()
    {
        ParsedCommand command = CommandLine.Parse(
        [
            "boot", "--arch", "i686", "--memory", "2g", "--smp", "4", "--machine", "pc", "--kernel", "k.exe",
            "--loader=l.efi", "--timeout", "7.5", "--gdb", "--no-build", "--cpu", "max,+la57",
            "--qemu-arg", "-d", "--qemu-arg=int,cpu_reset", "--qemu-arg", "--help-not-for-us",
        ]);

        Assert.Null(command.Error);
        BootOptions options = command.Boot!;
        Assert.Equal("i686", options.Architecture);
        Assert.Equal("2G", options.Memory);
        Assert.Equal(4, options.Cpus);
        Assert.Equal("pc", options.Machine);
        Assert.Equal("k.exe", options.Kernel);
        Assert.Equal("l.efi", options.Loader);
        Assert.Equal(7.5, options.TimeoutSeconds);
        Assert.True(options.Gdb);
        Assert.True(options.NoBuild);
        Assert.Equal("max,+la57", options.CpuModel);
        Assert.Equal(["-d", "int,cpu_reset", "--help-not-for-us"], options.ExtraQemuArguments);
    }

    [Theory]
    [InlineData("512M", "512M")]
    [InlineData("0064m", "64M")]
    [InlineData("1G", "1G")]
    [InlineData("48g", "48G")]
    [InlineData("1024G", "1024G")]
    [InlineData("1t", "1T")]
    [InlineData("4T", "4T")]
    public void MemoryAcceptsMegabytesGigabytesAndTerabytes(string value, string expected)
    {
        Assert.Equal(expected, CommandLine.Parse(["boot", "--memory", value]).Boot!.Memory);
    }

    [Theory]
    [InlineData(new[] { "boot", "--memory", "12Q" }, "--memory must be <n>M, <n>G or <n>T, not '12Q'")]
    [InlineData(new[] { "boot", "--memory", "0M" }, "--memory must be <n>M, <n>G or <n>T, not '0M'")]
    [InlineData(new[] { "boot", "--memory", "512" }, "--memory must be <n>M, <n>G or <n>T, not '512'")]
    [InlineData(new[] { "boot", "--memory", "-5M" }, "--memory must be <n>M, <n>G or <n>T, not '-5M'")]
    [InlineData(new[] { "boot", "--memory", "1.5G" }, "--memory must be <n>M, <n>G or <n>T, not '1.5G'")]
    [InlineData(new[] { "boot", "--memory", "99999999999T" }, "--memory must be <n>M, <n>G or <n>T, not '99999999999T'")]
    [InlineData(new[] { "boot", "--memory", "8192T" }, "--memory 8192T on q35 uses guest-physical addresses up to 0x2001077FFFFFFF (54 bits); QEMU's x86 processors have at most 52")]
    [InlineData(new[] { "boot", "--memory", "1T", "--cpu", "max,phys-bits=41" }, "--memory 1T on q35 uses guest-physical addresses up to 0x2077FFFFFFF (42 bits); --cpu max,phys-bits=41 gives 41")]
    [InlineData(new[] { "boot", "--memory", "1T", "--machine", "pc", "--cpu", "max,phys-bits=40" }, "--memory 1T on pc uses guest-physical addresses up to 0x1FFBFFFFFFF (41 bits); --cpu max,phys-bits=40 gives 40")]
    [InlineData(new[] { "boot", "--smp", "0" }, "--smp must be a whole number from 1 to 255, not '0'")]
    [InlineData(new[] { "boot", "--smp", "256" }, "--smp must be a whole number from 1 to 255, not '256'")]
    [InlineData(new[] { "boot", "--smp", "two" }, "--smp must be a whole number from 1 to 255, not 'two'")]
    [InlineData(new[] { "boot", "--machine", "foo" }, "--machine must be q35 or pc, not 'foo'")]
    [InlineData(new[] { "boot", "--arch", "arm64" }, "--arch must be one of amd64, i686, aarch64, not 'arm64'")]
    [InlineData(new[] { "boot", "--timeout", "0" }, "--timeout must be a positive number of seconds, not '0'")]
    [InlineData(new[] { "boot", "--timeout", "-3" }, "--timeout must be a positive number of seconds, not '-3'")]
    [InlineData(new[] { "boot", "--timeout", "soon" }, "--timeout must be a positive number of seconds, not 'soon'")]
    [InlineData(new[] { "boot", "--frobnicate" }, "unknown option '--frobnicate' for boot")]
    [InlineData(new[] { "boot", "extra" }, "unexpected argument 'extra'")]
    [InlineData(new[] { "boot", "--kernel" }, "option --kernel needs a value")]
    [InlineData(new[] { "boot", "--kernel", "--no-build" }, "option --kernel needs a value")]
    [InlineData(new[] { "boot", "--kernel=" }, "option --kernel needs a non-empty value")]
    [InlineData(new[] { "boot", "--qemu-arg" }, "option --qemu-arg needs a value")]
    [InlineData(new[] { "boot", "--gdb=yes" }, "option --gdb takes no value")]
    [InlineData(new[] { "test", "--filter" }, "option --filter needs a value")]
    [InlineData(new[] { "test", "--no-build" }, "unknown option '--no-build' for test")]
    [InlineData(new[] { "flash" }, "unknown command 'flash'")]
    public void RejectsBadInput(string[] args, string error)
    {
        ParsedCommand command = CommandLine.Parse(args);

        Assert.True(command.IsError);
        Assert.Equal(error, command.Error);
    }

    [Fact]
    public void DebugTakesBootsOptionsWithTheStubOnAndGdbCommands()
    {
        ParsedCommand command = CommandLine.Parse(["debug", "--memory", "1G", "--debugger-command", "break KeStartSystem", "--debugger-command=bt"]);

        Assert.Equal(CommandKind.Debug, command.Kind);
        Assert.Equal(new BootOptions { Memory = "1G", Gdb = true, Debug = true, DebuggerCommands = command.Boot!.DebuggerCommands }, command.Boot);
        Assert.Equal(["break KeStartSystem", "bt"], command.Boot.DebuggerCommands);
        Assert.Equal(Tool.Boot.DebuggerKind.Gdb, command.Boot.Debugger);
        Assert.Equal(Tool.Boot.DebuggerKind.Lldb, CommandLine.Parse(["debug", "--debugger", "lldb"]).Boot!.Debugger);
        Assert.Equal("--debugger must be gdb or lldb, not 'windbg'", CommandLine.Parse(["debug", "--debugger", "windbg"]).Error);
        Assert.Equal("unknown option '--debugger-command' for boot", CommandLine.Parse(["boot", "--debugger-command", "bt"]).Error);
        Assert.Equal("unknown option '--debugger' for boot", CommandLine.Parse(["boot", "--debugger", "gdb"]).Error);
    }

    [Fact]
    public void TestOptions()
    {
        Assert.Equal(new TestOptions(), CommandLine.Parse(["test"]).Test);
        Assert.Equal(
            new TestOptions { Filter = "FullyQualifiedName~Pfn", NoBoot = true },
            CommandLine.Parse(["test", "--filter", "FullyQualifiedName~Pfn", "--no-boot"]).Test);
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    [InlineData("help")]
    [InlineData("boot --memory 12Q --help")]
    public void HelpWins(string commandLine)
    {
        Assert.Equal(CommandKind.Help, CommandLine.Parse(commandLine.Split(' ')).Kind);
    }

    [Fact]
    public void NoArgumentsIsNeitherHelpNorError()
    {
        ParsedCommand command = CommandLine.Parse([]);

        Assert.Equal(CommandKind.None, command.Kind);
        Assert.False(command.IsError);
    }

    [Fact]
    public void UsageListsEveryOptionWithItsDefault()
    {
        string usage = Usage.Text;
        foreach (string option in new[]
        {
            "--arch", "--memory", "--smp", "--machine", "--kernel", "--loader", "--timeout", "--gdb", "--no-build",
            "--cpu", "--qemu-arg", "--filter", "--no-boot",
        })
        {
            Assert.Contains(option + " ", usage);
        }

        Assert.Contains("(default 512M)", usage);
        Assert.Contains("(default 60)", usage);
        Assert.Contains("(default qemu64)", usage);
    }
}
