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

        /// <summary>Part of a line longer than a <see cref="Text.TextLine"/> holds; the last part goes through <see cref="WriteLine"/>.</summary>
        internal static void Write(ReadOnlySpan<char> text) => s_port.Write(text);
    }
}
