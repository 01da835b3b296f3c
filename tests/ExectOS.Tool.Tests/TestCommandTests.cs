using ExectOS.Tool.Boot;
using ExectOS.Tool.Cli;
using ExectOS.Tool.Testing;
using Xunit;

namespace ExectOS.Tool.Tests;

public sealed class TestCommandTests
{
    [Theory]
    [InlineData(null, false, null)]
    [InlineData(null, true, "Category!=Boot")]
    [InlineData("Name~Pfn", false, "Name~Pfn")]
    [InlineData("Name~Pfn|Name~Pool", true, "(Name~Pfn|Name~Pool)&Category!=Boot")]
    public void CombinesFilters(string? filter, bool noBoot, string? expected)
    {
        Assert.Equal(expected, TestCommand.CombineFilter(new TestOptions { Filter = filter, NoBoot = noBoot }));
    }

    [Fact]
    public void DotnetTestCommandLine()
    {
        ProcessInvocation command = TestCommand.Command("/r/ExectOS.sln", "/r/artifacts/test-results", new TestOptions { NoBoot = true });

        Assert.Equal("dotnet", command.FileName);
        Assert.Equal(
            [
                "test", "/r/ExectOS.sln", "-nologo", "--logger", "trx;LogFilePrefix=results",
                "--results-directory", "/r/artifacts/test-results", "--filter", "Category!=Boot",
            ],
            command.Arguments);
    }

    [Fact]
    public void AssemblyCommandLineRunsTheBuiltAssembliesWithoutMSBuild()
    {
        ProcessInvocation command = TestCommand.AssemblyCommand(["/r/a/A.Tests.dll", "/r/b/B.Tests.dll"], "/r/artifacts/test-results", new TestOptions { Filter = "Name~Pfn" });

        Assert.Equal("dotnet", command.FileName);
        Assert.Equal(
            [
                "test", "/r/a/A.Tests.dll", "/r/b/B.Tests.dll", "--logger", "trx;LogFilePrefix=results",
                "--results-directory", "/r/artifacts/test-results", "--filter", "Name~Pfn", "--", "RunConfiguration.MaxCpuCount=0",
            ],
            command.Arguments);
    }

    [Theory]
    [InlineData(5, 0, 1, 0, "exectos: 5 passed, 0 failed, 1 skipped", 0)]
    [InlineData(5, 2, 0, 1, "exectos: 5 passed, 2 failed, 0 skipped", 1)]
    [InlineData(0, 2, 0, 1, "exectos: 0 passed, 2 failed, 0 skipped", 1)]
    [InlineData(5, 0, 0, 1, "exectos: 5 passed, 0 failed, 0 skipped", 1)]
    [InlineData(0, 0, 0, 0, "exectos: FAIL no tests ran", 1)]
    [InlineData(0, 0, 3, 0, "exectos: FAIL no tests ran", 1)]
    public void Summarizes(int passed, int failed, int skipped, int dotnetExit, string line, int exitCode)
    {
        Assert.Equal((line, exitCode), TestCommand.Summarize(new TestCounts(passed, failed, skipped), dotnetExit));
    }
}
