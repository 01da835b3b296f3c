using System;
using ExectOS.Diagnostics;
using ExectOS.Hardware;
using ExectOS.Memory;
using ExectOS.Text;

namespace ExectOS.Kernel
{
    /// <summary>
    /// Kernel stacks on the live tables (<see cref="KernelStacks{TMode, TCache}"/> does the work): allocation and
    /// free, growth and shrinking of large stacks, callouts with guaranteed stack, running on a stack, and the
    /// accounting line. Misuse is returned; corruption stops the system (PFN_LIST_CORRUPT).
    /// </summary>
    internal static unsafe class Stacks<TMode> where TMode : struct, IPagingMode
    {
        private static PageTable<TMode> Table => MemoryManager<TMode>.Table;

        /// <summary>A fixed stack of <paramref name="bytes"/> (rounded up to pages) with a guard page below.</summary>
        internal static StackError Allocate(ulong bytes, out KernelStack stack) => Allocate(StackRequest.Fixed(bytes), out stack);

        internal static StackError Allocate(in StackRequest request, out KernelStack stack)
        {
            var memory = MemoryManager<TMode>.Physical();
            StackError error = LockedStacks<TMode, CpuTranslationCache, KernelLocks>.Allocate(ref memory, Table, MemoryManager.Stacks, MemoryManager.Pfn, in request, out stack, out PfnProblem problem);
            memory.Release();
            return Checked(error, problem);
        }

        /// <summary>Frees a stack; the size must be its reservation. Misuse is returned, corruption stops the system.</summary>
        internal static StackError Free(VirtualAddress top, ulong bytes)
        {
            var memory = MemoryManager<TMode>.Physical();
            StackError error = LockedStacks<TMode, CpuTranslationCache, KernelLocks>.Free(ref memory, Table, MemoryManager.Stacks, MemoryManager.Pfn, top, bytes, out PfnProblem problem);
            memory.Release();
            return Checked(error, problem);
        }

        /// <summary>Commits the stack down to <paramref name="lowest"/> (NT's MmGrowKernelStack); Overflow past its reservation.</summary>
        internal static StackError Grow(ref KernelStack stack, VirtualAddress lowest)
        {
            var memory = MemoryManager<TMode>.Physical();
            StackError error = LockedStacks<TMode, CpuTranslationCache, KernelLocks>.Grow(ref memory, Table, MemoryManager.Stacks, MemoryManager.Pfn, ref stack, lowest, out PfnProblem problem);
            memory.Release();
            return Checked(error, problem);
        }

        /// <summary>Releases the committed pages below <paramref name="inUse"/>, down to the stack's first commit.</summary>
        internal static StackError Shrink(ref KernelStack stack, VirtualAddress inUse, out ulong released)
        {
            var memory = MemoryManager<TMode>.Physical();
            StackError error = LockedStacks<TMode, CpuTranslationCache, KernelLocks>.Shrink(ref memory, Table, MemoryManager.Stacks, MemoryManager.Pfn, ref stack, inUse, out released, out PfnProblem problem);
            memory.Release();
            return Checked(error, problem);
        }

        /// <summary>Unmaps the cached stacks.</summary>
        internal static StackError DropCache()
        {
            var memory = MemoryManager<TMode>.Physical();
            StackError error = LockedStacks<TMode, CpuTranslationCache, KernelLocks>.DropCache(ref memory, Table, MemoryManager.Stacks, MemoryManager.Pfn, out PfnProblem problem);
            memory.Release();
            return Checked(error, problem);
        }

        /// <summary>
        /// Runs <paramref name="function"/> with at least <paramref name="bytes"/> of stack (NT's
        /// KeExpandKernelStackAndCallout): where we are when the current stack has the room, after growing it
        /// when its reservation allows, else on a new segment linked to it. Overflow, NestingLimit or NoPages
        /// when none of these is possible; the function is then not called.
        /// </summary>
        internal static StackError ExpandStackAndCallout(ulong bytes, delegate*<nuint, void> function, nuint argument)
        {
            byte here = 0;
            var memory = MemoryManager<TMode>.Physical();
            StackError error = LockedStacks<TMode, CpuTranslationCache, KernelLocks>.BeginCallout(ref memory, Table, MemoryManager.Stacks, MemoryManager.Pfn, Processor.Number(), new VirtualAddress((ulong)&here), bytes, out Callout callout, out PfnProblem problem);
            memory.Release();
            if (Checked(error, problem) != StackError.None)
                return error;
            if (callout.Kind != CalloutKind.Segment)
            {
                function(argument);
                return StackError.None;
            }
            Processor.CallOnStack((void*)(nuint)callout.Top.Value, (void*)function, argument);
            memory = MemoryManager<TMode>.Physical();
            error = LockedStacks<TMode, CpuTranslationCache, KernelLocks>.EndCallout(ref memory, Table, MemoryManager.Stacks, MemoryManager.Pfn, Processor.Number(), in callout, out problem);
            memory.Release();
            if (Checked(error, problem) != StackError.None)
                BugCheck.Raise(MemoryManagementCheck.CalloutUnbalanced, (ulong)error, (ulong)Current, (ulong)callout.Segment);
            return StackError.None;
        }

