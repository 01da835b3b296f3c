using System.Runtime;
using System.Runtime.CompilerServices;
using Internal.Runtime.CompilerHelpers;

namespace System
{
    /// <summary>
    /// The 64-bit division ilc's 32-bit x86 code calls (its helpers DivInt64 ... ModUInt64). Written without
    /// 64-bit '/' and '%', which would call these same methods: the work is ArDivideUInt64's, an x86 stub.
    /// Division by zero and long.MinValue / -1 fail fast, as .NET throws.
    /// </summary>
    public static class Math
    {
        [RuntimeImport("ArDivideUInt64"), MethodImpl(MethodImplOptions.InternalCall)]
        private static extern ulong DivideUInt64(ulong dividend, ulong divisor);

        internal static ulong DivUInt64(ulong dividend, ulong divisor)
        {
            if ((uint)(divisor >> 32) == 0)
            {
                if ((uint)divisor == 0)
                    ThrowHelpers.ThrowDivideByZeroException();
                if ((uint)(dividend >> 32) == 0)
                    return (uint)dividend / (uint)divisor;
            }
            return DivideUInt64(dividend, divisor);
        }

        internal static ulong ModUInt64(ulong dividend, ulong divisor) => dividend - DivUInt64(dividend, divisor) * divisor;

        internal static long DivInt64(long dividend, long divisor)
        {
            if (divisor == -1)
            {
                if (dividend == long.MinValue)
                    ThrowHelpers.ThrowOverflowException();
                return -dividend;
            }
            ulong quotient = DivUInt64(Magnitude(dividend), Magnitude(divisor));
            return (dividend < 0) != (divisor < 0) ? -(long)quotient : (long)quotient;
        }

        internal static long ModInt64(long dividend, long divisor)
        {
            if (divisor == -1)
            {
                if (dividend == long.MinValue)
                    ThrowHelpers.ThrowOverflowException();
                return 0;
            }
            // The remainder takes the dividend's sign, as in C#.
            ulong remainder = ModUInt64(Magnitude(dividend), Magnitude(divisor));
            return dividend < 0 ? -(long)remainder : (long)remainder;
        }

        private static ulong Magnitude(long value) => value < 0 ? (ulong)(-value) : (ulong)value;
    }
}
