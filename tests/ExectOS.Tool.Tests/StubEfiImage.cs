using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace ExectOS.Tool.Tests;

/// <summary>Tiny x64 UEFI applications that end a boot each of the ways a real loader or kernel can.</summary>
/// <remarks>Hand-assembled so the boot tests need neither our OS images nor an assembler. Each prints
/// its message on COM1 with plain port writes (OVMF has set the UART up), then does one thing.</remarks>
internal static class StubEfiImage
{
    /// <summary>Writes <paramref name="value"/> to the isa-debug-exit port.</summary>
    public static byte[] ExitWith(string message, byte value) =>
        Build(message, tail: [0xB0, value, 0xE6, 0xF4, .. HaltForever]); // mov al, value; out 0xf4, al

    /// <summary>Returns an EFI status to the firmware, as the loader does after printing an error.</summary>
    public static byte[] ReturnStatus(string message, ulong status)
    {
        var tail = new List<byte> { 0x5E, 0x48, 0xB8 }; // pop rsi; mov rax, imm64
        tail.AddRange(BitConverter.GetBytes(status));
        tail.Add(0xC3); // ret
        return Build(message, [.. tail]);
    }

    /// <summary>Loads an empty IDT and raises int3: #GP, then #DF, then a triple fault (a reset).</summary>
    public static byte[] TripleFault(string message) =>
        Build(message, tail: [0xFA, 0x0F, 0x01, 0x1D, 0, 0, 0, 0, 0xCC, .. HaltForever], idtDisplacementAt: 4);

    /// <summary>Halts with interrupts off: the run can only end by timeout.</summary>
    public static byte[] Hang(string message) => Build(message, tail: [0xFA, .. HaltForever]);

    public static string WriteTo(string directory, string name, byte[] image)
    {
        string path = Path.Combine(directory, name);
        File.WriteAllBytes(path, image);
        return path;
    }

    /// <summary>hlt; jmp back to the hlt.</summary>
    private static readonly byte[] HaltForever = [0xF4, 0xEB, 0xFD];

    private static byte[] Build(string message, byte[] tail, int idtDisplacementAt = -1)
    {
        // push rsi; lea rsi, [rip + message]; mov dx, 0x3f8;
        // next: lodsb; test al, al; jz done; out dx, al; jmp next; done: <tail>
        byte[] prologue = [0x56, 0x48, 0x8D, 0x35, 0, 0, 0, 0, 0x66, 0xBA, 0xF8, 0x03, 0xAC, 0x84, 0xC0, 0x74, 0x03, 0xEE, 0xEB, 0xF8];
        const int LeaEnd = 8;
        byte[] text = Encoding.ASCII.GetBytes(message + "\0");
        int messageOffset = prologue.Length + tail.Length;
        int idtOffset = messageOffset + text.Length;

        var code = new byte[idtOffset + 10]; // ends with a zeroed 10-byte IDT descriptor (limit 0)
        prologue.CopyTo(code, 0);
        tail.CopyTo(code, prologue.Length);
        text.CopyTo(code, messageOffset);
        BinaryPrimitives.WriteInt32LittleEndian(code.AsSpan(4), messageOffset - LeaEnd);
        if (idtDisplacementAt >= 0)
        {
            int at = prologue.Length + idtDisplacementAt;
            BinaryPrimitives.WriteInt32LittleEndian(code.AsSpan(at), idtOffset - (at + 4));
        }

        return PeImage(code);
    }

    /// <summary>A PE32+ EFI application with one section; the code is position-independent, so no relocations.</summary>
    private static byte[] PeImage(byte[] code)
    {
        const int FileAlignment = 0x200;
        const int SectionAlignment = 0x1000;
        const int TextRva = 0x1000;
        if (code.Length > FileAlignment)
        {
            throw new ArgumentException("stub too large", nameof(code));
        }

        var image = new byte[FileAlignment * 2];
        Span<byte> span = image;
        span[0] = (byte)'M';
        span[1] = (byte)'Z';
        BinaryPrimitives.WriteInt32LittleEndian(span[0x3C..], 0x40);

        Span<byte> pe = span[0x40..];
        "PE\0\0"u8.CopyTo(pe);
        Span<byte> coff = pe[4..];
        BinaryPrimitives.WriteUInt16LittleEndian(coff, 0x8664);          // Machine: x64
        BinaryPrimitives.WriteUInt16LittleEndian(coff[2..], 1);          // NumberOfSections
        BinaryPrimitives.WriteUInt16LittleEndian(coff[16..], 240);       // SizeOfOptionalHeader
        BinaryPrimitives.WriteUInt16LittleEndian(coff[18..], 0x0022);    // EXECUTABLE_IMAGE | LARGE_ADDRESS_AWARE

        Span<byte> opt = coff[20..];
        BinaryPrimitives.WriteUInt16LittleEndian(opt, 0x20B);            // PE32+
        BinaryPrimitives.WriteInt32LittleEndian(opt[4..], FileAlignment); // SizeOfCode
        BinaryPrimitives.WriteInt32LittleEndian(opt[16..], TextRva);     // AddressOfEntryPoint
        BinaryPrimitives.WriteInt32LittleEndian(opt[20..], TextRva);     // BaseOfCode
        BinaryPrimitives.WriteUInt64LittleEndian(opt[24..], 0x140000000); // ImageBase
        BinaryPrimitives.WriteInt32LittleEndian(opt[32..], SectionAlignment);
        BinaryPrimitives.WriteInt32LittleEndian(opt[36..], FileAlignment);
        BinaryPrimitives.WriteInt32LittleEndian(opt[56..], TextRva + SectionAlignment); // SizeOfImage
        BinaryPrimitives.WriteInt32LittleEndian(opt[60..], FileAlignment);  // SizeOfHeaders
        BinaryPrimitives.WriteUInt16LittleEndian(opt[68..], 10);            // Subsystem: EFI application
        BinaryPrimitives.WriteUInt16LittleEndian(opt[70..], 0x8160);        // DllCharacteristics, as lld-link writes
        BinaryPrimitives.WriteUInt64LittleEndian(opt[72..], 0x100000);      // stack reserve
        BinaryPrimitives.WriteUInt64LittleEndian(opt[80..], 0x1000);        // stack commit
        BinaryPrimitives.WriteUInt64LittleEndian(opt[88..], 0x100000);      // heap reserve
        BinaryPrimitives.WriteUInt64LittleEndian(opt[96..], 0x1000);        // heap commit
        BinaryPrimitives.WriteInt32LittleEndian(opt[108..], 16);            // NumberOfRvaAndSizes (all empty)

        Span<byte> section = opt[240..];
        ".text\0\0\0"u8.CopyTo(section);
        BinaryPrimitives.WriteInt32LittleEndian(section[8..], code.Length);   // VirtualSize
        BinaryPrimitives.WriteInt32LittleEndian(section[12..], TextRva);      // VirtualAddress
        BinaryPrimitives.WriteInt32LittleEndian(section[16..], FileAlignment); // SizeOfRawData
        BinaryPrimitives.WriteInt32LittleEndian(section[20..], FileAlignment); // PointerToRawData
        BinaryPrimitives.WriteUInt32LittleEndian(section[36..], 0x60000020);  // CODE | EXECUTE | READ

        code.CopyTo(span[FileAlignment..]);
        return image;
    }
}
