using System;
using System.IO;
using ExectOS.Tool.Boot;
using ExectOS.Tool.Cli;
using Xunit;

namespace ExectOS.Tool.Tests;

/// <summary>The boot command's early exits, which happen before QEMU would start.</summary>
public sealed class BootCommandTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("exectos-tests-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void Aarch64NeedsItsLoaderAndItsKernelLikeTheOthers()
    {
        (int exitCode, string[] lines) = Run(new BootOptions { Architecture = "aarch64", NoBuild = true });

        Assert.Equal(4, exitCode);
        Assert.Equal(["exectos: FAIL missing image " + Path.Combine(_root, "artifacts", "images", "aarch64", "BOOTAA64.EFI")], lines);
        Assert.Equal(
            [Path.Combine(_root, "aarch64", "BOOTAA64.EFI"), Path.Combine(_root, "aarch64", "xtoskrnl.exe")],
            ArchitectureProfile.Aarch64.Images(Path.Combine(_root, "aarch64")));
    }

    [Fact]
    public void MissingImageIsABuildFailure()
    {
        (int exitCode, string[] lines) = Run(new BootOptions { NoBuild = true });

        Assert.Equal(4, exitCode);
        string expected = Path.Combine(_root, "artifacts", "images", "amd64", "BOOTX64.EFI");
        Assert.Equal(["exectos: FAIL missing image " + expected], lines);
    }

    [Fact]
    public void MissingKernelGivenOnTheCommandLineIsNamed()
    {
        string loader = StubEfiImage.WriteTo(_root, "loader.efi", StubEfiImage.Hang("x"));
        string kernel = Path.Combine(_root, "no-such-kernel.exe");

        (int exitCode, string[] lines) = Run(new BootOptions { NoBuild = true, Loader = loader, Kernel = kernel });

        Assert.Equal(4, exitCode);
        Assert.Equal(["exectos: FAIL missing image " + kernel], lines);
    }

    [Fact]
    public void MissingSolutionFailsTheBuildStep()
    {
        (int exitCode, string[] lines) = Run(new BootOptions());

        Assert.Equal(4, exitCode);
        Assert.Equal(
            ["exectos: error: no solution to build at " + Path.Combine(_root, "ExectOS.sln"), "exectos: FAIL build failed"],
            lines);
    }

    private (int ExitCode, string[] Lines) Run(BootOptions options)
    {
        var output = new StringWriter();
        int exitCode = new BootCommand(new RepositoryLayout(_root), output).Run(options);
        return (exitCode, output.ToString().TrimEnd('\n').Split('\n'));
    }
}
