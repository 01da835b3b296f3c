using ExectOS.Hardware;

namespace ExectOS.Kernel
{
    /// <summary>
    /// The local APIC, for the start-up IPIs and, once processors run, for inter-processor requests: xAPIC through its
    /// registers (mapped by the caller; every processor sees its own APIC at the same address), or x2APIC through MSRs
    /// when the firmware left it in that mode. Intel SDM Vol. 3A, chapter 11.
    /// </summary>
    internal unsafe struct LocalApic
    {
        private const uint ApicBaseMsr = 0x1B, X2ApicEnabled = 1 << 10;
        private const int SpuriousVector = 0xF0, CommandLow = 0x300, CommandHigh = 0x310;
        private const uint X2ApicMsrs = 0x800;
        private const uint SoftwareEnable = 1 << 8, DeliveryPending = 1 << 12;
        private const uint Init = 0x500, StartUp = 0x600, LevelAssert = 1 << 14;
        private const int TaskPriority = 0x80, EndOfInterruptRegister = 0xB0, LvtTimer = 0x320, LvtLint0 = 0x350, LvtError = 0x370;
        private const uint Masked = 1 << 16;

        private readonly byte* _registers;

        /// <summary>Whether the local APIC is in x2APIC mode (the firmware's choice or the kernel's; no registers to map then).</summary>
        public readonly bool X2Apic;

        public LocalApic(byte* registers)
        {
            _registers = registers;
            X2Apic = (Cpu.ReadMsr(ApicBaseMsr) & X2ApicEnabled) != 0;
        }

        public static bool IsX2Apic => (Cpu.ReadMsr(ApicBaseMsr) & X2ApicEnabled) != 0;

        /// <summary>Whether this processor's APIC can run in x2APIC mode (CPUID leaf 1, ECX bit 21).</summary>
        public static bool CanUseX2Apic => (Cpu.CpuId(1).Ecx & (1u << 21)) != 0;

        /// <summary>
        /// Switches this processor's APIC from xAPIC to x2APIC mode (a direct transition, Intel SDM Vol. 3A 11.12.5);
        /// one already in x2APIC mode stays. Each processor does it on itself: INIT puts an APIC back in xAPIC mode.
        /// </summary>
        public static void SwitchToX2Apic()
        {
            ulong state = Cpu.ReadMsr(ApicBaseMsr);
            if ((state & X2ApicEnabled) == 0)
                Cpu.WriteMsr(ApicBaseMsr, state | X2ApicEnabled);
        }

        /// <summary>Software-enables the APIC (it must be, to send IPIs), spurious vector 0xFF.</summary>
        public void Enable() => Write(SpuriousVector, Read(SpuriousVector) | SoftwareEnable | 0xFF);

        /// <summary>
        /// Readies this processor's APIC for interrupts: software-enabled, the timer, LINT0 (the legacy PIC's line) and
        /// error entries masked, and the task priority at <paramref name="priority"/>, so only vectors of a higher
        /// priority class (the inter-processor ones) are delivered. NMIs (LINT1) stay as the firmware set them.
        /// </summary>
        public void PrepareForInterrupts(uint priority)
        {
            Enable();
            Write(LvtTimer, Read(LvtTimer) | Masked);
            Write(LvtLint0, Read(LvtLint0) | Masked);
            Write(LvtError, Read(LvtError) | Masked);
            Write(TaskPriority, priority);
        }

        /// <summary>A fixed interrupt with <paramref name="vector"/> to the processor whose APIC id is <paramref name="apicId"/>.</summary>
        public bool SendFixed(uint apicId, uint vector) => Send(apicId, LevelAssert | (vector & 0xFF));

        /// <summary>Tells this processor's APIC the interrupt in service is handled.</summary>
        public void EndOfInterrupt() => Write(EndOfInterruptRegister, 0);

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
