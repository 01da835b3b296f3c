using System.Runtime.CompilerServices;

namespace ExectOS.Kernel
{
    /// <summary>
    /// Backs the core library's object allocations (static bases) before the memory manager exists: a
    /// bump allocator over a fixed arena in the image. Nothing is freed; running out is a fail-fast, which
    /// the kernel turns into a bug check.
    /// </summary>
    internal static unsafe class EarlyHeap
    {
        private const int ArenaSize = 64 * 1024;

        [InlineArray(ArenaSize)]
        private struct Arena
        {
            private byte _element;
        }

#pragma warning disable CS0649 // written through the pointer Allocate hands out
        private static Arena s_arena;
#pragma warning restore CS0649
        private static nuint s_used;

        internal static void* Allocate(nuint size)
        {
            nuint aligned = (size + 15) & ~(nuint)15;
            byte* start = (byte*)Unsafe.AsPointer(ref s_arena);
            // The arena itself may not be 16-byte aligned in the image; align the returned address.
            nuint offset = (((nuint)start + s_used + 15) & ~(nuint)15) - (nuint)start;
            if (offset + aligned > ArenaSize)
                return null;
            s_used = offset + aligned;
            return start + offset;
        }
    }
}
