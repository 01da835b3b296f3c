using System;
using System.IO;
using ExectOS.Tool;
using ExectOS.Tool.Boot;
using Xunit;

namespace ExectOS.Tool.Tests;

/// <summary>The build-input hash that lets a boot skip MSBuild: what changes it and what does not.</summary>
public sealed class BuildFingerprintTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("exectos-fingerprint-").FullName;

    public BuildFingerprintTests()
    {
        Write("ExectOS.sln", "solution");
        Write("kernel/Xtos/Memory/Pool.cs", "class Pool {}");
        Write("descriptors/x86/paging.xd", "architecture X86");
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private void Write(string path, string text)
    {
        string full = Path.Combine(_root, path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.WriteAllText(full, text);
    }

    [Fact]
    public void TheSameTreeHashesTheSame() => Assert.Equal(BuildFingerprint.Compute(_root), BuildFingerprint.Compute(_root));

    [Theory]
    [InlineData("edit")]
    [InlineData("touch")]
    [InlineData("add")]
    [InlineData("delete")]
    [InlineData("rename")]
    public void AnyChangeToAnInputChangesIt(string change)
    {
        string before = BuildFingerprint.Compute(_root);
        string pool = Path.Combine(_root, "kernel/Xtos/Memory/Pool.cs");
        switch (change)
        {
            case "edit": File.WriteAllText(pool, "class Pool { }"); break;
            case "touch": File.SetLastWriteTimeUtc(pool, File.GetLastWriteTimeUtc(pool).AddSeconds(-5)); break;
            case "add": Write("descriptors/x86/more.xd", "architecture X86"); break;
            case "delete": File.Delete(Path.Combine(_root, "descriptors/x86/paging.xd")); break;
            case "rename": File.Move(pool, Path.Combine(_root, "kernel/Xtos/Memory/Pools.cs")); break;
        }
        Assert.NotEqual(before, BuildFingerprint.Compute(_root));
    }

    [Theory]
    [InlineData("kernel/Xtos/bin/Debug/x.dll")]
    [InlineData("kernel/Xtos/obj/Debug/x.cs")]
    [InlineData("artifacts/images/amd64/xtoskrnl.exe")]
    [InlineData(".git/index")]
    public void BuildOutputIsNotAnInput(string path)
    {
        string before = BuildFingerprint.Compute(_root);
        Write(path, "output");
        Assert.Equal(before, BuildFingerprint.Compute(_root));
    }

    [Fact]
    public void ItIsCurrentOnlyWithTheRecordedHashAndEveryOutput()
    {
        var repo = new RepositoryLayout(_root);
        string image = Path.Combine(repo.ImagesDirectory("amd64"), "BOOTX64.EFI");
        Assert.False(BuildFingerprint.IsCurrent(repo, [image]));
        BuildFingerprint.Record(repo, BuildFingerprint.Compute(_root));
        Assert.False(BuildFingerprint.IsCurrent(repo, [image]));
        Write("artifacts/images/amd64/BOOTX64.EFI", "image");
        Assert.True(BuildFingerprint.IsCurrent(repo, [image]));
        Write("kernel/Xtos/Memory/Pool.cs", "class Pool { int x; }");
        Assert.False(BuildFingerprint.IsCurrent(repo, [image]));
    }
}
