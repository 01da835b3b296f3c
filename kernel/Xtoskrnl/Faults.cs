using ExectOS.Diagnostics;
using ExectOS.Hardware;
using ExectOS.Memory;
using ExectOS.Text;

namespace ExectOS.Kernel
{
    /// <summary>What a processor exception was, as the architecture's trap dispatcher decoded it.</summary>
    internal struct Fault
    {
        public FaultKind Kind;
        /// <summary>The architecture's own number for it (x86: the vector), for the bug-check parameters.</summary>
        public ulong Vector;
        public ulong ErrorCode;
        /// <summary>The address a page fault was for (x86: CR2).</summary>
        public ulong Address;
        /// <summary>A page fault on a page that is not present (rather than a protection violation).</summary>
        public bool NotPresent;
        public bool Write;
        public ulong ProgramCounter;
    }

    /// <summary>The kinds of exception the architecture-neutral fault code tells apart.</summary>
    internal enum FaultKind
    {
        Other = 0,
        PageFault = 1,
        /// <summary>A fault while delivering a fault (x86 #DF): how a stack overflow into a guard page ends.</summary>
        DoubleFault = 2,
    }

    /// <summary>
    /// The architecture-neutral half of exception handling: demand faults resolved, everything else named and
    /// stopped with NT's bug check. The architecture's trap code decodes the exception and calls <see cref="Resolve"/>
    /// and then <see cref="Stop"/>; what needs the paging mode is installed once the memory manager is up.
    /// </summary>
    internal static unsafe class Faults
    {
        private static delegate*<Fault*, bool> s_resolve;
        private static delegate*<Fault*, void> s_stop;

        internal static void Install(delegate*<Fault*, bool> resolve, delegate*<Fault*, void> stop)
        {
            s_resolve = resolve;
            s_stop = stop;
        }

        /// <summary>True when the exception was handled and the faulting instruction may run again.</summary>
        internal static bool Resolve(Fault* fault) => s_resolve != null && s_resolve(fault);

        /// <summary>Never returns: a bug check that says what happened.</summary>
        internal static void Stop(Fault* fault)
        {
            if (s_stop != null)
                s_stop(fault);
            Unhandled(fault);
        }

        internal static void Unhandled(Fault* fault)
        {
            if (fault->Kind == FaultKind.PageFault)
                BugCheck.Raise(BugCheckCode.PageFaultInNonpagedArea, fault->Address, fault->ErrorCode, fault->ProgramCounter, 0);
            BugCheck.Raise(BugCheckCode.UnexpectedKernelModeTrap, fault->Vector, fault->ErrorCode, fault->ProgramCounter, fault->Address);
        }
    }

    /// <summary>The fault handlers that know the running paging mode: stack guard pages, special pool, demand commit.</summary>
    internal static unsafe class Faults<TMode> where TMode : struct, IPagingMode
    {
        internal static void Install() => Faults.Install(&Resolve, &Stop);

        private static bool Resolve(Fault* fault)
            => fault->Kind == FaultKind.PageFault && fault->NotPresent && Pools<TMode>.ResolveFault(new VirtualAddress(fault->Address));

        private static void Stop(Fault* fault)
        {
            var address = new VirtualAddress(fault->Address);
            if (fault->Kind == FaultKind.PageFault)
                PrintWalk(address);
            TextLine line = default;
            if (fault->Kind != FaultKind.Other && Stacks<TMode>.IsOverflow(address, out StackOverflow overflow))
            {
                line.Append("XTOSKRNL: kernel stack overflow: ");
                line.AppendHexPrefixed(fault->Address, 16);
                line.Append(overflow.InGuardPage ? " is the guard page below the stack at " : " is in the uncommitted reserve below the guard page of the stack at ");
                line.AppendHexPrefixed(overflow.Base.Value, 16);
                KernelConsole.WriteLine(line.AsSpan());
                PrintStack(in overflow);
                BugCheck.Raise(BugCheckCode.UnexpectedKernelModeTrap, fault->Vector, fault->Address, overflow.Base.Value, fault->ProgramCounter);
            }
            BugCheckCode special = fault->Kind == FaultKind.PageFault ? Pools.ClassifyFault(address) : 0;
            if (special != 0)
            {
                line.Append(special == BugCheckCode.PageFaultBeyondEndOfAllocation
                    ? "XTOSKRNL: special pool: an access ran past the end of an allocation into its guard page at "
                    : "XTOSKRNL: special pool: an access to freed special pool at ");
                line.AppendHexPrefixed(fault->Address, 16);
                KernelConsole.WriteLine(line.AsSpan());
                BugCheck.Raise(special, fault->Address, fault->Write ? 1UL : 0, fault->ProgramCounter, 0);
            }
            Faults.Unhandled(fault);
        }

        /// <summary>Which stack overflowed and which one the processor was on (a callout's segment chain, when there is one).</summary>
        private static void PrintStack(in StackOverflow overflow)
        {
            StackSpace* space = MemoryManager.Stacks;
            TextLine line = default;
            line.Append("XTOSKRNL: it is a ");
            line.Append(Stacks<TMode>.KindName(overflow.Kind));
            line.Append(" stack with ");
            line.AppendDecimal(overflow.CommittedPages);
            line.Append(" of ");
            line.AppendDecimal(overflow.ReservedPages);
            line.Append(" reserved pages committed, top ");
            line.AppendHexPrefixed(overflow.Top.Value, 16);
            line.Append("; the current stack is ");
            uint processor = Processor.Number();
            if (space->CurrentOn(processor) == StackSpace.BootStack)
            {
                line.Append("the boot stack");
            }
            else
            {
                KernelStack current = space->Handle(space->CurrentOn(processor));
                line.Append(current.Id == overflow.Stack ? "that one" : Stacks<TMode>.KindName(current.Kind));
                line.Append(", ");
                line.AppendDecimal((ulong)space->SegmentDepth(processor));
                line.Append(" callout segments deep");
            }
            KernelConsole.WriteLine(line.AsSpan());
        }

        [System.Runtime.CompilerServices.InlineArray(8)]
        private struct Path
        {
            private ulong _element;
        }

        /// <summary>What the live tables hold for the address, level by level (as NT's !pte shows it).</summary>
        private static void PrintWalk(VirtualAddress address)
        {
            Path path = default;
            var entries = System.Runtime.InteropServices.MemoryMarshal.CreateSpan(ref System.Runtime.CompilerServices.Unsafe.As<Path, ulong>(ref path), 8);
            var memory = MemoryManager<TMode>.Physical();
            int levels = new PageTable<TMode>(Processor.PageTableRoot(TMode.PageShift), Processor.HighPageTableRoot(TMode.PageShift)).ReadPath(ref memory, address, entries);
            memory.Release();
            TextLine line = default;
            line.Append("XTOSKRNL: tables for ");
            line.AppendHexPrefixed(address.Value, 16);
            line.Append(':');
            for (int level = 0; level < levels; level++)
            {
                line.Append(" level ");
                line.AppendDecimal((ulong)level);
                line.Append(' ');
                line.AppendHexPrefixed(entries[level], 16);
            }
            KernelConsole.WriteLine(line.AsSpan());
        }
    }
}
