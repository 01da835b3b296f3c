using ExectOS.Boot;
using ExectOS.Memory;

namespace ExectOS.Kernel
{
    /// <summary>
    /// x86's way of waking the other processors: the start-up page the loader reserved, filled by the architecture's
    /// <see cref="ProcessorStart"/> and identity-mapped while processors start; the boot processor's local APIC; and
    /// per processor INIT, 10 ms, a start-up IPI, a second one when the first went unanswered (Intel SDM Vol. 3A
    /// 8.4.4.1), with delays from the TSC calibrated against the PIT.
    /// </summary>
    internal unsafe struct ProcessorWakeup
    {
        private LocalApic _apic;
        private ulong _page;

        /// <summary>Ready to start processors (null), or why they cannot be started.</summary>
        internal static string? Open<TMode>(LoaderBlock* block, ulong localApic, out ProcessorWakeup wakeup) where TMode : struct, IPagingMode
        {
            wakeup = default;
            if (!ProcessorStart.IsSupported)
                return ProcessorStart.NotSupported;
            ulong page = block->ProcessorStartPage;
            if (page == 0 || page > ProcessorStartLayout.Limit)
                return "the loader found no page below 1 MiB for their start-up code";
            Timing.Calibrate();
            // x2APIC where the processor has it, as NT's HAL does: MSR access and 32-bit ids, no registers to map.
            // Every processor switches its own APIC on arrival (InterProcessor.PrepareThisProcessor).
            if (LocalApic.CanUseX2Apic)
                LocalApic.SwitchToX2Apic();
            byte* registers = null;
            if (!LocalApic.IsX2Apic && !KernelMappings<TMode>.MapDevice(localApic, out registers))
                return "the local APIC's registers could not be mapped";
            wakeup._apic = new LocalApic(registers);
            wakeup._apic.Enable();
            // Started processors ready their own APIC through it on arrival, and requests go through it later.
            InterProcessor.Attach(in wakeup._apic);
            wakeup._page = page;
            var memory = MemoryManager<TMode>.Physical();
            ProcessorStart.Prepare(ref memory, page);
            memory.Release();
            // The start-up code turns paging on while it runs at its physical address: identity-mapped meanwhile.
            return KernelMappings<TMode>.MapIdentity(page) ? null : "the start-up page could not be mapped";
        }

        /// <summary>Wakes processor <paramref name="number"/> (local APIC id <paramref name="apicId"/>) onto its stacks; true once it arrived in the kernel.</summary>
        internal bool Start<TMode>(int number, uint apicId, ulong stackTop, ulong doubleFaultTop, ulong nmiTop) where TMode : struct, IPagingMode
        {
            ProcessorStart.PrepareTables(number, doubleFaultTop, nmiTop);
            var memory = MemoryManager<TMode>.Physical();
            ProcessorStart.SetProcessor(ref memory, _page, stackTop, number);
            memory.Release();
            if (!_apic.SendInit(apicId))
                return false;
            Timing.Delay(10000);
            for (int attempt = 0; attempt < 2; attempt++)
            {
                if (!_apic.SendStartUp(apicId, _page))
                    return false;
                // 2 ms for the first start-up IPI, then up to a second.
                for (int wait = 0; wait < (attempt == 0 ? 20 : 10000); wait++)
                {
                    if (Processors.HasArrived(number))
                        return true;
                    Timing.Delay(100);
                }
            }
            return false;
        }

        /// <summary>What the processors line says of the interrupt controllers' mode, or null (xAPIC, the usual).</summary>
        internal readonly string? ModeNote => _apic.X2Apic ? "local APICs in x2APIC mode" : null;

        /// <summary>The start-up page is no longer mapped at its own address.</summary>
        internal readonly void Close<TMode>() where TMode : struct, IPagingMode => KernelMappings<TMode>.UnmapIdentity(_page);
    }
}
