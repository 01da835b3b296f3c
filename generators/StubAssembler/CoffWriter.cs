using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace ExectOS.StubAssembler;

/// <summary>Writes a <see cref="StubImage"/> as a COFF object: one .text section, one symbol per stub.</summary>
/// <remarks>
/// Layout: file header, section header, section data, symbol table, string table. No relocations:
/// the stubs reference nothing outside themselves. TimeDateStamp is 0 so the bytes are reproducible.
/// </remarks>
public static class CoffWriter
{
    public const int FileHeaderSize = 20;
    public const int SectionHeaderSize = 40;
    public const int SymbolSize = 18;

    public const uint TextCharacteristics = ScnCntCode | ScnAlign16Bytes | ScnMemExecute | ScnMemRead;
    public const ushort FunctionType = 0x20;
    public const byte ClassExternal = 2;
    public const byte ClassStatic = 3;

    private const uint ScnCntCode = 0x00000020;
    private const uint ScnAlign16Bytes = 0x00500000;
    private const uint ScnMemExecute = 0x20000000;
    private const uint ScnMemRead = 0x40000000;
    private const short AbsoluteSection = -1;
    private const int ShortNameLength = 8;

    public static byte[] Write(StubImage image)
    {
        var symbols = new List<byte[]>();
        var strings = new StringTable();

        // The section symbol and its aux record, as MSVC and LLVM assemblers emit them, so tools
        // that map a section back to a symbol find one.
        symbols.Add(Symbol(strings, ".text", 0, 1, 0, ClassStatic, auxCount: 1));
        symbols.Add(SectionAux((uint)image.Text.Length));

        // i386 objects tell the linker they are SafeSEH-compatible (they register no handlers) via
        // @feat.00 bit 0, as ilc's own x86 objects do; lld-link 14 rejects an i386 object without it
        // ("not compatible with SEH") even when /safeseh is not given.
        if (image.Architecture == StubArchitecture.X86)
        {
            symbols.Add(Symbol(strings, "@feat.00", 1, AbsoluteSection, 0, ClassStatic, auxCount: 0));
        }

        foreach (PlacedStub stub in image.Stubs)
        {
            symbols.Add(Symbol(strings, stub.Name, (uint)stub.Offset, 1, FunctionType, ClassExternal, auxCount: 0));
        }

        const int textOffset = FileHeaderSize + SectionHeaderSize;
        int symbolTableOffset = textOffset + image.Text.Length;

        using var output = new MemoryStream();
        output.Write(FileHeader(image.Architecture, symbolTableOffset, symbols.Count));
        output.Write(TextSectionHeader(image.Text.Length, textOffset));
        output.Write(image.Text);
        foreach (byte[] symbol in symbols)
        {
            output.Write(symbol);
        }

        output.Write(strings.ToArray());
        return output.ToArray();
    }

    private static byte[] FileHeader(StubArchitecture arch, int symbolTableOffset, int symbolCount)
    {
        var header = new byte[FileHeaderSize];
        Span<byte> h = header;
        BinaryPrimitives.WriteUInt16LittleEndian(h[0..], arch.CoffMachine());
        BinaryPrimitives.WriteUInt16LittleEndian(h[2..], 1); // NumberOfSections
        BinaryPrimitives.WriteUInt32LittleEndian(h[4..], 0); // TimeDateStamp
        BinaryPrimitives.WriteUInt32LittleEndian(h[8..], (uint)symbolTableOffset);
        BinaryPrimitives.WriteUInt32LittleEndian(h[12..], (uint)symbolCount);
        // SizeOfOptionalHeader and Characteristics stay 0 for an object file.
        return header;
    }

    private static byte[] TextSectionHeader(int size, int dataOffset)
    {
        var header = new byte[SectionHeaderSize];
        Span<byte> h = header;
        Encoding.ASCII.GetBytes(".text", h);
        BinaryPrimitives.WriteUInt32LittleEndian(h[16..], (uint)size); // SizeOfRawData
        BinaryPrimitives.WriteUInt32LittleEndian(h[20..], (uint)dataOffset); // PointerToRawData
        BinaryPrimitives.WriteUInt32LittleEndian(h[36..], TextCharacteristics);
        return header;
    }

    private static byte[] Symbol(StringTable strings, string name, uint value, short section, ushort type, byte storageClass, byte auxCount)
    {
        var symbol = new byte[SymbolSize];
        Span<byte> s = symbol;
        byte[] nameBytes = Encoding.UTF8.GetBytes(name);
        if (nameBytes.Length <= ShortNameLength)
        {
            nameBytes.CopyTo(s);
        }
        else
        {
            // Long names: four zero bytes, then the name's offset in the string table.
            BinaryPrimitives.WriteUInt32LittleEndian(s[4..], strings.Add(nameBytes));
        }

        BinaryPrimitives.WriteUInt32LittleEndian(s[8..], value);
        BinaryPrimitives.WriteInt16LittleEndian(s[12..], section);
        BinaryPrimitives.WriteUInt16LittleEndian(s[14..], type);
        s[16] = storageClass;
        s[17] = auxCount;
        return symbol;
    }

    // Section definition aux record: Length, NumberOfRelocations, NumberOfLinenumbers, CheckSum,
    // Number, Selection. CheckSum and Number only matter for COMDAT sections, which .text is not.
    private static byte[] SectionAux(uint length)
    {
        var aux = new byte[SymbolSize];
        BinaryPrimitives.WriteUInt32LittleEndian(aux, length);
        return aux;
    }

    private sealed class StringTable
    {
        private readonly MemoryStream _bytes = new();

        // Offsets count the table's own 4-byte size field.
        public uint Add(byte[] name)
        {
            uint offset = (uint)(4 + _bytes.Length);
            _bytes.Write(name);
            _bytes.WriteByte(0);
            return offset;
        }

        public byte[] ToArray()
        {
            var table = new byte[4 + _bytes.Length];
            BinaryPrimitives.WriteUInt32LittleEndian(table, (uint)table.Length);
            _bytes.ToArray().CopyTo(table, 4);
            return table;
        }
    }
}
