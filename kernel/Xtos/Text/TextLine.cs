using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ExectOS.Text
{
    /// <summary>A fixed-capacity line of text built without allocation; what does not fit is cut and marked with '~'.</summary>
    public struct TextLine
    {
        public const int Capacity = 240;

        private CharBuffer _chars;
        private int _length;

        [InlineArray(Capacity)]
        private struct CharBuffer
        {
            private char _element;
        }

        public readonly int Length => _length;

        public readonly ReadOnlySpan<char> AsSpan()
            => MemoryMarshal.CreateReadOnlySpan(ref Unsafe.As<CharBuffer, char>(ref Unsafe.AsRef(in _chars)), _length);

        public void Clear() => _length = 0;

        public void Append(char c)
        {
            if (_length < Capacity)
            {
                Unsafe.Add(ref Unsafe.As<CharBuffer, char>(ref _chars), _length++) = c;
            }
            else
            {
                Unsafe.Add(ref Unsafe.As<CharBuffer, char>(ref _chars), Capacity - 1) = '~';
            }
        }

        public void Append(ReadOnlySpan<char> text)
        {
            for (int i = 0; i < text.Length; i++)
                Append(text[i]);
        }

        /// <summary>Appends <paramref name="value"/> in hexadecimal, upper case, zero-padded to <paramref name="digits"/> (no prefix).</summary>
        public void AppendHex(ulong value, int digits)
        {
            int needed = 1;
            for (ulong rest = value >> 4; rest != 0; rest >>= 4)
                needed++;
            if (digits < needed)
                digits = needed;
            for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4)
                Append(shift >= 64 ? '0' : HexDigit((int)(value >> shift) & 0xF));
        }

        /// <summary>Appends "0x" and <paramref name="value"/> in hexadecimal padded to <paramref name="digits"/>.</summary>
        public void AppendHexPrefixed(ulong value, int digits)
        {
            Append("0x");
            AppendHex(value, digits);
        }

        public void AppendDecimal(ulong value)
        {
            // 20 digits hold any ulong; fill from the right, then copy out.
            DigitBuffer digits = default;
            ref char first = ref Unsafe.As<DigitBuffer, char>(ref digits);
            int position = 20;
            do
            {
                Unsafe.Add(ref first, --position) = (char)('0' + (int)(value % 10));
                value /= 10;
            }
            while (value != 0);
            for (; position < 20; position++)
                Append(Unsafe.Add(ref first, position));
        }

        public void AppendDecimal(long value)
        {
            if (value < 0)
            {
                Append('-');
                AppendDecimal((ulong)(-(value + 1)) + 1);
            }
            else
            {
                AppendDecimal((ulong)value);
            }
        }

        /// <summary>Appends a byte count in the largest binary unit that divides it exactly (4 KiB, 512 MiB, 1536 MiB).</summary>
        public void AppendSize(ulong bytes)
        {
            if (bytes != 0 && (bytes & ((1UL << 30) - 1)) == 0)
            {
                AppendDecimal(bytes >> 30);
                Append(" GiB");
            }
            else if (bytes != 0 && (bytes & ((1UL << 20) - 1)) == 0)
            {
                AppendDecimal(bytes >> 20);
                Append(" MiB");
            }
            else if (bytes != 0 && (bytes & ((1UL << 10) - 1)) == 0)
            {
                AppendDecimal(bytes >> 10);
                Append(" KiB");
            }
            else
            {
                AppendDecimal(bytes);
                Append(" B");
            }
        }

        private static char HexDigit(int value) => (char)(value < 10 ? '0' + value : 'A' + value - 10);

        [InlineArray(20)]
        private struct DigitBuffer
        {
            private char _element;
        }
    }
}
