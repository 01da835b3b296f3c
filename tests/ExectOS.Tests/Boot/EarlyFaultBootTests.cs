using System;
using System.Buffers.Binary;
using System.IO;
using System.Text;
using ExectOS.Tests.Snapshots;
using Xunit;

namespace ExectOS.Tests.Boot;

/// <summary>
/// A kernel that faults before it installs its own trap table: the hand-off's early IDT catches it, and the run ends
/// with a verdict that says so (before, a zeroed .text triple-faulted with nothing on serial).
/// </summary>
[Collection("QEMU")]
[Trait("Category", "Boot")]
public sealed class EarlyFaultBootTests : IDisposable
{
    private readonly string _scratch = Directory.CreateTempSubdirectory("exectos-early-").FullName;

    public void Dispose() => Directory.Delete(_scratch, recursive: true);

    [Theory]
    [InlineData("amd64")]
    [InlineData("i686")]
    [InlineData("aarch64")]
    public void AKernelWithAZeroedTextSectionEndsInAnEarlyFaultVerdict(string arch)
    {
        string kernel = Path.Combine(_scratch, $"zeroed-{arch}.exe");
        File.WriteAllBytes(kernel, ZeroSection(File.ReadAllBytes(Path.Combine(Snapshot.RepositoryRoot, $"artifacts/images/{arch}/xtoskrnl.exe")), ".text"));

        var result = ExectosCommand.Boot("--arch", arch, "--kernel", kernel);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("XTLDR: leaving boot services and starting the kernel", result.Lines);
        Assert.DoesNotContain(result.Lines, l => l.StartsWith("XTOSKRNL:", StringComparison.Ordinal));
        // The vector, and where the kernel faulted: in its image, which the loader placed at its layout's window.
        // AArch64: zeros are udf #0, exception class 0 (unknown reason), at the entry in the TTBR1 half.
        string address = arch switch { "amd64" => "0xFFFFF80000[0-9A-F]{6}", "i686" => "0x80[0-9A-F]{6}", _ => "0xFFFF0080000[0-9A-F]{5}" };
        string fault = arch == "aarch64" ? "exception class 0x00" : "exception vector 0x[0-9A-F]{2}";
        Assert.Matches($@"^exectos: FAIL loader: early kernel fault before the kernel installed its trap table: {fault} at {address}$", result.LastLine);
    }

    /// <summary>The image with one section's raw data zeroed (headers and relocations intact, so the loader accepts it).</summary>
    private static byte[] ZeroSection(byte[] image, string name)
    {
        int pe = BinaryPrimitives.ReadInt32LittleEndian(image.AsSpan(0x3C));
        int sections = BinaryPrimitives.ReadUInt16LittleEndian(image.AsSpan(pe + 6));
        int optional = BinaryPrimitives.ReadUInt16LittleEndian(image.AsSpan(pe + 20));
        int table = pe + 24 + optional;
        for (int i = 0; i < sections; i++)
        {
            int header = table + i * 40;
            if (Encoding.ASCII.GetString(image, header, 8).TrimEnd('\0') != name)
                continue;
            int size = BinaryPrimitives.ReadInt32LittleEndian(image.AsSpan(header + 16));
            int offset = BinaryPrimitives.ReadInt32LittleEndian(image.AsSpan(header + 20));
            Assert.True(size > 0, $"{name} has no raw data");
            image.AsSpan(offset, size).Clear();
            return image;
        }
        throw new InvalidOperationException($"no {name} section");
    }
}
