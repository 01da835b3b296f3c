using System.Runtime.CompilerServices;
using ExectOS.Hardware;
using ExectOS.Text;

namespace ExectOS.Kernel
{
    /// <summary>What the trap entry saves (generators/StubAssembler/Arch/AArch64/Stubs.s, ArTrapCommon), in its order.</summary>
#pragma warning disable CS0649 // written by the trap entry stub
    internal unsafe struct TrapFrame
    {
        public fixed ulong X[31];
        public ulong SpEl0;
        public ulong Elr, Spsr;
        public ulong Esr, Far;
        public ulong Fpcr, Fpsr;
        public fixed ulong Vectors[64];
    }
#pragma warning restore CS0649

    /// <summary>
    /// The AArch64 kernel's exception handling. VBAR_EL1 points at the stub's vector table; each processor's block
    /// (TPIDR_EL1) holds the dispatcher the entries call, and its number. Kernel code runs on SP_EL0 and every
    /// exception on SP_EL1, the processor's exception stack: a small one in the image until the memory manager gives
    /// it one with a guard page (<see cref="UseExceptionStacks"/>). So a kernel stack overflow into a guard page is an
    /// ordinary data abort, taken on a good stack. Every exception is decoded from ESR_EL1 into a <see cref="Fault"/>,
    /// printed and handed to <see cref="Faults"/>: resolved (demand commit), or stopped with the bug check that
    /// names it. An exception while the processor already runs on its exception stack (the SP_ELx group) is the
    /// double fault's counterpart.
    /// </summary>
    internal static unsafe class Traps
    {
        /// <summary>Processors with blocks of their own: one until the others can be started (PSCI CPU_ON).</summary>
        internal const int MaxProcessors = 1;

        private const int EarlyStackWords = 2048;

        // ESR_EL1 exception classes (Arm ARM D17.2.37).
        private const ulong InstructionAbortLower = 0x20, InstructionAbortSame = 0x21, DataAbortLower = 0x24, DataAbortSame = 0x25;

        /// <summary>Vector-table groups: the entry's index over 4 (current EL on SP_EL0, current EL on SP_ELx, lower EL 64, lower EL 32).</summary>
        private const ulong CurrentWithSpx = 1;

        [InlineArray(EarlyStackWords)]
        private struct EarlyStack { private ulong _element; }

        /// <summary>What TPIDR_EL1 points at on each processor: the trap entry calls the dispatcher from its first word.</summary>
        private struct ProcessorBlock
        {
            public void* Dispatcher;
            public ulong Self;
            public ulong Number;
        }

        [InlineArray(MaxProcessors)]
        private struct AllBlocks { private ProcessorBlock _element; }

#pragma warning disable CS0649 // written through pointers
        private static EarlyStack s_earlyStack;
        private static AllBlocks s_blocks;
#pragma warning restore CS0649

        /// <summary>The boot processor's block and vectors; from here on the kernel runs on SP_EL0, exceptions on the early stack.</summary>
        internal static void Initialize()
        {
            Prepare(0, 0, 0);
            ulong earlyTop = ((ulong)Unsafe.AsPointer(ref s_earlyStack) + EarlyStackWords * 8) & ~15UL;
            Cpu.UseThreadStack((void*)(nuint)earlyTop);
            Load(0);
        }

        /// <summary>Processor <paramref name="number"/>'s block (its exception stack is set on the processor itself).</summary>
        internal static void Prepare(int number, ulong exceptionTop, ulong unused)
        {
            ref ProcessorBlock block = ref s_blocks[number];
            block.Dispatcher = (void*)(delegate*<TrapFrame*, ulong, void>)&Dispatch;
            block.Self = (ulong)Unsafe.AsPointer(ref block);
            block.Number = (ulong)number;
        }

        /// <summary>Points this processor's TPIDR_EL1 at block <paramref name="number"/> and VBAR_EL1 at the vectors.</summary>
        internal static void Load(int number)
        {
            Cpu.WriteProcessorBlock(Unsafe.AsPointer(ref s_blocks[number]));
            Cpu.SetVectorBase(Cpu.TrapVectors());
        }

        /// <summary>
        /// The boot processor's exceptions from now on run on the stack whose top is <paramref name="exceptionTop"/>
        /// (the kernel's double-fault stack, which has a guard page); AArch64 has no separate NMI.
        /// </summary>
        internal static void UseExceptionStacks(ulong exceptionTop, ulong nmiTop) => Cpu.SetExceptionStack((void*)(nuint)(exceptionTop & ~15UL));

        private static void Dispatch(TrapFrame* frame, ulong kind)
        {
            ulong syndrome = frame->Esr, exceptionClass = (syndrome >> 26) & 0x3F;
            ulong group = kind >> 2, type = kind & 3;
            bool synchronous = type == 0;
            bool abort = synchronous && exceptionClass is InstructionAbortLower or InstructionAbortSame or DataAbortLower or DataAbortSame;
            // DFSC/IFSC: 0b0001LL a translation fault at level LL (not present); 0b0010LL access flag; 0b0011LL permission.
            ulong status = syndrome & 0x3F;
            bool farValid = abort && (syndrome & (1UL << 10)) == 0;
            var fault = new Fault
            {
                Kind = group == CurrentWithSpx ? FaultKind.DoubleFault : abort ? FaultKind.PageFault : FaultKind.Other,
                // The exception class, with the entry kind above it (0x25 a data abort from kernel code on its stack).
                Vector = exceptionClass | (kind << 8),
                ErrorCode = syndrome,
                Address = farValid ? frame->Far : 0,
                NotPresent = abort && (status & 0x3C) == 0x04,
                Write = exceptionClass is DataAbortLower or DataAbortSame && (syndrome & (1UL << 6)) != 0,
                ProgramCounter = frame->Elr,
            };
            // A not-present fault that demand commit resolves: back to the instruction (ELR_EL1 still points at it).
            if (group != CurrentWithSpx && Faults.Resolve(&fault))
                return;
            TextLine line = default;
            line.Append("XTOSKRNL: trap ");
            line.Append(TrapNames.Of(kind, exceptionClass));
            line.Append(" (class ");
            line.AppendHexPrefixed(exceptionClass, 2);
            line.Append(", entry ");
            line.AppendDecimal(kind);
            line.Append(") at ELR ");
            line.AppendHexPrefixed(frame->Elr, 16);
            line.Append(", ESR ");
            line.AppendHexPrefixed(syndrome, 8);
            line.Append(", SP ");
            line.AppendHexPrefixed(frame->SpEl0, 16);
            line.Append(", FAR ");
            line.AppendHexPrefixed(frame->Far, 16);
            KernelConsole.WriteLine(line.AsSpan());
            Faults.Stop(&fault);
        }
    }
}
