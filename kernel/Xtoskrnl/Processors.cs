using System;
using ExectOS.Boot;
using ExectOS.Hardware;
using ExectOS.Memory;
using ExectOS.Text;

namespace ExectOS.Kernel
{
    /// <summary>
    /// The processors this boot uses: the boot processor, and those the firmware's MADT lists as enabled, at most
    /// MAXCPUS in all. Bad ACPI tables give a line saying what is wrong and a one-processor boot, never a crash.
    /// </summary>
    internal static unsafe class Processors
    {
        /// <summary>Processors this kernel keeps track of (the MADT may list more; they are left out and counted).</summary>
        internal const int Capacity = MadtInfo.Capacity;

        private static MadtInfo s_madt;
        private static uint s_bootId;
        private static int s_chosen;
        private static ChosenIds s_ids;
        private static uint s_limit;
        private static bool s_madtOk;
        private static Arrivals s_arrived;

        /// <summary>Set by each processor when it reaches the kernel (volatile: the boot processor polls it).</summary>
        private struct Arrival
        {
            public volatile int Arrived;
            /// <summary>The id the processor read from its own interrupt controller.</summary>
            public uint Id;
            /// <summary>Counted as started: it arrived in time as the processor the wake-up was sent to.</summary>
            public volatile int Running;
        }

        private const int Idle = 0, Posted = 1, Working = 2, Done = 3;

        /// <summary>What a running processor is asked to do next (<see cref="RunEverywhere"/>); it looks when woken.</summary>
        private struct WorkItem
        {
            public delegate*<int, void> Function;
            public volatile int State;
        }

        [System.Runtime.CompilerServices.InlineArray(Capacity)]
        private struct WorkItems
        {
            private WorkItem _element;
        }

        private static WorkItems s_work;

        [System.Runtime.CompilerServices.InlineArray(Capacity)]
        private struct Arrivals
        {
            private Arrival _element;
        }

        /// <summary>Processors chosen for this boot, the boot processor first.</summary>
        internal static int Count => s_chosen;

        internal static uint Id(int index) => s_ids[index];

        /// <summary>Whether processor <paramref name="number"/> runs: the boot processor, or one that started.</summary>
        internal static bool IsRunning(int number) => number == 0 || s_arrived[number].Running != 0;

        /// <summary>Processor <paramref name="number"/>'s interrupt controller id (as it read it itself).</summary>
        internal static uint ApicIdOf(int number) => number == 0 ? s_bootId : s_arrived[number].Id;

        internal static ulong LocalApicAddress => s_madt.LocalApicAddress;

        [System.Runtime.CompilerServices.InlineArray(Capacity)]
        private struct ChosenIds
        {
            private uint _element;
        }

        internal static void Discover<TMode>(LoaderBlock* block) where TMode : struct, IPagingMode
        {
            s_bootId = Processor.InterruptControllerId();
            s_ids[0] = s_bootId;
            s_chosen = 1;
            var parameters = new ReadOnlySpan<byte>(block->Parameters, KernelParameters.Capacity);
            // A malformed MAXCPUS= ended the boot already (KernelMain's parameter check).
            uint limit = Capacity;
            if (KernelParameters.TryGetValue(parameters, KernelParameters.MaxProcessorsPrefix, out ReadOnlySpan<byte> text) && !KernelParameters.TryParseProcessorCount(text, out limit))
                limit = Capacity;

            var ranges = new FirmwareRanges((LoaderMemoryDescriptor*)block->MemoryDescriptors, (int)block->MemoryDescriptorCount);
            var memory = MemoryManager<TMode>.Physical();
            AcpiProblem problem = Acpi.ReadRoot(ref memory, in ranges, block->AcpiRootPointer, out AcpiRoot root);
            AcpiTable madt = default;
            if (problem.IsOk)
                problem = Acpi.Find(ref memory, in ranges, in root, Acpi.MadtSignature, out madt);
            if (problem.IsOk)
                problem = Acpi.ReadMadt(ref memory, in madt, out s_madt);
            memory.Release();

            TextLine line = default;
            if (root.RootTable != 0 && (problem.IsOk || problem.Address != root.RootPointer))
            {
                line.Append("XTOSKRNL: ACPI: root pointer at ");
                line.AppendHexPrefixed(root.RootPointer, 8);
                line.Append(", revision ");
                line.AppendDecimal(root.Revision);
                line.Append(root.Extended ? ", XSDT at " : ", RSDT at ");
                line.AppendHexPrefixed(root.RootTable, 8);
                line.Append(" with ");
                line.AppendDecimal(root.TableCount);
                line.Append(" tables");
                KernelConsole.WriteLine(line.AsSpan());
                line.Clear();
            }
            if (!problem.IsOk)
            {
                s_madt = default;
                line.Append("XTOSKRNL: ACPI: ");
                line.Append(AcpiProblem.Describe(problem.Error));
                line.Append(" (at ");
                line.AppendHexPrefixed(problem.Address, 8);
                if (problem.Signature != 0)
                {
                    line.Append(", table ");
                    for (int i = 0; i < 4; i++)
                        line.Append(Printable((byte)(problem.Signature >> (8 * i))));
                }
                line.Append(", detail ");
                line.AppendHexPrefixed(problem.Detail, 1);
                line.Append("); starting on one processor");
                KernelConsole.WriteLine(line.AsSpan());
            }
            else
            {
                line.Append("XTOSKRNL: MADT at ");
                line.AppendHexPrefixed(madt.Address, 8);
                line.Append(": ");
                line.AppendDecimal(s_madt.Enabled);
                line.Append(" processors enabled (");
                line.Append(Processor.InterruptControllerIdName);
                for (int i = 0; i < s_madt.Recorded; i++)
                {
                    line.Append(' ');
                    line.AppendDecimal(s_madt.ApicId(i));
                }
                line.Append("), ");
                line.AppendDecimal(s_madt.OnlineCapable);
                // Arm's MADT has GIC entries and no local APIC (its header's address is 0).
                line.Append(s_madt.GicEntries != 0 ? " online-capable, GIC distributor at " : " online-capable, local APIC at ");
                line.AppendHexPrefixed(s_madt.GicEntries != 0 ? s_madt.GicDistributorAddress : s_madt.LocalApicAddress, 8);
                if (s_madt.X2ApicEntries != 0)
                    line.Append(", x2APIC entries");
                KernelConsole.WriteLine(line.AsSpan());
                Choose(limit);
            }

            s_limit = limit;
            s_madtOk = problem.IsOk;
        }

