using System.Globalization;
using System.Linq;
using System.Text;
using Iced.Intel;

namespace ExectOS.StubAssembler;

/// <summary>Disassembles a <see cref="StubImage"/> into the reviewed text listing.</summary>
/// <remarks>
/// The listing is decoded from the assembled bytes rather than printed from the assembler's input,
/// so it shows what the CPU will run. Padding between stubs is left out; offsets show the alignment.
/// </remarks>
public static class Listing
{
    private const int BytesColumnWidth = 24;

    public static string Format(StubImage image)
    {
        // Lower-case 0x numbers to match the offset column; operand sizes always shown for review.
        var formatter = new IntelFormatter();
        formatter.Options.SpaceAfterOperandSeparator = true;
        formatter.Options.MemorySizeOptions = MemorySizeOptions.Always;
        formatter.Options.HexPrefix = "0x";
        formatter.Options.HexSuffix = null;
        formatter.Options.UppercaseHex = false;
        formatter.Options.BranchLeadingZeros = false;
        formatter.Options.ShowBranchSize = false;

        var text = new StringBuilder();
        text.Append("; ").Append(image.Architecture.Name())
            .Append(" stubs, disassembled with Iced's IntelFormatter; offsets are relative to .text\n");

        foreach (PlacedStub stub in image.Stubs)
        {
            text.Append('\n').Append(stub.Definition.Declaration.Header).Append('\n');
            StubPart[] parts = stub.Definition.Declaration.Parts ?? [new StubPart(0, image.Architecture.Bitness())];
            for (int p = 0; p < parts.Length; p++)
            {
                int start = stub.Offset + parts[p].Offset, end = p + 1 < parts.Length ? stub.Offset + parts[p + 1].Offset : stub.Offset + stub.Length;
                if (stub.Definition.Declaration.Parts is not null)
                {
                    // A part ends where its padding starts.
                    while (end > start && image.Text[end - 1] == 0xCC)
                        end--;
                    text.Append("  ; ").Append(parts[p].Bitness.ToString(CultureInfo.InvariantCulture)).Append("-bit part at +0x")
                        .Append(parts[p].Offset.ToString("x", CultureInfo.InvariantCulture)).Append('\n');
                }
                Disassemble(image, text, formatter, start, end - start, parts[p].Bitness);
            }
        }

        return text.ToString();
    }

    private static void Disassemble(StubImage image, StringBuilder text, IntelFormatter formatter, int offset, int length, int bitness)
    {
        {
            var reader = new ByteArrayCodeReader(image.Text, offset, length);
            var decoder = Iced.Intel.Decoder.Create(bitness, reader, (ulong)offset);
            var output = new StringOutput();
            while (reader.CanReadByte)
            {
                decoder.Decode(out Instruction instruction);
                formatter.Format(instruction, output);
                int start = (int)instruction.IP;
                string bytes = string.Join(' ', image.Text.Skip(start).Take(instruction.Length).Select(b => b.ToString("x2", CultureInfo.InvariantCulture)));
                text.Append("  ").Append(start.ToString("x4", CultureInfo.InvariantCulture))
                    .Append("  ").Append(bytes.PadRight(BytesColumnWidth))
                    .Append("  ").Append(output.ToStringAndReset()).Append('\n');
            }
        }
    }
}
