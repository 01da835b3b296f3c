using System;
using ExectOS.Hardware;

namespace ExectOS.Kernel
{
    /// <summary>The kernel's log: COM1, written directly (no firmware after hand-off).</summary>
    internal static class KernelConsole
    {
        private static SerialConsole s_port;

        internal static void Initialize() => s_port = SerialConsole.Open();

        internal static void WriteLine(ReadOnlySpan<char> text) => s_port.WriteLine(text);
    }
}
