using System;
using System.Buffers.Binary;
using ExectOS.Images;

namespace ExectOS.Tests.Xtos;

/// <summary>Writes small, well-formed PE images to corrupt in tests: headers, .text, .data holding one absolute address, .reloc.</summary>
internal sealed class TestPe
{
    public const uint SectionAlignment = 0x1000, FileAlignment = 0x200;
    public const uint TextRva = 0x1000, DataRva = 0x2000, RelocRva = 0x3000;

    public PeMachine Machine = PeMachine.Amd64;
    public ulong ImageBase = 0xFFFFF80000800000;
    public uint EntryRva = TextRva + 0x10;
    public ushort RelocationType = 10; // DIR64
    public uint DataVirtualSize = 0x800; // larger than its raw data: the tail must be zeroed
    public uint DataRvaOverride = DataRva;

    public bool Is64 => Machine == PeMachine.Amd64;

    /// <summary>Offset in the file of the .data section's raw data (the relocated pointer is at its start).</summary>
    public const int DataFileOffset = 0x600;

    public byte[] Build()
    {
        int optionalSize = Is64 ? 240 : 224;
        byte[] file = new byte[0x800];
        var span = file.AsSpan();
        BinaryPrimitives.WriteUInt16LittleEndian(span, 0x5A4D);
        BinaryPrimitives.WriteUInt32LittleEndian(span[0x3C..], 0x40);
        int nt = 0x40;
        BinaryPrimitives.WriteUInt32LittleEndian(span[nt..], 0x00004550);
        BinaryPrimitives.WriteUInt16LittleEndian(span[(nt + 4)..], (ushort)Machine);
        BinaryPrimitives.WriteUInt16LittleEndian(span[(nt + 6)..], 3);
        BinaryPrimitives.WriteUInt16LittleEndian(span[(nt + 20)..], (ushort)optionalSize);
        BinaryPrimitives.WriteUInt16LittleEndian(span[(nt + 22)..], 0x0022);

        int opt = nt + 24;
        BinaryPrimitives.WriteUInt16LittleEndian(span[opt..], (ushort)(Is64 ? 0x20B : 0x10B));
        BinaryPrimitives.WriteUInt32LittleEndian(span[(opt + 16)..], EntryRva);
        if (Is64)
            BinaryPrimitives.WriteUInt64LittleEndian(span[(opt + 24)..], ImageBase);
        else
            BinaryPrimitives.WriteUInt32LittleEndian(span[(opt + 28)..], (uint)ImageBase);
        BinaryPrimitives.WriteUInt32LittleEndian(span[(opt + 32)..], SectionAlignment);
        BinaryPrimitives.WriteUInt32LittleEndian(span[(opt + 36)..], FileAlignment);
        BinaryPrimitives.WriteUInt32LittleEndian(span[(opt + 56)..], 0x4000);
        BinaryPrimitives.WriteUInt32LittleEndian(span[(opt + 60)..], 0x200);
        BinaryPrimitives.WriteUInt16LittleEndian(span[(opt + 68)..], 1); // native
        int directories = opt + (Is64 ? 112 : 96);
        BinaryPrimitives.WriteUInt32LittleEndian(span[(directories - 4)..], 16);
        BinaryPrimitives.WriteUInt32LittleEndian(span[(directories + 5 * 8)..], RelocRva);
        BinaryPrimitives.WriteUInt32LittleEndian(span[(directories + 5 * 8 + 4)..], 12);

        int table = opt + optionalSize;
        Section(span, table, ".text", TextRva, 0x100, 0x400, 0x200, PeSection.Code | PeSection.Executable | PeSection.Readable);
        Section(span, table + 40, ".data", DataRvaOverride, DataVirtualSize, DataFileOffset, 0x200, PeSection.Readable | PeSection.Writable);
        Section(span, table + 80, ".reloc", RelocRva, 12, 0x200 + 0x200, 0, PeSection.Readable);

        for (int i = 0; i < 0x100; i++)
            file[0x400 + i] = (byte)(0x90 + (i & 1));
        ulong pointer = ImageBase + DataRva + 0x40;
        if (Is64)
            BinaryPrimitives.WriteUInt64LittleEndian(span[DataFileOffset..], pointer);
        else
            BinaryPrimitives.WriteUInt32LittleEndian(span[DataFileOffset..], (uint)pointer);
        for (int i = 8; i < 0x200; i++)
            file[DataFileOffset + i] = (byte)i;
        return AppendRelocations(file);
    }

    // .reloc's raw data sits at the file's end so truncating the file hits section data first.
    private byte[] AppendRelocations(byte[] file)
    {
        byte[] result = new byte[0xA00];
        file.CopyTo(result, 0);
        var span = result.AsSpan(0x800);
        BinaryPrimitives.WriteUInt32LittleEndian(span, DataRva);
        BinaryPrimitives.WriteUInt32LittleEndian(span[4..], 12);
        BinaryPrimitives.WriteUInt16LittleEndian(span[8..], (ushort)(RelocationType << 12 | 0));
        BinaryPrimitives.WriteUInt16LittleEndian(span[10..], 0); // ABSOLUTE padding
        // Point .reloc's raw data here.
        int table = 0x40 + 24 + (Is64 ? 240 : 224) + 80;
        BinaryPrimitives.WriteUInt32LittleEndian(result.AsSpan(table + 16), 0x200);
        BinaryPrimitives.WriteUInt32LittleEndian(result.AsSpan(table + 20), 0x800);
        return result;
    }

    private static void Section(Span<byte> span, int at, string name, uint rva, uint virtualSize, uint rawOffset, uint rawSize, uint characteristics)
    {
        for (int i = 0; i < name.Length; i++)
            span[at + i] = (byte)name[i];
        BinaryPrimitives.WriteUInt32LittleEndian(span[(at + 8)..], virtualSize);
        BinaryPrimitives.WriteUInt32LittleEndian(span[(at + 12)..], rva);
        BinaryPrimitives.WriteUInt32LittleEndian(span[(at + 16)..], rawSize);
        BinaryPrimitives.WriteUInt32LittleEndian(span[(at + 20)..], rawOffset);
        BinaryPrimitives.WriteUInt32LittleEndian(span[(at + 36)..], characteristics);
    }
}
