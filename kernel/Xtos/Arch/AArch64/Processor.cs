using ExectOS.Memory;

namespace ExectOS.Hardware
{
    /// <summary>
    /// What architecture-neutral code may ask of the processor (the architecture contract): on AArch64 the two
    /// halves' roots, TLB invalidation, feature probes for the descriptors' <c>requires</c>, the processor's ids, the
    /// counter and random numbers, stacks and halting.
    /// </summary>
    public static unsafe class Processor
    {
        // TTBRn_EL1.BADDR: bits 47:1 (bit 0 is CnP); a table is at least 4 KiB aligned, and the page shift masks the rest.
        private const ulong TableBaseMask = 0x0000_FFFF_FFFF_FFFE;

        /// <summary>The low half's root (TTBR0_EL1 without its ASID and CnP).</summary>
        public static PhysicalAddress PageTableRoot(int pageShift) => new PhysicalAddress(Cpu.ReadTtbr0() & TableBaseMask & ~((1UL << pageShift) - 1));

        /// <summary>The high half's root, where the kernel lives (TTBR1_EL1).</summary>
        public static PhysicalAddress HighPageTableRoot(int pageShift) => new PhysicalAddress(Cpu.ReadTtbr1() & TableBaseMask & ~((1UL << pageShift) - 1));

        /// <summary>Drops one page's translations: on every processor (AArch64 broadcasts TLB maintenance in hardware).</summary>
        public static void InvalidatePage(VirtualAddress address) => Cpu.InvalidatePage((void*)(nuint)address.Value);

        /// <summary>This processor's affinity (MPIDR_EL1 Aff3 and Aff2:Aff0), as the MADT's GICC entries list it.</summary>
        public static uint InterruptControllerId() => Acpi.Affinity(Cpu.ReadMpidr());

        /// <summary>What boot lines call the processors' ids.</summary>
        public const string InterruptControllerIdName = "MPIDR affinities";

        /// <summary>This processor's number in the kernel's numbering (0 for the boot processor), from its block (TPIDR_EL1).</summary>
        public static uint Number() => (uint)Cpu.ProcessorNumber();

        /// <summary>What boot lines call the random-number register.</summary>
        public const string RandomSource = "RNDR";

        /// <summary>A random number from RNDR (FEAT_RNG: ID_AA64ISAR0_EL1.RNDR, bits 63:60, at least 1); false without one.</summary>
        public static bool TryReadRandom(out ulong value)
        {
            value = 0;
            if ((Cpu.ReadIdAa64Isar0() >> 60) == 0)
                return false;
            value = Cpu.ReadRandom();
            return value != 0;
        }

        /// <summary>Calls <paramref name="function"/>(<paramref name="argument"/>) on the stack whose top is <paramref name="stackTop"/>.</summary>
        public static void CallOnStack(void* stackTop, void* function, nuint argument) => Cpu.CallOnStack(stackTop, function, argument);
        /// <summary>The register probes' register the descriptors name (descriptors/aarch64/paging.xd).</summary>
        private const string MemoryModelFeatures = "ID_AA64MMFR0_EL1";

        /// <summary>Whether the processor offers a descriptor's feature (probes of registers this layer cannot read are absent).</summary>
        public static bool HasFeature(in FeatureRequirement feature)
        {
            if (feature.Probe != FeatureProbe.Register || !SameName(feature.Register, MemoryModelFeatures))
                return false;
            return feature.Holds(Cpu.ReadIdAa64Mmfr0());
        }

        // The core library has no string equality operator.
        private static bool SameName(string? name, string expected)
        {
            if (name is null || name.Length != expected.Length)
                return false;
            for (int i = 0; i < name.Length; i++)
            {
                if (name[i] != expected[i])
                    return false;
            }
            return true;
        }

        /// <summary>The exception level the processor runs at (the firmware leaves the loader at EL1 or EL2).</summary>
        public static int ExceptionLevel => (int)((Cpu.ReadCurrentEl() >> 2) & 3);

        /// <summary>What boot lines call the cycle counter.</summary>
        public const string CycleCounterName = "CNTVCT";

        /// <summary>The generic timer's count, for seeds and rough timing.</summary>
        public static ulong ReadCycleCounter() => Cpu.ReadCounter();

        public static void DisableInterrupts() => Cpu.DisableInterrupts();

        public static void EnableInterrupts() => Cpu.EnableInterrupts();

        /// <summary>Sleeps until an interrupt (one pending already counts); returns with interrupts on.</summary>
        public static void WaitForInterrupt() => Cpu.WaitForInterrupt();

        /// <summary>A spin-wait hint.</summary>
        public static void Pause() => Cpu.Pause();

        /// <summary>Stops this processor for good: interrupts masked, wfi in a loop.</summary>
        public static void HaltForever() => Cpu.HaltForever();
    }
}
