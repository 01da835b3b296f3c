using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Text;

namespace ExectOS.Tests.Stubs;

/// <summary>A COFF object read back from bytes, independently of the writer under test.</summary>
public sealed record CoffObject(ushort Machine, uint TimeDateStamp, IReadOnlyList<CoffSection> Sections, IReadOnlyList<CoffSymbol> Symbols)
{
    private const int FileHeaderSize = 20;
    private const int SectionHeaderSize = 40;
    private const int SymbolSize = 18;

    public static CoffObject Parse(byte[] file)
    {
        ReadOnlySpan<byte> bytes = file;
        ushort machine = U16(bytes, 0);
        int sectionCount = U16(bytes, 2);
        uint timeDateStamp = U32(bytes, 4);
        int symbolTable = (int)U32(bytes, 8);
        int symbolCount = (int)U32(bytes, 12);
        int optionalHeaderSize = U16(bytes, 16);
        int stringTable = symbolTable + symbolCount * SymbolSize;

        var sections = new List<CoffSection>();
        for (int i = 0; i < sectionCount; i++)
        {
            int at = FileHeaderSize + optionalHeaderSize + i * SectionHeaderSize;
            int size = (int)U32(bytes, at + 16);
            int data = (int)U32(bytes, at + 20);
            sections.Add(new CoffSection(
                ShortName(bytes.Slice(at, 8)),
                U32(bytes, at + 36),
                U16(bytes, at + 32),
                bytes.Slice(data, size).ToArray()));
        }

        var symbols = new List<CoffSymbol>();
        for (int i = 0; i < symbolCount; i++)
        {
            int at = symbolTable + i * SymbolSize;
            ReadOnlySpan<byte> record = bytes.Slice(at, SymbolSize);
            string name = U32(record, 0) == 0
                ? ZeroTerminated(bytes[(stringTable + (int)U32(record, 4))..])
                : ShortName(record[..8]);
            byte auxCount = record[17];
            symbols.Add(new CoffSymbol(name, U32(record, 8), (short)U16(record, 12), U16(record, 14), record[16], auxCount));
            i += auxCount;
        }

        return new CoffObject(machine, timeDateStamp, sections, symbols);
    }

    private static ushort U16(ReadOnlySpan<byte> bytes, int at) => BinaryPrimitives.ReadUInt16LittleEndian(bytes[at..]);

    private static uint U32(ReadOnlySpan<byte> bytes, int at) => BinaryPrimitives.ReadUInt32LittleEndian(bytes[at..]);

    private static string ShortName(ReadOnlySpan<byte> field) => ZeroTerminated(field);

    private static string ZeroTerminated(ReadOnlySpan<byte> bytes)
    {
        int end = bytes.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? bytes : bytes[..end]);
    }
}

/// <summary>A section header and its raw data.</summary>
public sealed record CoffSection(string Name, uint Characteristics, ushort RelocationCount, byte[] Data);

/// <summary>A symbol-table record (its aux records skipped).</summary>
public sealed record CoffSymbol(string Name, uint Value, short SectionNumber, ushort Type, byte StorageClass, byte AuxCount);
