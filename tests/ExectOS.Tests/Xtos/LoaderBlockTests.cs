using System.Runtime.InteropServices;
using ExectOS.Boot;
using Xunit;

namespace ExectOS.Tests.Xtos;

/// <summary>The kernel's first check: is the loader block from a loader it understands.</summary>
public unsafe class LoaderBlockTests
{
    private static LoaderBlock Valid()
    {
        LoaderBlock block = default;
        LoaderBlock.InitializeHeader(&block, BootArchitecture.Amd64);
        return block;
    }

    [Fact]
    public void FreshBlockIsValid()
    {
        LoaderBlock block = Valid();
        Assert.Equal(LoaderBlockError.None, LoaderBlock.Validate(&block, BootArchitecture.Amd64));
        Assert.Equal((uint)sizeof(LoaderBlock), block.Size);
    }

    [Fact]
    public void NullIsMissing() => Assert.Equal(LoaderBlockError.Missing, LoaderBlock.Validate(null, BootArchitecture.Amd64));

    [Fact]
    public void EachBrokenFieldIsNamed()
    {
        LoaderBlock block = Valid();
        block.Signature ^= 1;
        Assert.Equal(LoaderBlockError.BadSignature, LoaderBlock.Validate(&block, BootArchitecture.Amd64));

        block = Valid();
        block.MajorVersion++;
        Assert.Equal(LoaderBlockError.UnsupportedVersion, LoaderBlock.Validate(&block, BootArchitecture.Amd64));

        block = Valid();
        block.Size -= 8;
        Assert.Equal(LoaderBlockError.TooSmall, LoaderBlock.Validate(&block, BootArchitecture.Amd64));

        block = Valid();
        Assert.Equal(LoaderBlockError.WrongArchitecture, LoaderBlock.Validate(&block, BootArchitecture.I686));
    }

    [Fact]
    public void NewerMinorVersionWithMoreFieldsIsAccepted()
    {
        LoaderBlock block = Valid();
        block.MinorVersion++;
        block.Size += 64;
        Assert.Equal(LoaderBlockError.None, LoaderBlock.Validate(&block, BootArchitecture.Amd64));
    }

    [Fact]
    public void LayoutIsFixedWidth()
    {
        // Both architectures read the same block: no pointer-sized fields may creep in.
        Assert.Equal(80 + KernelParameters.Capacity + 16 + 16 + 8 + 24 + 16 + 8, sizeof(LoaderBlock));
        Assert.Equal(80 + KernelParameters.Capacity + 32, (int)Marshal.OffsetOf<LoaderBlock>(nameof(LoaderBlock.PagingMode)));
        Assert.Equal(80 + KernelParameters.Capacity + 64, (int)Marshal.OffsetOf<LoaderBlock>(nameof(LoaderBlock.AcpiRootPointer)));
        // Minor version 6 added the high-half root at the end.
        Assert.Equal(sizeof(LoaderBlock) - 8, (int)Marshal.OffsetOf<LoaderBlock>(nameof(LoaderBlock.HighPageTableRoot)));
        Assert.Equal(32, sizeof(Mapping));
    }
}
