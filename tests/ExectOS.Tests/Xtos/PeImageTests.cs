using System;
using System.Buffers.Binary;
using System.IO;
using ExectOS.Images;
using ExectOS.Tests.Snapshots;
using ExectOS.Text;
using Xunit;

namespace ExectOS.Tests.Xtos;

/// <summary>The loader's kernel-image checks (kernel/Xtos/Images), run hosted on synthetic and real images.</summary>
public class PeImageTests
{
    [Fact]
    public void ValidImageIsAcceptedWithItsFacts()
    {
        byte[] file = new TestPe().Build();
        ImageProblem problem = PeImage.Check(file, PeMachine.Amd64, out PeImageInfo info);
        Assert.Equal(ImageError.None, problem.Error);
        Assert.Equal(0x4000u, info.SizeOfImage);
        Assert.Equal(TestPe.TextRva + 0x10, info.EntryPointRva);
        Assert.Equal(0xFFFFF80000800000, info.ImageBase);
        Assert.Equal(3, info.SectionCount);
        Assert.True(info.Is64Bit);
    }

    [Fact]
    public void LoadCopiesSectionsZeroesTheRestAndRelocates()
    {
        var pe = new TestPe();
        byte[] file = pe.Build();
        Assert.True(PeImage.Check(file, PeMachine.Amd64, out PeImageInfo info).IsOk);
        byte[] memory = new byte[info.SizeOfImage];
        memory.AsSpan().Fill(0xEE);
        const ulong loadBase = 0x0DE62000;

        ImageProblem problem = PeImage.Load(file, in info, memory, loadBase);

        Assert.Equal(ImageError.None, problem.Error);
        Assert.Equal(file.AsSpan(0x400, 0x100).ToArray(), memory.AsSpan((int)TestPe.TextRva, 0x100).ToArray());
        Assert.Equal(loadBase + TestPe.DataRva + 0x40, BinaryPrimitives.ReadUInt64LittleEndian(memory.AsSpan((int)TestPe.DataRva)));
        Assert.Equal(file.AsSpan(TestPe.DataFileOffset + 8, 0x1F8).ToArray(), memory.AsSpan((int)TestPe.DataRva + 8, 0x1F8).ToArray());
        Assert.All(memory.AsSpan((int)TestPe.DataRva + 0x200, 0x600).ToArray(), b => Assert.Equal(0, b));
        Assert.All(memory.AsSpan(0x200, 0xE00).ToArray(), b => Assert.Equal(0, b));
    }

    [Fact]
    public void I386ImageIsRelocatedWithHighLow()
    {
        var pe = new TestPe { Machine = PeMachine.I386, ImageBase = 0x80400000, RelocationType = 3 };
        byte[] file = pe.Build();
        Assert.Equal(ImageError.None, PeImage.Check(file, PeMachine.I386, out PeImageInfo info).Error);
        byte[] memory = new byte[info.SizeOfImage];
        Assert.Equal(ImageError.None, PeImage.Load(file, in info, memory, 0x00200000).Error);
        Assert.Equal(0x00200000u + TestPe.DataRva + 0x40, BinaryPrimitives.ReadUInt32LittleEndian(memory.AsSpan((int)TestPe.DataRva)));
    }

    [Fact]
    public void EveryTruncationIsRefusedWithoutReadingPastTheEnd()
    {
        byte[] file = new TestPe().Build();
        for (int length = 0; length < file.Length; length++)
        {
            ImageProblem problem = PeImage.Check(file.AsSpan(0, length), PeMachine.Amd64, out _);
            Assert.False(problem.IsOk, $"a file cut to {length} bytes was accepted");
        }
    }

    [Fact]
    public void TruncationInsideSectionDataSaysTruncatedAndWhere()
    {
        byte[] file = new TestPe().Build();
        ImageProblem problem = PeImage.Check(file.AsSpan(0, 0x700), PeMachine.Amd64, out _);
        Assert.Equal(ImageError.SectionDataOutOfFile, problem.Error);
        Assert.Equal(1, problem.Section);
        Assert.Equal(0x800UL, problem.Expected);
        Assert.Equal(0x700UL, problem.Actual);
        Assert.Equal("is truncated: section data extends past the end of the file (section 1, expected 0x800, found 0x700)", Describe(problem));
    }

    [Fact]
    public void ForeignMachineIsRefusedNamingBothMachines()
    {
        byte[] file = new TestPe { Machine = PeMachine.I386, ImageBase = 0x80400000, RelocationType = 3 }.Build();
        ImageProblem problem = PeImage.Check(file, PeMachine.Amd64, out _);
        Assert.Equal(ImageError.WrongMachine, problem.Error);
        Assert.Equal((ulong)PeMachine.Amd64, problem.Expected);
        Assert.Equal((ulong)PeMachine.I386, problem.Actual);
    }

