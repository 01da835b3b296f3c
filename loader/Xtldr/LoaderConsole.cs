using System;
using ExectOS.Boot;
using ExectOS.Hardware;
using ExectOS.Text;

namespace ExectOS.Loader
{
    /// <summary>The loader's log on COM1, written directly: the firmware's console adds escape codes on serial.</summary>
    internal static class LoaderConsole
    {
        private static SerialConsole s_port;

        internal static void Initialize() => s_port = SerialConsole.Open();

        internal static void WriteLine(ReadOnlySpan<char> text) => s_port.WriteLine(text);

        /// <summary>Writes a fatal message with the prefix the host tool watches for.</summary>
        internal static void Error(ReadOnlySpan<char> text)
        {
            TextLine line = default;
            line.Append(BootProtocol.LoaderErrorPrefix);
            line.Append(text);
            s_port.WriteLine(line.AsSpan());
        }
    }
}
