using System;
using ExectOS.Boot;
using ExectOS.Hardware;

namespace ExectOS.Kernel
{
    /// <summary>
    /// The kernel's log: the architecture's console UART, written directly (no firmware after hand-off). Where its
    /// registers are memory-mapped, through the loader's console-device mapping (<see cref="LoaderBlock.ConsoleRegisters"/>).
    /// </summary>
    internal static unsafe class KernelConsole
    {
        private static SerialConsole s_port;

        internal static void Initialize(LoaderBlock* block) => s_port = SerialConsole.OpenAt(LoaderBlock.ConsoleRegisters(block, SerialPort.ConsoleRegisters));

        internal static void WriteLine(ReadOnlySpan<char> text) => s_port.WriteLine(text);

        /// <summary>Part of a line longer than a <see cref="Text.TextLine"/> holds; the last part goes through <see cref="WriteLine"/>.</summary>
        internal static void Write(ReadOnlySpan<char> text) => s_port.Write(text);
    }
}
