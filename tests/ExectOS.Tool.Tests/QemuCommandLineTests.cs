using System.Linq;
using ExectOS.Tool.Boot;
using ExectOS.Tool.Cli;
using Xunit;

namespace ExectOS.Tool.Tests;

public sealed class QemuCommandLineTests
{
    [Fact]
    public void Amd64DefaultCommandLine()
    {
        ProcessInvocation qemu = QemuCommandLine.Build(ArchitectureProfile.Amd64, new BootOptions(), "/tmp/x/vars.fd", "/tmp/x/volume");

        Assert.Equal("qemu-system-x86_64", qemu.FileName);
        Assert.Equal(
            [
                "-machine", "q35", "-m", "512M", "-smp", "1", "-cpu", "qemu64", "-display", "none", "-no-reboot",
                "-serial", "stdio", "-monitor", "none", "-net", "none",
                "-object", "memory-backend-ram,id=ram,size=512M,reserve=off", "-machine", "memory-backend=ram",
                "-drive", "if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE.fd",
                "-drive", "if=pflash,format=raw,unit=1,file=/tmp/x/vars.fd",
                "-drive", "if=virtio,format=raw,readonly=on,file=fat:/tmp/x/volume",
                "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
            ],
            qemu.Arguments);
    }

    [Fact]
    public void Aarch64RunsOnTheVirtBoardWithAavmfAndSemihostingInsteadOfTheDebugExitDevice()
    {
        ProcessInvocation amd64 = QemuCommandLine.Build(ArchitectureProfile.Amd64, new BootOptions(), "/tmp/x/vars.fd", "/tmp/x/volume");
        ProcessInvocation qemu = QemuCommandLine.Build(ArchitectureProfile.Aarch64, new BootOptions { Architecture = "aarch64" }, "/tmp/x/vars.fd", "/tmp/x/volume");

        Assert.Equal("qemu-system-aarch64", qemu.FileName);
        // The x86 line with the board, the processor and the firmware replaced, and semihosting (the kernel's SYS_EXIT)
        // where the isa-debug-exit device was.
        string[] expected = amd64.Arguments.Take(amd64.Arguments.Count - 2)
            .Select(a => a switch { "q35" => "virt", "qemu64" => "cortex-a72", _ => a.Replace("/OVMF/OVMF_", "/AAVMF/AAVMF_", System.StringComparison.Ordinal) })
            .Concat(["-semihosting-config", "enable=on,target=native"])
            .ToArray();
        Assert.Equal(expected, qemu.Arguments);
        Assert.Contains("if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/AAVMF/AAVMF_CODE.fd", qemu.Arguments);
    }

    [Fact]
    public void OptionsAndExtrasLandInTheCommandLine()
    {
        var options = new BootOptions
        {
            Memory = "1G",
            Cpus = 2,
            Machine = "pc",
            CpuModel = "max",
            Gdb = true,
            ExtraQemuArguments = ["-d", "int"],
        };
        ProcessInvocation qemu = QemuCommandLine.Build(ArchitectureProfile.Amd64, options, "/v,1/vars.fd", "/v,1/volume");

        string line = qemu.Display();
        Assert.StartsWith("qemu-system-x86_64 -machine pc -m 1G -smp 2 -cpu max ", line);
        // Two processors: multi-threaded TCG, so the guest's processors race for real.
        Assert.Contains(" -net none -accel tcg,thread=multi -object memory-backend-ram,id=ram,size=1G,reserve=off -machine memory-backend=ram -drive ", line);
        Assert.Contains("file=/v,,1/vars.fd", line);
        Assert.Contains("file=fat:/v,,1/volume", line);
        Assert.EndsWith(" -s -S -d int", line);
    }

    [Fact]
    public void I686UsesTheSecureBootFirmwareWithSmm()
    {
        ProcessInvocation qemu = QemuCommandLine.Build(ArchitectureProfile.I686, new BootOptions { Architecture = "i686" }, "/t/vars.fd", "/t/volume");

        string line = qemu.Display();
        Assert.Equal("qemu-system-x86_64", qemu.FileName);
        Assert.Contains("-machine q35,smm=on ", line);
        Assert.Contains("-global driver=cfi.pflash01,property=secure,value=on ", line);
        Assert.Contains("file=/usr/share/OVMF/OVMF32_CODE_4M.secboot.fd", line);
        Assert.Equal("BOOTIA32.EFI", ArchitectureProfile.I686.BootFileName);
        Assert.Equal("/usr/share/OVMF/OVMF32_VARS_4M.fd", ArchitectureProfile.I686.FirmwareVars);
    }

    [Fact]
    public void WithoutUnreservedRamQemuReservesItWithPlainDashM()
    {
        ProcessInvocation qemu = QemuCommandLine.Build(ArchitectureProfile.Amd64, new BootOptions(), "/t/vars.fd", "/t/volume", unreservedRam: false);

        Assert.StartsWith("qemu-system-x86_64 -machine q35 -m 512M -smp 1 -cpu qemu64 ", qemu.Display());
        Assert.DoesNotContain("-object", qemu.Arguments);
    }

    [Theory]
    [InlineData("48G", "qemu64", "-m 48G -smp 1 -cpu qemu64 ")]
    [InlineData("48G", "qemu64", "-object memory-backend-ram,id=ram,size=48G,reserve=off ")]
    [InlineData("1T", "qemu64", "-m 1T -smp 1 -cpu qemu64,phys-bits=42,+pdpe1gb ")]
    [InlineData("1T", "qemu64", "-object memory-backend-ram,id=ram,size=1T,reserve=off ")]
    [InlineData("1T", "max,phys-bits=48", "-cpu max,phys-bits=48 ")]
    public void BigGuestsGetTheAddressBitsTheyNeed(string memory, string cpu, string expected)
    {
        ProcessInvocation qemu = QemuCommandLine.Build(ArchitectureProfile.Amd64, new BootOptions { Memory = memory, CpuModel = cpu }, "/t/vars.fd", "/t/volume");

        Assert.Contains(" " + expected, qemu.Display());
    }

    [Theory]
    [InlineData("plain-word_1.2:/x=y,z", "plain-word_1.2:/x=y,z")]
    [InlineData("two words", "'two words'")]
    [InlineData("it's", "'it'\\''s'")]
    [InlineData("", "''")]
    [InlineData("$HOME", "'$HOME'")]
    public void DisplayQuotesForAShell(string word, string quoted)
    {
        Assert.Equal(quoted, ProcessInvocation.ShellQuote(word));
    }
}
