using System;

namespace ExectOS.Memory
{
    /// <summary>
    /// Generic access to a generated layout: its regions computed into storage on the stack, and regions found
    /// by name, so architecture-neutral code asks for "PfnDatabase" instead of naming a layout's constant.
    /// </summary>
    public static class LayoutRegions
    {
        /// <summary>The most regions a layout may have (the descriptor compiler allows fewer in practice).</summary>
        public const int Capacity = 32;

        // An inline array, not stackalloc: ilc guards stackalloc with a security cookie the freestanding images lack.
        [System.Runtime.CompilerServices.InlineArray(Capacity)]
        public struct Storage
        {
            public LayoutRegion First;
        }

        /// <summary>The layout's regions for a machine of <paramref name="pages"/> page frames; empty outside its range.</summary>
        public static Span<LayoutRegion> Compute<TLayout>(ref Storage storage, ulong pages) where TLayout : struct, ILayout
        {
            Span<LayoutRegion> span = System.Runtime.InteropServices.MemoryMarshal.CreateSpan(ref storage.First, Capacity);
            if (TLayout.RegionCount > Capacity || !TLayout.Compute(pages, span.Slice(0, TLayout.RegionCount)))
                return default;
            return span.Slice(0, TLayout.RegionCount);
        }

        /// <summary>The index of the region called <paramref name="name"/>, or -1.</summary>
        public static int Find<TLayout>(string name) where TLayout : struct, ILayout
        {
            for (int i = 0; i < TLayout.RegionCount; i++)
            {
                if (SameName(TLayout.RegionName(i), name))
                    return i;
            }
            return -1;
        }

        private static bool SameName(string a, string b)
        {
            if (a.Length != b.Length)
                return false;
            for (int i = 0; i < a.Length; i++)
            {
                if (a[i] != b[i])
                    return false;
            }
            return true;
        }
    }
}
