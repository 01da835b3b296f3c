using ExectOS.Hardware;

namespace ExectOS.Kernel
{
    /// <summary>
    /// The boot processor's local APIC, for the start-up IPIs: xAPIC through its registers (mapped by the caller), or
    /// x2APIC through MSRs when the firmware left it in that mode. Intel SDM Vol. 3A, chapter 11.
    /// </summary>
    internal unsafe struct LocalApic
    {
        private const uint ApicBaseMsr = 0x1B, X2ApicEnabled = 1 << 10;
        private const int SpuriousVector = 0xF0, CommandLow = 0x300, CommandHigh = 0x310;
        private const uint X2ApicMsrs = 0x800;
        private const uint SoftwareEnable = 1 << 8, DeliveryPending = 1 << 12;
        private const uint Init = 0x500, StartUp = 0x600, LevelAssert = 1 << 14;

        private readonly byte* _registers;

        /// <summary>Whether the firmware left the local APIC in x2APIC mode (no registers to map then).</summary>
        public readonly bool X2Apic;

        public LocalApic(byte* registers)
        {
            _registers = registers;
            X2Apic = (Cpu.ReadMsr(ApicBaseMsr) & X2ApicEnabled) != 0;
        }

        public static bool IsX2Apic => (Cpu.ReadMsr(ApicBaseMsr) & X2ApicEnabled) != 0;

        /// <summary>Software-enables the APIC (it must be, to send IPIs), spurious vector 0xFF.</summary>
        public void Enable() => Write(SpuriousVector, Read(SpuriousVector) | SoftwareEnable | 0xFF);

        /// <summary>INIT to <paramref name="apicId"/>; false when the APIC never accepted it.</summary>
        public bool SendInit(uint apicId) => Send(apicId, Init | LevelAssert);

        /// <summary>A start-up IPI: the processor starts in real mode at <paramref name="page"/> (below 1 MiB).</summary>
        public bool SendStartUp(uint apicId, ulong page) => Send(apicId, StartUp | LevelAssert | (uint)(page >> 12));

        private bool Send(uint apicId, uint command)
        {
            if (X2Apic)
            {
                // One 64-bit write: the destination in the high half; no delivery status to wait for.
                Cpu.WriteMsr(X2ApicMsrs + CommandLow / 16, (ulong)apicId << 32 | command);
                return true;
            }
            Write(CommandHigh, apicId << 24);
            Write(CommandLow, command);
            for (int spin = 0; spin < 1000000; spin++)
            {
                if ((Read(CommandLow) & DeliveryPending) == 0)
                    return true;
                Cpu.Pause();
            }
            return false;
        }

        private readonly uint Read(int register)
            => X2Apic ? (uint)Cpu.ReadMsr(X2ApicMsrs + (uint)register / 16) : *(uint*)(_registers + register);

        private readonly void Write(int register, uint value)
        {
            if (X2Apic)
                Cpu.WriteMsr(X2ApicMsrs + (uint)register / 16, value);
            else
                *(uint*)(_registers + register) = value;
        }
    }
}
