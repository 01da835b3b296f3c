using ExectOS.Diagnostics;
using ExectOS.Text;

namespace ExectOS.Kernel
{
    /// <summary>
    /// 64-bit multiply, divide, remainder and shifts checked against known results at start-up. On a 32-bit image
    /// these are the stub helpers and the core library's System.Math (ilc calls them for what the processor cannot
    /// do in one instruction): a wrong carry or shift there would corrupt the memory manager quietly. The operands
    /// are static fields, not constants, so the compiler cannot fold the operations away.
    /// </summary>
    internal static class ArithmeticCheck
    {
        private static ulong s_left = 0x123456789ABCDEF0, s_right = 0x0FEDCBA987654321;
        private static ulong s_dividend = 0xFEDCBA9876543210, s_narrow = 0x9ABCDEF, s_wide = 0x123456789;
        private static long s_negative = -0x123456789ABCDEF, s_seven = 7;
        private static ulong s_pattern = 0x8123456789ABCDEF;
        private static int s_one = 1, s_thirtyOne = 31, s_thirtyTwo = 32, s_thirtyThree = 33, s_sixtyThree = 63;

        internal static void Run()
        {
            Expect(ArithmeticCheckFailure.Multiply, 0, s_left * s_right, 0x2236D88FE5618CF0);
            Expect(ArithmeticCheckFailure.DivideUnsigned, 0, s_dividend / s_narrow, 0x1A5A5A5D45);
            Expect(ArithmeticCheckFailure.RemainderUnsigned, 0, s_dividend % s_narrow, 0x52FDDA5);
            Expect(ArithmeticCheckFailure.DivideUnsigned, 1, s_dividend / s_wide, 0xE0000000);
            Expect(ArithmeticCheckFailure.RemainderUnsigned, 1, s_dividend % s_wide, 0x96543210);
            Expect(ArithmeticCheckFailure.DivideSigned, 0, (ulong)(s_negative / s_seven), 0xFFD663CCA3309971);
            Expect(ArithmeticCheckFailure.RemainderSigned, 0, (ulong)(s_negative % s_seven), 0xFFFFFFFFFFFFFFFA);
            Shifts(0, s_one, 0x02468ACF13579BDE, 0x4091A2B3C4D5E6F7, 0xC091A2B3C4D5E6F7);
            Shifts(1, s_thirtyOne, 0xC4D5E6F780000000, 0x102468ACF, 0xFFFFFFFF02468ACF);
            Shifts(2, s_thirtyTwo, 0x89ABCDEF00000000, 0x81234567, 0xFFFFFFFF81234567);
            Shifts(3, s_thirtyThree, 0x13579BDE00000000, 0x4091A2B3, 0xFFFFFFFFC091A2B3);
            Shifts(4, s_sixtyThree, 0x8000000000000000, 0x1, 0xFFFFFFFFFFFFFFFF);
        }

        private static void Shifts(ulong index, int count, ulong left, ulong right, ulong arithmetic)
        {
            Expect(ArithmeticCheckFailure.ShiftLeft, index, s_pattern << count, left);
            Expect(ArithmeticCheckFailure.ShiftRightUnsigned, index, s_pattern >> count, right);
            Expect(ArithmeticCheckFailure.ShiftRightSigned, index, (ulong)((long)s_pattern >> count), arithmetic);
        }

        private static void Expect(ArithmeticCheckFailure operation, ulong index, ulong result, ulong expected)
        {
            if (result == expected)
                return;
            TextLine line = default;
            line.Append("XTOSKRNL: 64-bit arithmetic is wrong: case ");
            line.AppendDecimal(index);
            line.Append(" gave ");
            line.AppendHexPrefixed(result, 16);
            line.Append(", not ");
            line.AppendHexPrefixed(expected, 16);
            KernelConsole.WriteLine(line.AsSpan());
            BugCheck.Raise(BugCheckCode.ArithmeticCheckFailed, (ulong)operation, index, result, expected);
        }
    }
}