    [Theory]
    [InlineData(0, 0x00, ImageError.NotExecutable)]          // MZ
    [InlineData(0x40, 0x00, ImageError.NotPortableExecutable)] // PE signature
    [InlineData(0x58, 0x07, ImageError.WrongOptionalHeader)]   // optional header magic
    public void DamagedSignaturesAreNamed(int offset, byte value, ImageError expected)
    {
        byte[] file = new TestPe().Build();
        file[offset] = value;
        Assert.Equal(expected, PeImage.Check(file, PeMachine.Amd64, out _).Error);
    }

    [Fact]
    public void OverlappingSectionsAreRefused()
    {
        byte[] file = new TestPe { DataRvaOverride = TestPe.TextRva }.Build();
        Assert.Equal(ImageError.SectionsOverlap, PeImage.Check(file, PeMachine.Amd64, out _).Error);
    }

    [Fact]
    public void EntryPointOutsideCodeIsRefused()
    {
        byte[] file = new TestPe { EntryRva = TestPe.DataRva + 4 }.Build();
        Assert.Equal(ImageError.EntryPointOutsideImage, PeImage.Check(file, PeMachine.Amd64, out _).Error);
    }

    [Fact]
    public void UnsupportedRelocationTypeIsRefusedByCheckNotLoad()
    {
        byte[] file = new TestPe { RelocationType = 5 }.Build();
        ImageProblem problem = PeImage.Check(file, PeMachine.Amd64, out _);
        Assert.Equal(ImageError.UnsupportedRelocation, problem.Error);
        Assert.Equal(10UL, problem.Expected);
        Assert.Equal(5UL, problem.Actual);
    }

