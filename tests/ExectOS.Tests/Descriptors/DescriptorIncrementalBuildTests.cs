using System.Diagnostics;
using System.IO;
using System.Text;
using ExectOS.Descriptors;
using ExectOS.Tests.Snapshots;
using Xunit;

namespace ExectOS.Tests.Descriptors;

/// <summary>
/// MSBuild's incremental build and the descriptors: a project under artifacts/ (so the repository's Directory.Build
/// files apply, as to ours) compiles two descriptors with the generator; deleting one, or renaming one with an old
/// timestamp, must rebuild it, so the deleted file's generated types are gone.
/// </summary>
public class DescriptorIncrementalBuildTests
{
    private const string Descriptor = "architecture {0}\nentry {0}Entry bits 32 {{\n    frame Page [31:12]\n    reserved [11:1]\n    flag On [0] role present\n}}\n";

    [Fact]
    public void DeletingOrRenamingADescriptorRebuildsTheProject()
    {
        string folder = Path.Combine(Snapshot.RepositoryRoot, "artifacts", "tests", "descriptor-incremental");
        if (Directory.Exists(folder))
            Directory.Delete(folder, recursive: true);
        Directory.CreateDirectory(Path.Combine(folder, "descriptors"));
        File.WriteAllText(Path.Combine(folder, "Probe.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
              </PropertyGroup>
              <ItemGroup>
                <Analyzer Include="{typeof(DescriptorGenerator).Assembly.Location}" />
                <Reference Include="{typeof(ExectOS.Memory.PhysicalAddress).Assembly.Location}" />
                <AdditionalFiles Include="descriptors/**/*.xd" />
              </ItemGroup>
            </Project>
            """);
        string first = Path.Combine(folder, "descriptors", "first.xd"), second = Path.Combine(folder, "descriptors", "second.xd");
        File.WriteAllText(first, string.Format(Descriptor, "First"));
        File.WriteAllText(second, string.Format(Descriptor, "Second"));
        string output = Path.Combine(folder, "bin", "Debug", "net10.0", "Probe.dll");

        Build(folder);
        Assert.True(Holds(output, "FirstEntry") && Holds(output, "SecondEntry"), "the first build lacks a descriptor's types");

        // A rename keeps the file's old timestamp: only the changed list of descriptors says anything changed.
        File.SetLastWriteTimeUtc(second, new System.DateTime(2020, 1, 1, 0, 0, 0, System.DateTimeKind.Utc));
        File.Move(second, Path.Combine(folder, "descriptors", "renamed.xd"));
        File.WriteAllText(Path.Combine(folder, "descriptors", "renamed.xd"), string.Format(Descriptor, "Renamed"));
        File.SetLastWriteTimeUtc(Path.Combine(folder, "descriptors", "renamed.xd"), new System.DateTime(2020, 1, 1, 0, 0, 0, System.DateTimeKind.Utc));
        Build(folder);
        Assert.True(Holds(output, "RenamedEntry") && !Holds(output, "SecondEntry"), "a renamed descriptor did not rebuild the project");

        File.Delete(Path.Combine(folder, "descriptors", "renamed.xd"));
        Build(folder);
        Assert.True(Holds(output, "FirstEntry") && !Holds(output, "RenamedEntry"), "a deleted descriptor's types survived");
    }

    private static void Build(string folder)
    {
        var start = new ProcessStartInfo("dotnet", "build --nologo -v:q -clp:ErrorsOnly")
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        string log = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, log);
    }

    private static bool Holds(string assembly, string typeName)
        => Encoding.UTF8.GetString(File.ReadAllBytes(assembly)).Contains(typeName, System.StringComparison.Ordinal);
}
