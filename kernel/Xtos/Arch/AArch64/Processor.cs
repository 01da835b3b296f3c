using ExectOS.Memory;

namespace ExectOS.Hardware
{
    /// <summary>
    /// What architecture-neutral code may ask of the processor (the architecture contract): on AArch64 so far the
    /// loader's part, feature probes for the descriptors' <c>requires</c>, the cycle counter and halting.
    /// </summary>
    public static unsafe class Processor
    {
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
        public static void HaltForever()
        {
            while (true)
            {
                Cpu.DisableInterrupts();
                Cpu.Halt();
            }
        }
    }
}
