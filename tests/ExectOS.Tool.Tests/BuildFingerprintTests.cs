using System;
using System.IO;
using ExectOS.Tool;
using ExectOS.Tool.Boot;
using Xunit;

namespace ExectOS.Tool.Tests;

/// <summary>The build-input hash that lets a boot skip MSBuild: what changes it and what does not.</summary>
public sealed class BuildFingerprintTests : TemporaryTree
{
    public BuildFingerprintTests()
        : base("exectos-fingerprint-")
    {
        Write("ExectOS.sln", "solution");
        Write("kernel/Xtos/Memory/Pool.cs", "class Pool {}");
        Write("descriptors/x86/paging.xd", "architecture X86");
    }

    [Fact]
    public void TheSameTreeHashesTheSame() => Assert.Equal(BuildFingerprint.Compute(Root), BuildFingerprint.Compute(Root));

    [Theory]
    [InlineData("edit")]
    [InlineData("touch")]
    [InlineData("add")]
    [InlineData("delete")]
    [InlineData("rename")]
    public void AnyChangeToAnInputChangesIt(string change)
    {
        string before = BuildFingerprint.Compute(Root);
        string pool = Path.Combine(Root, "kernel/Xtos/Memory/Pool.cs");
        switch (change)
        {
            case "edit": File.WriteAllText(pool, "class Pool { }"); break;
            case "touch": File.SetLastWriteTimeUtc(pool, File.GetLastWriteTimeUtc(pool).AddSeconds(-5)); break;
            case "add": Write("descriptors/x86/more.xd", "architecture X86"); break;
            case "delete": File.Delete(Path.Combine(Root, "descriptors/x86/paging.xd")); break;
            case "rename": File.Move(pool, Path.Combine(Root, "kernel/Xtos/Memory/Pools.cs")); break;
        }
        Assert.NotEqual(before, BuildFingerprint.Compute(Root));
    }

    [Theory]
    [InlineData("kernel/Xtos/bin/Debug/x.dll")]
    [InlineData("kernel/Xtos/obj/Debug/x.cs")]
    [InlineData("artifacts/images/amd64/xtoskrnl.exe")]
    [InlineData(".git/index")]
    public void BuildOutputIsNotAnInput(string path)
    {
        string before = BuildFingerprint.Compute(Root);
        Write(path, "output");
        Assert.Equal(before, BuildFingerprint.Compute(Root));
    }

    [Fact]
    public void ItIsCurrentOnlyWithTheRecordedHashAndEveryOutput()
    {
        var repo = new RepositoryLayout(Root);
        string image = Path.Combine(repo.ImagesDirectory("amd64"), "BOOTX64.EFI");
        Assert.False(BuildFingerprint.IsCurrent(repo, [image]));
        BuildFingerprint.Record(repo, BuildFingerprint.Compute(Root));
        Assert.False(BuildFingerprint.IsCurrent(repo, [image]));
        Write("artifacts/images/amd64/BOOTX64.EFI", "image");
        Assert.True(BuildFingerprint.IsCurrent(repo, [image]));
        Write("kernel/Xtos/Memory/Pool.cs", "class Pool { int x; }");
        Assert.False(BuildFingerprint.IsCurrent(repo, [image]));
    }
}
