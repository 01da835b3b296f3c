using System;
using System.IO;
using System.Linq;
using ExectOS.Tool;
using ExectOS.Tool.Testing;
using Xunit;

namespace ExectOS.Tool.Tests;

/// <summary>Finding the solution's test assemblies without MSBuild, so a no-op ./exectos test can run them directly.</summary>
public sealed class TestAssembliesTests() : TemporaryTree("exectos-test-assemblies-")
{

    private static string Project(string body) => $"<Project Sdk=\"Microsoft.NET.Sdk\"><PropertyGroup>{body}</PropertyGroup></Project>";

    private const string Sln = """
        Microsoft Visual Studio Solution File, Format Version 12.00
        Project("{FAE04EC0-301F-11D3-BF4B-00C04F79EFBC}") = "Lib", "src\Lib\Lib.csproj", "{1}"
        EndProject
        Project("{FAE04EC0-301F-11D3-BF4B-00C04F79EFBC}") = "Lib.Tests", "tests\Lib.Tests\Lib.Tests.csproj", "{2}"
        EndProject
        Project("{FAE04EC0-301F-11D3-BF4B-00C04F79EFBC}") = "Other", "tests\Other\Other.csproj", "{3}"
        EndProject
        """;

    [Fact]
    public void TheTestProjectsOfTheSolutionGiveTheirDebugAssemblies()
    {
        Write("ExectOS.sln", Sln);
        Write("src/Lib/Lib.csproj", Project("<TargetFramework>net10.0</TargetFramework>"));
        Write("tests/Lib.Tests/Lib.Tests.csproj", Project("<TargetFramework>net10.0</TargetFramework><IsTestProject>true</IsTestProject>"));
        Write("tests/Other/Other.csproj", Project("<TargetFramework> net9.0 </TargetFramework><IsTestProject>true</IsTestProject><AssemblyName>Renamed</AssemblyName>"));

        Assert.Equal(
            [
                Path.Combine(Root, "tests", "Lib.Tests", "bin", "Debug", "net10.0", "Lib.Tests.dll"),
                Path.Combine(Root, "tests", "Other", "bin", "Debug", "net9.0", "Renamed.dll"),
            ],
            TestAssemblies.Find(new RepositoryLayout(Root)));
    }

    [Fact]
    public void AnSlnxIsReadToo()
    {
        Write("ExectOS.slnx", """<Solution><Folder Name="/tests/"><Project Path="tests/Lib.Tests/Lib.Tests.csproj" /></Folder></Solution>""");
        Write("tests/Lib.Tests/Lib.Tests.csproj", Project("<TargetFramework>net10.0</TargetFramework><IsTestProject>true</IsTestProject>"));

        Assert.Equal([Path.Combine(Root, "tests", "Lib.Tests", "bin", "Debug", "net10.0", "Lib.Tests.dll")], TestAssemblies.Find(new RepositoryLayout(Root)));
    }

    [Theory]
    [InlineData("<TargetFrameworks>net9.0;net10.0</TargetFrameworks><IsTestProject>true</IsTestProject>")]
    [InlineData("<TargetFramework>$(Framework)</TargetFramework><IsTestProject>true</IsTestProject>")]
    [InlineData("<TargetFramework>net10.0</TargetFramework><IsTestProject>true</IsTestProject><AssemblyName>$(Name).Tests</AssemblyName>")]
    [InlineData("<IsTestProject>true</IsTestProject>")]
    public void AProjectOfAnotherShapeLeavesItToMSBuild(string body)
    {
        Write("ExectOS.sln", Sln);
        Write("src/Lib/Lib.csproj", Project("<TargetFramework>net10.0</TargetFramework>"));
        Write("tests/Lib.Tests/Lib.Tests.csproj", Project(body));
        Write("tests/Other/Other.csproj", Project("<TargetFramework>net10.0</TargetFramework>"));

        Assert.Null(TestAssemblies.Find(new RepositoryLayout(Root)));
    }

    [Fact]
    public void AMissingProjectOrNoTestProjectLeavesItToMSBuild()
    {
        Write("ExectOS.sln", Sln);
        Write("src/Lib/Lib.csproj", Project("<TargetFramework>net10.0</TargetFramework>"));
        Assert.Null(TestAssemblies.Find(new RepositoryLayout(Root)));

        Write("tests/Lib.Tests/Lib.Tests.csproj", Project("<TargetFramework>net10.0</TargetFramework>"));
        Write("tests/Other/Other.csproj", Project("<TargetFramework>net10.0</TargetFramework>"));
        Assert.Null(TestAssemblies.Find(new RepositoryLayout(Root)));
    }

    [Fact]
    public void TheRepositorysOwnSolutionGivesBothTestAssemblies()
    {
        RepositoryLayout repo = RepositoryLayout.TryLocate()!;
        Assert.Equal(
            ["ExectOS.Tests.dll", "ExectOS.Tool.Tests.dll"],
            TestAssemblies.Find(repo)!.Select(Path.GetFileName).Order(StringComparer.Ordinal));
        // Loader and kernel for amd64, i686 and AArch64.
        Assert.Equal(
            ["aarch64/BOOTAA64.EFI", "aarch64/xtoskrnl.exe", "amd64/BOOTX64.EFI", "amd64/xtoskrnl.exe", "i686/BOOTIA32.EFI", "i686/xtoskrnl.exe"],
            TestAssemblies.Images(repo).Select(p => Path.GetRelativePath(Path.Combine(repo.Root, "artifacts", "images"), p)).Order(StringComparer.Ordinal));
    }
}
