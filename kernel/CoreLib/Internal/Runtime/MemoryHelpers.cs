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

    /// <summary>Copies that may contain references: with no collector, a plain move.</summary>
    internal static class Buffer
    {
        internal static void BulkMoveWithWriteBarrier(ref byte destination, ref byte source, nuint length)
            => SpanHelpers.Memmove(ref destination, ref source, length);
    }
}

namespace System.Runtime.InteropServices
{
    /// <summary>Interface ilc's scanner roots; dynamic interface casting is not supported here.</summary>
    internal interface IDynamicInterfaceCastable
    {
        static RuntimeTypeHandle GetDynamicInterfaceImplementation(object instance, RuntimeTypeHandle interfaceType)
        {
            Internal.Runtime.RuntimeHost.FailFast(Internal.Runtime.FailFastReason.UnsupportedRuntimeFeature);
            return default;
        }
    }
}
