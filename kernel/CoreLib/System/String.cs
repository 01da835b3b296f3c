using System.Runtime.CompilerServices;

namespace System
{
    /// <summary>Immutable UTF-16 text. Only literals exist (frozen into the image by ilc); nothing concatenates or allocates.</summary>
    public sealed class String
    {
        // ilc requires exactly these field names to lay out and preinitialize literals.
        private readonly int _stringLength;
        private char _firstChar;

        public int Length => _stringLength;

        [IndexerName("Chars")]
        public char this[int index]
        {
            get
            {
                if ((uint)index >= (uint)_stringLength)
                    Internal.Runtime.CompilerHelpers.ThrowHelpers.ThrowIndexOutOfRangeException();
                return Unsafe.Add(ref _firstChar, index);
            }
        }

        public ref readonly char GetPinnableReference() => ref _firstChar;

        internal ref char GetRawStringData() => ref _firstChar;

        public static implicit operator ReadOnlySpan<char>(string value)
            => value is null ? default : new ReadOnlySpan<char>(ref value._firstChar, value._stringLength);
    }
}