        /// <summary>Calls <paramref name="function"/> on <paramref name="stack"/>, which is current while it runs.</summary>
        internal static void RunOn(in KernelStack stack, delegate*<nuint, void> function, nuint argument)
        {
            StackSpace* space = MemoryManager.Stacks;
            uint processor = Processor.Number();
            int previous = space->CurrentOn(processor);
            space->SetCurrent(processor, stack.Id);
            Processor.CallOnStack((void*)(nuint)stack.Top.Value, (void*)function, argument);
            if (space->CurrentOn(processor) != stack.Id)
                BugCheck.Raise(MemoryManagementCheck.CalloutUnbalanced, (ulong)StackError.Current, (ulong)space->CurrentOn(processor), (ulong)stack.Id);
            space->SetCurrent(processor, previous);
        }

        /// <summary>The stack this processor runs on (a record of the stack space, or StackSpace.BootStack).</summary>
        internal static int Current => MemoryManager.Stacks->CurrentOn(Processor.Number());

        /// <summary>Marks <paramref name="stack"/> as the one processor <paramref name="processor"/> runs on (a processor being started).</summary>
        internal static void SetCurrent(uint processor, in KernelStack stack) => MemoryManager.Stacks->SetCurrent(processor, stack.Id);

        /// <summary>Whether an address is below a live stack's committed pages (for the fault handlers).</summary>
        internal static bool IsOverflow(VirtualAddress address, out StackOverflow overflow)
            => KernelStacks<TMode, CpuTranslationCache>.IsOverflow(MemoryManager.Stacks, address, out overflow);

        /// <summary>
        /// Once the memory manager is up: the loader's stack is known as the boot stack (callouts from it), and the
        /// double-fault and NMI stacks come from the allocator, each with its guard page, handed to the trap tables
        /// (until now those exceptions ran on the early stack in the image).
        /// </summary>
        internal static void Start(Boot.LoaderBlock* block)
        {
            MemoryManager.Stacks->BootBase = new VirtualAddress(block->KernelStackBase);
            MemoryManager.Stacks->BootTop = new VirtualAddress(block->KernelStackBase + block->KernelStackSize);
            const ulong Bytes = 16 * 1024;
            if (Allocate(StackRequest.Fixed(Bytes, StackKind.DoubleFault), out KernelStack doubleFault) != StackError.None)
                BugCheck.Raise(MemoryManagementCheck.ExceptionStacksUnavailable, (ulong)StackKind.DoubleFault, Bytes, 0);
            if (Allocate(StackRequest.Fixed(Bytes, StackKind.Nmi), out KernelStack nmi) != StackError.None)
                BugCheck.Raise(MemoryManagementCheck.ExceptionStacksUnavailable, (ulong)StackKind.Nmi, Bytes, 0);
            Traps.UseExceptionStacks(doubleFault.Top.Value, nmi.Top.Value);
        }

        /// <summary>
        /// The accounting lines: every stack, then each kind that has any, as
        /// "XTOSKRNL: stacks: n live, c committed and r reserved pages, k cached, deepest use b bytes".
        /// Live stacks are measured first.
        /// </summary>
        internal static void PrintUsage()
        {
            StackSpace* space = MemoryManager.Stacks;
            var memory = MemoryManager<TMode>.Physical();
            for (int id = 0; id < StackSpace.Capacity; id++)
            {
                if (space->Record(id)->State == StackState.Live)
                    LockedStacks<TMode, CpuTranslationCache, KernelLocks>.Measure(ref memory, Table, space, MemoryManager.Pfn, id);
            }
            memory.Release();
            StackUsage all = default;
            for (int kind = 0; kind < StackSpace.KindCount; kind++)
                all.Add(space->Usage((StackKind)kind));
            PrintLine(null, all);
            for (int kind = 0; kind < StackSpace.KindCount; kind++)
            {
                StackUsage usage = space->Usage((StackKind)kind);
                if (usage.Live != 0 || usage.Cached != 0 || usage.DeepestUse != 0)
                    PrintLine(KindName((StackKind)kind), usage);
            }
        }

        private static void PrintLine(string? kind, in StackUsage usage)
        {
            TextLine line = default;
            line.Append("XTOSKRNL: stacks");
            if (kind != null)
            {
                line.Append(" (");
                line.Append(kind);
                line.Append(')');
            }
            line.Append(": ");
            line.AppendDecimal(usage.Live);
            line.Append(" live, ");
            line.AppendDecimal(usage.Committed);
            line.Append(" committed and ");
            line.AppendDecimal(usage.Reserved);
            line.Append(" reserved pages, ");
            line.AppendDecimal(usage.Cached);
            line.Append(" cached, deepest use ");
            line.AppendDecimal(usage.DeepestUse);
            line.Append(" bytes");
            KernelConsole.WriteLine(line.AsSpan());
        }

        internal static string KindName(StackKind kind) => kind switch
        {
            StackKind.Kernel => "kernel",
            StackKind.Large => "large",
            StackKind.Segment => "callout segment",
            StackKind.DoubleFault => "double fault",
            StackKind.Nmi => "NMI",
            _ => "unknown",
        };

        /// <summary>Corruption stops the system; anything else is the caller's.</summary>
        private static StackError Checked(StackError error, PfnProblem problem)
        {
            if (error == StackError.Corrupt)
                MemoryManager.Checked(problem.IsCorruption ? problem : PfnProblem.Of(PfnError.EntryCorrupt, 0, (ulong)error));
            return error;
        }
    }
}
