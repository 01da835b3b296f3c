namespace ExectOS.Hardware
{
    /// <summary>
    /// The console UART (architecture contract: <c>ConsoleRegisters</c>, <c>OpenConsole</c>, <c>OpenConsoleAt</c>,
    /// <c>WriteByte</c>): on x86 a 16550-compatible UART driven by port I/O, COM1.
    /// </summary>
    public struct SerialPort
    {
        public const ushort Com1 = 0x3F8;

        /// <summary>The console's registers are I/O ports, not memory: nothing for the loader to map.</summary>
        public const ulong ConsoleRegisters = 0;

        private const int Data = 0, InterruptEnable = 1, FifoControl = 2, LineControl = 3, ModemControl = 4, LineStatus = 5, Scratch = 7;
        private const byte TransmitHoldingEmpty = 0x20;
        private const byte DivisorLatchAccess = 0x80;

        // A wedged or absent UART must not hang the system: give up on a byte after this many polls.
        private const int TransmitPolls = 100000;

        private ushort _base;
        private bool _present;

        public readonly bool IsPresent => _present;

        /// <summary>The UART the loader's and kernel's log goes to.</summary>
        public static SerialPort OpenConsole() => Open(Com1);

        /// <summary>The console through a mapping of its registers: port I/O needs none, so COM1.</summary>
        public static SerialPort OpenConsoleAt(ulong registers) => Open(Com1);

        /// <summary>Programs 115200 baud, 8N1, FIFOs on; reports whether a UART answered the scratch-register probe.</summary>
        public static SerialPort Open(ushort basePort)
        {
            var port = new SerialPort { _base = basePort };
            Cpu.OutByte((ushort)(basePort + Scratch), 0x5A);
            if (Cpu.InByte((ushort)(basePort + Scratch)) != 0x5A)
                return port;

            Cpu.OutByte((ushort)(basePort + InterruptEnable), 0x00);
            Cpu.OutByte((ushort)(basePort + LineControl), DivisorLatchAccess);
            Cpu.OutByte((ushort)(basePort + Data), 0x01); // divisor 1: 115200 baud
            Cpu.OutByte((ushort)(basePort + InterruptEnable), 0x00);
            Cpu.OutByte((ushort)(basePort + LineControl), 0x03); // 8 bits, no parity, one stop bit
            Cpu.OutByte((ushort)(basePort + FifoControl), 0xC7);
            Cpu.OutByte((ushort)(basePort + ModemControl), 0x03); // DTR, RTS
            port._present = true;
            return port;
        }

        public readonly void WriteByte(byte value)
        {
            if (!_present)
                return;
            for (int i = 0; i < TransmitPolls; i++)
            {
                if ((Cpu.InByte((ushort)(_base + LineStatus)) & TransmitHoldingEmpty) != 0)
                {
                    Cpu.OutByte((ushort)(_base + Data), value);
                    return;
                }
                Cpu.Pause();
            }
        }
    }
}
