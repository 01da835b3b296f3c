namespace ExectOS.Hardware
{
    /// <summary>
    /// How a run under QEMU ends with a verdict (architecture contract): x86 uses the isa-debug-exit device,
    /// where writing v ends the emulator with status 2v+1. Ignored on real hardware.
    /// </summary>
    public static class DebugExit
    {
        /// <summary>The device's I/O port (mirrored by the host tool's QEMU command line).</summary>
        public const ushort Port = 0xF4;

        public static void Exit(byte value) => Cpu.OutDword(Port, value);
    }
}
