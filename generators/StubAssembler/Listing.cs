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
            var reader = new ByteArrayCodeReader(image.Text, stub.Offset, stub.Length);
            var decoder = Iced.Intel.Decoder.Create(image.Architecture.Bitness(), reader, (ulong)stub.Offset);
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

        return text.ToString();
    }
}
