namespace System
{
    /// <summary>Span helpers; the compiler converts string to ReadOnlySpan&lt;char&gt; through AsSpan.</summary>
    public static class MemoryExtensions
    {
        // Must not be written as `=> text`: the compiler would convert by calling AsSpan again.
        public static ReadOnlySpan<char> AsSpan(this string text)
            => text is null ? default : new ReadOnlySpan<char>(ref text.GetRawStringData(), text.Length);

        public static bool SequenceEqual(this ReadOnlySpan<char> left, ReadOnlySpan<char> right)
        {
            if (left.Length != right.Length)
                return false;
            for (int i = 0; i < left.Length; i++)
            {
                if (left[i] != right[i])
                    return false;
            }
            return true;
        }
    }
}
