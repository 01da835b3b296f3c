using System;
using System.Collections.Generic;
using Iced.Intel;

namespace ExectOS.StubAssembler;

/// <summary>One assembled stub: where it starts in .text and how many bytes of code it has.</summary>
public sealed record PlacedStub(StubDefinition Definition, int Offset, int Length)
{
    public string Name => Definition.Name;
}

/// <summary>The assembled .text contents for one architecture: every stub, 16-byte aligned.</summary>
public sealed class StubImage
{
    /// <summary>Alignment of each stub and of the section; also the COFF section's ALIGN flag.</summary>
    public const int Alignment = 16;

    // int3: anything that jumps into the padding traps instead of running into the next stub.
    private const byte Padding = 0xCC;

    private StubImage(StubArchitecture architecture, byte[] text, IReadOnlyList<PlacedStub> stubs)
    {
        Architecture = architecture;
        Text = text;
        Stubs = stubs;
    }

    public StubArchitecture Architecture { get; }

    public byte[] Text { get; }

    public IReadOnlyList<PlacedStub> Stubs { get; }

    public static StubImage Build(StubArchitecture arch)
    {
        var text = new List<byte>();
        var placed = new List<PlacedStub>();
        foreach (StubDefinition stub in StubCatalog.For(arch))
        {
            int offset = text.Count;
            byte[] code = Assemble(stub, (ulong)offset);
            text.AddRange(code);
            while (text.Count % Alignment != 0)
            {
                text.Add(Padding);
            }

            placed.Add(new PlacedStub(stub, offset, code.Length));
        }

        return new StubImage(arch, text.ToArray(), placed);
    }

    private static byte[] Assemble(StubDefinition stub, ulong offset)
    {
        var asm = new Assembler(stub.Architecture.Bitness());
        stub.Body(asm, stub.Arguments);
        var writer = new ByteWriter();

        // Assembled at its section offset so that branch targets in the listing read as offsets.
        asm.Assemble(writer, offset);
        if (writer.Bytes.Count == 0)
        {
            throw new InvalidOperationException($"Stub {stub.Name} assembled to nothing.");
        }

        return writer.Bytes.ToArray();
    }

    private sealed class ByteWriter : CodeWriter
    {
        public List<byte> Bytes { get; } = [];

        public override void WriteByte(byte value) => Bytes.Add(value);
    }
}
