using ExectOS.Boot;

namespace ExectOS.Hardware
{
    /// <summary>QEMU's isa-debug-exit device: writing v ends the emulator with status 2v+1. Ignored elsewhere.</summary>
    public static class DebugExit
    {
        public static void Exit(byte value) => Cpu.OutDword(BootProtocol.DebugExitPort, value);
    }
}