        /// <summary>Called by processor <paramref name="number"/> on itself once it runs kernel code on its own tables.</summary>
        internal static void Arrived(int number)
        {
            s_arrived[number].Id = Processor.InterruptControllerId();
            s_arrived[number].Arrived = 1;
        }

        /// <summary>
        /// Starts the chosen processors one at a time through the architecture's <see cref="ProcessorWakeup"/>, each with
        /// a kernel stack and double-fault and NMI stacks from the allocator and tables of its own; it reports from the
        /// kernel and idles. One that does not answer is left out and named.
        /// Then prints "XTOSKRNL: processors: n started (APIC ids ...)".
        /// </summary>
        internal static void StartOthers<TMode>(LoaderBlock* block) where TMode : struct, IPagingMode
        {
            TextLine line = default;
            ChosenIds started = default;
            started[0] = s_bootId;
            int count = 1, asked = s_chosen;
            string? reason = null, mode = null;
            Failures failed = default;
            int failures = 0;
            if (asked > 1)
            {
                // The architecture's way of waking them (x86: the start-up page, the local APIC, INIT-SIPI-SIPI).
                reason = ProcessorWakeup.Open<TMode>(block, s_madt.LocalApicAddress, out ProcessorWakeup wakeup);
                if (asked > ProcessorStart.MaxProcessors)
                    asked = ProcessorStart.MaxProcessors;
                // Each processor borrows physical memory through a hyperspace window of its own.
                while (asked > 1 && !MemoryManager<TMode>.WindowsFit((uint)asked))
                    asked--;
                if (reason == null)
                {
                    mode = wakeup.ModeNote;
                    for (int n = 1; n < asked; n++)
                    {
                        // Started means it reached the kernel on its own tables and is the processor the wake-up was sent to.
                        if (StartOne<TMode>(ref wakeup, n, s_ids[n]) && s_arrived[n].Id == s_ids[n])
                        {
                            started[count++] = s_arrived[n].Id;
                            s_arrived[n].Running = 1;
                        }
                        else
                            failed[failures++] = s_ids[n];
                    }
                    wakeup.Close<TMode>();
                }
            }

            line.Append("XTOSKRNL: processors: ");
            line.AppendDecimal((ulong)count);
            line.Append(" started (");
            line.Append(Processor.InterruptControllerIdName);
            for (int i = 0; i < count; i++)
            {
                line.Append(' ');
                line.AppendDecimal(started[i]);
            }
            line.Append(')');
            if (failures != 0)
            {
                line.Append("; no answer from ");
                line.Append(Processor.InterruptControllerIdName);
                for (int i = 0; i < failures; i++)
                {
                    line.Append(' ');
                    line.AppendDecimal(failed[i]);
                }
            }
            if (reason != null && s_chosen > 1)
            {
                line.Append("; ");
                line.AppendDecimal((ulong)(s_chosen - 1));
                line.Append(" more chosen, not started: ");
                line.Append(reason);
            }
            else if (s_chosen > asked)
            {
                line.Append("; ");
                line.AppendDecimal((ulong)(s_chosen - asked));
                line.Append(" more chosen than this kernel has tables for");
            }
            if (mode != null)
            {
                line.Append("; ");
                line.Append(mode);
            }
            ulong leftOut = s_madtOk && s_madt.Enabled > (uint)s_chosen ? s_madt.Enabled - (uint)s_chosen : 0;
            if (leftOut != 0)
            {
                line.Append("; ");
                line.AppendDecimal(leftOut);
                line.Append(" left out by MAXCPUS=");
                line.AppendDecimal(s_limit);
            }
            KernelConsole.WriteLine(line.AsSpan());
            s_chosen = count;
            for (int i = 0; i < count; i++)
                s_ids[i] = started[i];
            // Several processors: from here on they answer each other's requests (TLB shootdowns, wake-ups).
            if (count > 1)
                InterProcessor.Open();
        }

