using System.Runtime.CompilerServices;

namespace System
{
    /// <summary>The block copy and fill routines ilc calls for struct copies, zeroing and stackalloc.</summary>
    internal static unsafe class SpanHelpers
    {
        // Word-at-a-time with a byte tail; the JIT never turns these loops back into calls to themselves.
        internal static void Memmove(ref byte destination, ref byte source, nuint length)
        {
            byte* d = (byte*)Unsafe.AsPointer(ref destination);
            byte* s = (byte*)Unsafe.AsPointer(ref source);
            if (d == s || length == 0)
                return;

            if (d < s || d >= s + length)
            {
                for (; length >= 8; length -= 8, d += 8, s += 8)
                    *(ulong*)d = *(ulong*)s;
                for (; length > 0; length--)
                    *d++ = *s++;
            }
            else
            {
                d += length;
                s += length;
                for (; length >= 8; length -= 8)
                {
                    d -= 8;
                    s -= 8;
                    *(ulong*)d = *(ulong*)s;
                }
                for (; length > 0; length--)
                    *--d = *--s;
            }
        }

        internal static void Fill(ref byte destination, byte value, nuint length)
        {
            byte* d = (byte*)Unsafe.AsPointer(ref destination);
            ulong pattern = value * 0x0101010101010101UL;
            for (; length >= 8; length -= 8, d += 8)
                *(ulong*)d = pattern;
            for (; length > 0; length--)
                *d++ = value;
        }

        internal static void ClearWithoutReferences(ref byte destination, nuint length) => Fill(ref destination, 0, length);
    }
}
