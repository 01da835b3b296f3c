using System.Runtime.InteropServices;

namespace Internal.Runtime
{
    /// <summary>The part of ilc's type descriptor that allocation and casts read.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal unsafe struct MethodTable
    {
        // Low 16 bits: component size of arrays and strings; high 16 bits: flags.
        private uint _uFlags;
        private uint _uBaseSize;
        private MethodTable* _relatedType;

        private const uint HasComponentSizeFlag = 0x80000000;
        private const uint KindMask = 0x00030000;

        internal uint BaseSize => _uBaseSize;

        internal ushort ComponentSize => (_uFlags & HasComponentSizeFlag) != 0 ? (ushort)_uFlags : (ushort)0;

        /// <summary>Only ordinary classes and structs have a base type in <c>_relatedType</c>; arrays keep their element type there.</summary>
        internal bool IsCanonical => (_uFlags & KindMask) == 0;

        internal MethodTable* BaseType => IsCanonical ? _relatedType : null;
    }
}