    [Fact]
    public void MalformedRelocationBlockIsRefusedByCheck()
    {
        byte[] file = new TestPe().Build();
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(0x804), 13); // odd block size
        Assert.Equal(ImageError.BadRelocationBlock, PeImage.Check(file, PeMachine.Amd64, out _).Error);
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(0x804), 12);
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(0x800), 0x3FFC); // page RVA: the 8-byte target ends past 0x4000
        Assert.Equal(ImageError.RelocationsOutsideImage, PeImage.Check(file, PeMachine.Amd64, out _).Error);
    }

    [Fact]
    public void RelocationTableWithoutFileDataIsRefusedByCheck()
    {
        byte[] file = new TestPe().Build();
        int reloc = 0x40 + 24 + 240 + 80;
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(reloc + 16), 0); // .reloc keeps its size in memory, loses its raw data
        ImageProblem problem = PeImage.Check(file, PeMachine.Amd64, out _);
        Assert.Equal(ImageError.RelocationsNotInSectionData, problem.Error);
        Assert.Equal("has its base relocation table outside the file data of every section (expected 0x3000, found 0x300C)", Describe(problem));
    }

    [Fact]
    public void RelocationsOfAFixedImageAreNotReadAndItLoadsOnlyAtItsBase()
    {
        byte[] file = new TestPe { RelocationType = 5 }.Build();
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(0x40 + 22), 0x0023); // IMAGE_FILE_RELOCS_STRIPPED
        Assert.True(PeImage.Check(file, PeMachine.Amd64, out PeImageInfo info).IsOk);
        Assert.False(info.Relocatable);
        byte[] memory = new byte[info.SizeOfImage];
        memory.AsSpan().Fill(0xEE);
        Assert.Equal(ImageError.RelocationsStripped, PeImage.Load(file, in info, memory, 0x100000).Error);
        Assert.All(memory, b => Assert.Equal(0xEE, b)); // refused before touching the destination
        Assert.True(PeImage.Load(file, in info, memory, info.ImageBase).IsOk);
    }

    // A section with SizeOfRawData 0 has no file data, so its PointerToRawData means nothing (the PE specification: both
    // "should be zero" for uninitialised data): accepted wherever it points, and loaded as zeros. It used to pass Check and
    // then stop Load on a slice past the end of the file ("internal failure: run-time check 8" in the loader).
    [Theory]
    [InlineData(0xA00u)]       // the file's length
    [InlineData(0xA01u)]       // one past it
    [InlineData(0x7FFFFFFFu)]
    [InlineData(0x80000000u)]  // negative as an int
    [InlineData(0xFFFFFFFFu)]
    public void SectionWithoutRawDataIsLoadedAsZerosWhereverItsPointerPoints(uint pointer)
    {
        byte[] file = new TestPe().Build();
        Assert.Equal(0xA00, file.Length);
        int data = 0x40 + 24 + 240 + 40;
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(data + 16), 0);
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(data + 20), pointer);
        Assert.Equal(ImageError.None, PeImage.Check(file, PeMachine.Amd64, out PeImageInfo info).Error);
        byte[] memory = new byte[info.SizeOfImage];
        memory.AsSpan().Fill(0xEE);
        const ulong loadBase = 0x0DE62000;

        Assert.Equal(ImageError.None, PeImage.Load(file, in info, memory, info.ImageBase).Error);
        Assert.All(memory.AsSpan((int)TestPe.DataRva, (int)TestPe.SectionAlignment).ToArray(), b => Assert.Equal(0, b));
        Assert.Equal(ImageError.None, PeImage.Load(file, in info, memory, loadBase).Error);
        Assert.Equal(loadBase - info.ImageBase, BinaryPrimitives.ReadUInt64LittleEndian(memory.AsSpan((int)TestPe.DataRva))); // the relocated zero
        Assert.All(memory.AsSpan((int)TestPe.DataRva + 8, (int)TestPe.SectionAlignment - 8).ToArray(), b => Assert.Equal(0, b));
        Assert.Equal(file.AsSpan(0x400, 0x100).ToArray(), memory.AsSpan((int)TestPe.TextRva, 0x100).ToArray());
    }

    [Fact]
    public void RandomCorruptionNeverCrashesAndLoadStaysInBounds()
    {
        byte[] original = new TestPe().Build();
        var random = new Random(20261124);
        int accepted = 0;
        byte[] memory = [];
        for (int round = 0; round < 20000; round++)
        {
            byte[] file = (byte[])original.Clone();
            int flips = 1 + random.Next(4);
            for (int i = 0; i < flips; i++)
                file[random.Next(0x200)] = (byte)random.Next(256); // headers, where the checks live
            if (!PeImage.Check(file, PeMachine.Amd64, out PeImageInfo info).IsOk)
                continue;
            accepted++;
            if (memory.Length < info.SizeOfImage)
                memory = new byte[info.SizeOfImage];
            ImageProblem loaded = PeImage.Load(file, in info, memory.AsSpan(0, (int)info.SizeOfImage), 0x0DE62000);
            Assert.Equal(info.Relocatable ? ImageError.None : ImageError.RelocationsStripped, loaded.Error); // whatever Check accepts loads
        }
        Assert.InRange(accepted, 1, 19999);
    }

    [Fact]
    public void RealKernelImageChecksLoadsAndRelocatesEveryAddress()
    {
        byte[] file = File.ReadAllBytes(Path.Combine(Snapshot.RepositoryRoot, "artifacts/images/amd64/xtoskrnl.exe"));
        ImageProblem problem = PeImage.Check(file, PeMachine.Amd64, out PeImageInfo info);
        Assert.Equal(ImageError.None, problem.Error);
        Assert.Equal(1, info.Subsystem & 0xFF); // IMAGE_SUBSYSTEM_NATIVE
        // The loader relocates the kernel to where its layout puts it, so the image must carry relocations.
        Assert.True(info.Relocatable, "the kernel can be relocated");
        Assert.Equal(ImageError.WrongMachine, PeImage.Check(file, PeMachine.I386, out _).Error);

        byte[] atBase = new byte[info.SizeOfImage];
        byte[] moved = new byte[info.SizeOfImage];
        Assert.True(PeImage.Load(file, in info, atBase, info.ImageBase).IsOk);
        const ulong physical = 0x0DE62000;
        Assert.True(PeImage.Load(file, in info, moved, physical).IsOk);
        // Walk .reloc independently of the loader: every DIR64 slot moves by the delta, every other byte stays.
        var relocated = new bool[atBase.Length];
        int slots = 0;
        for (int block = (int)info.RelocationRva; block < info.RelocationRva + info.RelocationSize;)
        {
            uint page = BinaryPrimitives.ReadUInt32LittleEndian(atBase.AsSpan(block));
            int size = (int)BinaryPrimitives.ReadUInt32LittleEndian(atBase.AsSpan(block + 4));
            for (int entry = block + 8; entry < block + size; entry += 2)
            {
                ushort value = BinaryPrimitives.ReadUInt16LittleEndian(atBase.AsSpan(entry));
                if (value >> 12 == 0)
                    continue;
                Assert.Equal(10, value >> 12);
                int slot = (int)(page + (uint)(value & 0xFFF));
                ulong linked = BinaryPrimitives.ReadUInt64LittleEndian(atBase.AsSpan(slot));
                Assert.Equal(linked - info.ImageBase + physical, BinaryPrimitives.ReadUInt64LittleEndian(moved.AsSpan(slot)));
                relocated.AsSpan(slot, 8).Fill(true);
                slots++;
            }
            block += size;
        }
        Assert.True(slots > 10, $"only {slots} relocated addresses in the kernel image");
        for (int i = 0; i < atBase.Length; i++)
        {
            if (!relocated[i])
                Assert.True(atBase[i] == moved[i], $"byte {i:X} changed but is not a relocation target");
        }
    }

    private static string Describe(ImageProblem problem)
    {
        TextLine line = default;
        problem.AppendTo(ref line);
        return line.AsSpan().ToString();
    }
}
