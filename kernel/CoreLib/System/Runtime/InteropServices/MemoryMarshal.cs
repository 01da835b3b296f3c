namespace System.Runtime.InteropServices
{
    /// <summary>Spans over raw references, as in .NET (so code shared with hosted tests compiles both ways).</summary>
    public static class MemoryMarshal
    {
        public static Span<T> CreateSpan<T>(ref T reference, int length) => new Span<T>(ref reference, length);

        public static ReadOnlySpan<T> CreateReadOnlySpan<T>(scoped ref readonly T reference, int length)
            => new ReadOnlySpan<T>(ref Runtime.CompilerServices.Unsafe.AsRef(in reference), length);
    }
}
