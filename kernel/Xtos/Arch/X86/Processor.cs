using ExectOS.Memory;

namespace ExectOS.Hardware
{
    /// <summary>
    /// What architecture-neutral code may ask of the processor (the architecture contract; every
    /// <c>Arch/&lt;arch&gt;/</c> folder of libxtos provides a <c>Processor</c> with these members). On x86 each
    /// maps to an instruction stub in <see cref="Cpu"/>.
    /// </summary>
    public static unsafe class Processor
    {
        /// <summary>The physical address of the page-table root in use (CR3 without its flag bits).</summary>
        public static PhysicalAddress PageTableRoot(int pageShift) => new PhysicalAddress((ulong)Cpu.ReadCr3() & ~((1UL << pageShift) - 1));

        /// <summary>A split mode's high-half root: x86 modes have one root, so none.</summary>
        public static PhysicalAddress HighPageTableRoot(int pageShift) => default;

        /// <summary>Drops one page's translation from this processor's TLB.</summary>
        public static void InvalidatePage(VirtualAddress address) => Cpu.InvalidatePage((void*)(nuint)address.Value);

        /// <summary>Whether the processor offers a descriptor's feature (probes this architecture does not know are absent).</summary>
        public static bool HasFeature(in FeatureRequirement feature)
        {
            if (feature.Probe != FeatureProbe.CpuId || feature.Word < 0 || feature.Word > 3 || feature.Bit < 0 || feature.Bit > 31)
                return false;
            // A leaf above the highest the processor implements returns another leaf's data: check the range first.
            uint highest = Cpu.CpuId(feature.Selector & 0x80000000).Eax;
            if (feature.Selector > highest)
                return false;
            CpuIdResult result = Cpu.CpuId(feature.Selector, feature.Subselector);
            uint value = feature.Word switch { 0 => result.Eax, 1 => result.Ebx, 2 => result.Ecx, _ => result.Edx };
            return (value & (1u << feature.Bit)) != 0;
        }

        /// <summary>
        /// This processor's id in the interrupt controller's numbering (x86: the local APIC id, from CPUID's x2APIC
        /// leaf 0xB where the processor has it, else leaf 1), as the firmware's processor tables list it.
        /// </summary>
        public static uint InterruptControllerId()
        {
            if (Cpu.CpuId(0).Eax >= 0xB)
            {
                CpuIdResult topology = Cpu.CpuId(0xB);
                // A leaf 0xB with no levels (EBX = 0) is not implemented.
                if (topology.Ebx != 0)
                    return topology.Edx;
            }
            return Cpu.CpuId(1).Ebx >> 24;
        }

        /// <summary>This processor's number in the kernel's numbering (0 for the boot processor), from its processor block.</summary>
        public static uint Number() => (uint)Cpu.ProcessorNumber();

        /// <summary>What boot lines call the interrupt controller's processor ids.</summary>
        public const string InterruptControllerIdName = "APIC ids";

        /// <summary>What boot lines call the random-number instruction and the cycle counter.</summary>
        public const string RandomSource = "RDRAND", CycleCounterName = "TSC";

        /// <summary>A hardware random number (RDRAND); false when the processor has none or gave none.</summary>
        public static bool TryReadRandom(out ulong value)
        {
            value = 0;
            if (!Cpu.HasRandom)
                return false;
            value = Cpu.ReadRandom();
            return value != 0;
        }

        /// <summary>A free-running cycle counter (TSC), for seeds and rough timing.</summary>
        public static ulong ReadCycleCounter() => Cpu.ReadTimeStampCounter();

        /// <summary>Calls <paramref name="function"/>(<paramref name="argument"/>) on the stack whose top is <paramref name="stackTop"/>.</summary>
        public static void CallOnStack(void* stackTop, void* function, nuint argument) => Cpu.CallOnStack(stackTop, function, argument);

        public static void DisableInterrupts() => Cpu.DisableInterrupts();

        public static void EnableInterrupts() => Cpu.EnableInterrupts();

        /// <summary>Sleeps until an interrupt (one pending already counts); returns with interrupts on.</summary>
        public static void WaitForInterrupt() => Cpu.WaitForInterrupt();

        /// <summary>A spin-wait hint.</summary>
        public static void Pause() => Cpu.Pause();

        /// <summary>Stops this processor for good.</summary>
        public static void HaltForever() => Cpu.HaltForever();
    }
}
