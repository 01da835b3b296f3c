using ExectOS.Hardware;

namespace ExectOS.Kernel
{
    /// <summary>
    /// Delays for the start-up sequence: the time-stamp counter, calibrated once against the PIT's channel 2 (its
    /// gate through port 0x61, 1.193182 MHz), so the waits are real time on hardware and under emulation alike.
    /// </summary>
    internal static class Timing
    {
        private const ushort Command = 0x43, Channel2 = 0x42, Gate = 0x61;
        private const uint PitHertz = 1193182;
        private static ulong s_cyclesPerMicrosecond;

        internal static ulong CyclesPerMicrosecond => s_cyclesPerMicrosecond;

        /// <summary>Counts TSC cycles over 10 ms of the PIT. False when the PIT never counted down (then 1 GHz is assumed).</summary>
        internal static bool Calibrate()
        {
            const uint Ticks = PitHertz / 100;
            byte gate = Cpu.InByte(Gate);
            Cpu.OutByte(Gate, (byte)((gate & 0xFC) | 1)); // gate on, speaker off
            Cpu.OutByte(Command, 0xB0);                   // channel 2, low then high byte, mode 0
            Cpu.OutByte(Channel2, (byte)(Ticks & 0xFF));
            Cpu.OutByte(Channel2, (byte)(Ticks >> 8));
            ulong start = Cpu.ReadTimeStampCounter();
            bool counted = false;
            for (int spin = 0; spin < 50000000; spin++)
            {
                if ((Cpu.InByte(Gate) & 0x20) != 0)
                {
                    counted = true;
                    break;
                }
            }
            ulong cycles = Cpu.ReadTimeStampCounter() - start;
            Cpu.OutByte(Gate, gate);
            s_cyclesPerMicrosecond = counted && cycles >= 10000 ? cycles / 10000 : 1000;
            return counted;
        }

        internal static void Delay(ulong microseconds)
        {
            ulong end = Cpu.ReadTimeStampCounter() + microseconds * s_cyclesPerMicrosecond;
            while (Cpu.ReadTimeStampCounter() < end)
                Cpu.Pause();
        }
    }
}
