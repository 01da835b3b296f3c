namespace ExectOS.Hardware
{
    /// <summary>
    /// The console UART (architecture contract: <c>ConsoleRegisters</c>, <c>OpenConsole</c>, <c>OpenConsoleAt</c>,
    /// <c>WriteByte</c>): on QEMU's virt board an ARM PL011 at 0x09000000, memory-mapped. The firmware maps it as
    /// device memory and has set it up for its own console, so it is written as it is; the kernel reaches it through
    /// the loader's device mapping of its page.
    /// </summary>
    public unsafe struct SerialPort
    {
        /// <summary>The virt board's UART0 (QEMU hw/arm/virt.c, VIRT_UART).</summary>
        public const ulong VirtUart = 0x09000000;

        /// <summary>The console's registers, which the loader maps for the kernel as device memory.</summary>
        public const ulong ConsoleRegisters = VirtUart;

        // PL011 registers (ARM DDI 0183): data, flags; the flag register's transmit-FIFO-full bit.
        private const int Data = 0x00, Flags = 0x18;
        private const uint TransmitFull = 1u << 5;

        // A wedged UART must not hang the system: give up on a byte after this many polls.
        private const int TransmitPolls = 100000;

        private byte* _base;

        public readonly bool IsPresent => _base != null;

        /// <summary>The UART the loader's log goes to.</summary>
        public static SerialPort OpenConsole() => Open(VirtUart);

        /// <summary>The console through the virtual address of its registers; none (0) gives a port that writes nothing.</summary>
        public static SerialPort OpenConsoleAt(ulong registers) => Open(registers);

        public static SerialPort Open(ulong physical) => new SerialPort { _base = (byte*)(nuint)physical };

        public readonly void WriteByte(byte value)
        {
            if (_base == null)
                return;
            for (int i = 0; i < TransmitPolls; i++)
            {
                if ((Cpu.Read32(_base + Flags) & TransmitFull) == 0)
                {
                    Cpu.Write32(_base + Data, value);
                    return;
                }
                Cpu.Pause();
            }
        }
    }
}
