using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;

namespace ExectOS.Tests.Boot;

/// <summary>
/// Just enough PNG decoding to judge a screenshot (no System.Drawing here): the signature, IHDR, the IDAT stream
/// inflated with zlib and unfiltered, for 8-bit RGB and RGBA images without interlacing (what chromium writes).
/// </summary>
internal sealed class PngImage
{
    private static readonly byte[] Signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    public int Width { get; private init; }

    public int Height { get; private init; }

    /// <summary>Bytes per pixel: 3 (RGB) or 4 (RGBA).</summary>
    public int Channels { get; private init; }

    /// <summary>Rows of pixels, unfiltered.</summary>
    public byte[] Pixels { get; private init; } = [];

    public static PngImage Read(byte[] file)
    {
        if (file.Length < Signature.Length || !file.AsSpan(0, Signature.Length).SequenceEqual(Signature))
            throw new InvalidDataException("not a PNG: no signature");
        int width = 0, height = 0, channels = 0;
        using var idat = new MemoryStream();
        for (int at = Signature.Length; at + 12 <= file.Length;)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(file.AsSpan(at));
            string type = System.Text.Encoding.ASCII.GetString(file, at + 4, 4);
            ReadOnlySpan<byte> data = file.AsSpan(at + 8, length);
            if (type == "IHDR")
            {
                width = BinaryPrimitives.ReadInt32BigEndian(data);
                height = BinaryPrimitives.ReadInt32BigEndian(data[4..]);
                if (data[8] != 8 || data[12] != 0 || data[9] is not (2 or 6))
                    throw new InvalidDataException($"PNG of bit depth {data[8]}, colour type {data[9]}, interlace {data[12]}: not decoded here");
                channels = data[9] == 6 ? 4 : 3;
            }
            else if (type == "IDAT")
                idat.Write(data);
            else if (type == "IEND")
                break;
            at += 12 + length;
        }
        if (width <= 0 || height <= 0)
            throw new InvalidDataException("PNG without IHDR");

        idat.Position = 0;
        using var inflated = new MemoryStream();
        using (var zlib = new ZLibStream(idat, CompressionMode.Decompress))
            zlib.CopyTo(inflated);
        byte[] raw = inflated.ToArray();
        int stride = width * channels;
        if (raw.Length != height * (stride + 1))
            throw new InvalidDataException($"PNG data is {raw.Length} bytes, not {height} rows of {stride + 1}");
        var pixels = new byte[height * stride];
        for (int y = 0; y < height; y++)
            Unfilter(raw[y * (stride + 1)], raw.AsSpan(y * (stride + 1) + 1, stride), pixels.AsSpan(y * stride, stride), y == 0 ? default : pixels.AsSpan((y - 1) * stride, stride), channels);
        return new PngImage { Width = width, Height = height, Channels = channels, Pixels = pixels };
    }

    private static void Unfilter(byte filter, ReadOnlySpan<byte> line, Span<byte> row, ReadOnlySpan<byte> above, int bpp)
    {
        for (int i = 0; i < line.Length; i++)
        {
            int a = i >= bpp ? row[i - bpp] : 0, b = above.IsEmpty ? 0 : above[i], c = i >= bpp && !above.IsEmpty ? above[i - bpp] : 0;
            int predicted = filter switch
            {
                0 => 0,
                1 => a,
                2 => b,
                3 => (a + b) / 2,
                4 => Paeth(a, b, c),
                _ => throw new InvalidDataException($"PNG row filter {filter}"),
            };
            row[i] = (byte)(line[i] + predicted);
        }
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    /// <summary>The distinct RGB colours, and how many pixels are not white.</summary>
    public (int Colours, long NotWhite) Census()
    {
        var colours = new HashSet<int>();
        long notWhite = 0;
        for (int i = 0; i < Pixels.Length; i += Channels)
        {
            int rgb = (Pixels[i] << 16) | (Pixels[i + 1] << 8) | Pixels[i + 2];
            colours.Add(rgb);
            if (rgb != 0xFFFFFF)
                notWhite++;
        }
        return (colours.Count, notWhite);
    }
}