        /// <summary>
        /// A started processor's life in the kernel: it waits, interrupts on, until it is woken with work
        /// (<see cref="RunEverywhere"/>), runs it, and waits again. The check and the wait are one step (interrupts
        /// go on with the halt), so a wake-up sent between them is not missed.
        /// </summary>
        internal static void IdleLoop(int number)
        {
            while (true)
            {
                Processor.DisableInterrupts();
                if (s_work[number].State == Posted)
                {
                    s_work[number].State = Working;
                    Processor.EnableInterrupts();
                    s_work[number].Function(number);
                    s_work[number].State = Done;
                    continue;
                }
                Processor.WaitForInterrupt();
            }
        }

        /// <summary>Runs <paramref name="work"/>(<paramref name="number"/>) on that running processor (not this one); returns when it is done.</summary>
        internal static void RunOn(int number, delegate*<int, void> work)
        {
            s_work[number].Function = work;
            s_work[number].State = Posted;
            InterProcessor.Wake(number);
            while (s_work[number].State != Done)
                Processor.Pause();
            s_work[number].State = Idle;
        }

        /// <summary>Runs <paramref name="work"/>(number) on every running processor at once, this one included; returns when all are done.</summary>
        internal static void RunEverywhere(delegate*<int, void> work)
        {
            int me = (int)Processor.Number();
            for (int n = 0; n < Capacity; n++)
            {
                if (n == me || !IsRunning(n))
                    continue;
                s_work[n].Function = work;
                s_work[n].State = Posted;
                InterProcessor.Wake(n);
            }
            work(me);
            for (int n = 0; n < Capacity; n++)
            {
                if (n == me || !IsRunning(n))
                    continue;
                while (s_work[n].State != Done)
                    Processor.Pause();
                s_work[n].State = Idle;
            }
        }

        [System.Runtime.CompilerServices.InlineArray(Capacity)]
        private struct Failures
        {
            private uint _element;
        }

        /// <summary>A kernel stack and double-fault and NMI stacks for processor <paramref name="number"/>, then the wake-up; true once it arrived.</summary>
        private static bool StartOne<TMode>(ref ProcessorWakeup wakeup, int number, uint id) where TMode : struct, IPagingMode
        {
            const ulong StackBytes = 16 * 1024;
            if (Stacks<TMode>.Allocate(StackBytes, out KernelStack stack) != StackError.None
                || Stacks<TMode>.Allocate(StackRequest.Fixed(StackBytes, StackKind.DoubleFault), out KernelStack doubleFault) != StackError.None
                || Stacks<TMode>.Allocate(StackRequest.Fixed(StackBytes, StackKind.Nmi), out KernelStack nmi) != StackError.None)
                return false;
            // It runs on that stack from its first kernel instruction: its current stack for callouts and the fault path.
            Stacks<TMode>.SetCurrent((uint)number, in stack);
            // A processor that does not answer keeps its stacks: one that answers late must not run on freed memory.
            return wakeup.Start<TMode>(number, id, stack.Top.Value, doubleFault.Top.Value, nmi.Top.Value);
        }

        /// <summary>Whether processor <paramref name="number"/> has reported from the kernel (the wake-up polls it).</summary>
        internal static bool HasArrived(int number) => s_arrived[number].Arrived != 0;

        /// <summary>The boot processor, then the MADT's other enabled processors in its order, up to <paramref name="limit"/> in all.</summary>
        private static void Choose(uint limit)
        {
            for (int i = 0; i < s_madt.Recorded && (uint)s_chosen < limit; i++)
            {
                if (s_madt.ApicId(i) != s_bootId)
                    s_ids[s_chosen++] = s_madt.ApicId(i);
            }
        }

        private static char Printable(byte value) => value >= 0x20 && value < 0x7F ? (char)value : '?';
    }
}
