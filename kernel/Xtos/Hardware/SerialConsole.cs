using System;

namespace ExectOS.Hardware
{
    /// <summary>Text on the architecture's console UART (<see cref="SerialPort"/>): ASCII, other characters as '?', "\n" as CR LF.</summary>
    public struct SerialConsole
    {
        private SerialPort _port;

        public static SerialConsole Open() => new SerialConsole { _port = SerialPort.OpenConsole() };

        /// <summary>The console through a mapping of its registers at <paramref name="registers"/> (see <see cref="SerialPort.ConsoleRegisters"/>).</summary>
        public static SerialConsole OpenAt(ulong registers) => new SerialConsole { _port = SerialPort.OpenConsoleAt(registers) };

        public readonly void Write(ReadOnlySpan<char> text)
        {
            for (int i = 0; i < text.Length; i++)
            {
                char c = text[i];
                if (c == '\n')
                    _port.WriteByte((byte)'\r');
                _port.WriteByte(c < 0x80 ? (byte)c : (byte)'?');
            }
        }

        public readonly void WriteLine(ReadOnlySpan<char> text)
        {
            Write(text);
            Write("\n");
        }
    }
}
