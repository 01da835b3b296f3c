namespace System
{
    // The compiler knows these by name; each holds one field of its own type.
    public struct Boolean { private bool m_value; }

    public struct Char
    {
        private char m_value;
        public const char MinValue = '\0';
        public const char MaxValue = '\uffff';
    }

    public struct SByte
    {
        private sbyte m_value;
        public const sbyte MinValue = -128;
        public const sbyte MaxValue = 127;
    }

    public struct Byte
    {
        private byte m_value;
        public const byte MinValue = 0;
        public const byte MaxValue = 255;
    }

    public struct Int16
    {
        private short m_value;
        public const short MinValue = -32768;
        public const short MaxValue = 32767;
    }

    public struct UInt16
    {
        private ushort m_value;
        public const ushort MinValue = 0;
        public const ushort MaxValue = 65535;
    }

    public struct Int32
    {
        private int m_value;
        public const int MinValue = -2147483648;
        public const int MaxValue = 2147483647;
    }

    public struct UInt32
    {
        private uint m_value;
        public const uint MinValue = 0;
        public const uint MaxValue = 4294967295;
    }

    public struct Int64
    {
        private long m_value;
        public const long MinValue = -9223372036854775808;
        public const long MaxValue = 9223372036854775807;
    }

    public struct UInt64
    {
        private ulong m_value;
        public const ulong MinValue = 0;
        public const ulong MaxValue = 18446744073709551615;
    }

    public unsafe struct IntPtr
    {
        private void* _value;
        public static readonly IntPtr Zero;
        public IntPtr(void* value) { _value = value; }
        public static int Size => sizeof(nint);
    }

    public unsafe struct UIntPtr
    {
        private void* _value;
        public static readonly UIntPtr Zero;
        public UIntPtr(void* value) { _value = value; }
        public static int Size => sizeof(nuint);
    }

    // Floating point exists because the compiler requires the types; kernel code does not use it.
    public struct Single { private float m_value; }

    public struct Double { private double m_value; }
}
