using System.Runtime.CompilerServices;
using ExectOS.Hardware;
using ExectOS.Memory;
using ExectOS.Text;

namespace ExectOS.Kernel
{
    /// <summary>The registers the trap entry saves (see <see cref="TrapLayout"/>), then what the processor pushed.</summary>
#pragma warning disable CS0649 // written by the trap entry stub
    internal struct TrapFrame
    {
        public ulong R15, R14, R13, R12, R11, R10, R9, R8, Rdi, Rsi, Rbp, Rbx, Rdx, Rcx, Rax;
        public ulong Vector, ErrorCode;
        public ulong Rip, Cs, Rflags, Rsp, Ss;
    }
#pragma warning restore CS0649

    /// <summary>
    /// The amd64 kernel's own tables: per processor a GDT (the hand-off page's selectors, plus its TSS), a TSS whose
    /// IST1 and IST2 are the stacks double faults and NMIs run on, and the block GS points at; one IDT for all. Until the memory manager
    /// gives them stacks with guard pages (<see cref="UseExceptionStacks"/>), both run on a small early stack in
    /// the image. Every exception is decoded
    /// into a <see cref="Fault"/>, printed and handed to <see cref="Faults"/>: resolved (demand commit), or
    /// stopped with the bug check that names it. Vectors from 32 up are interrupts: requests between processors
    /// (<see cref="InterProcessor"/>); any other is unexpected and stops the system the same way.
    /// </summary>
    internal static unsafe class Traps
    {
        /// <summary>Processors with tables of their own (the boot processor is 0).</summary>
        internal const int MaxProcessors = 64;

        private const ushort TssSelector = 0x20;
        private const uint GsBaseMsr = 0xC0000101;
        private const int EarlyStackWords = 2048;
        private const int Ist1 = 36, Ist2 = 44;
        private const ulong InterruptFlag = 1 << 9;

        [InlineArray(6)]
        private struct GdtTable { private ulong _element; }

        [InlineArray(512)]
        private struct IdtTable { private ulong _element; }

        [InlineArray(13)]
        private struct TaskState { private ulong _element; }

        [InlineArray(EarlyStackWords)]
        private struct IstStack { private ulong _element; }

        [InlineArray(2)]
        private struct PseudoDescriptor { private ulong _element; }

        /// <summary>What GS points at on each processor: the trap entry calls the dispatcher from its first word.</summary>
        private struct ProcessorBlock
        {
            public void* Dispatcher;
            public ulong Self;
            public ulong Number;
        }

        /// <summary>One processor's GDT (its TSS descriptor is its own: the busy bit), TSS and block.</summary>
        private struct ProcessorTables
        {
            public GdtTable Gdt;
            public TaskState Tss;
            public ProcessorBlock Block;
        }

        [InlineArray(MaxProcessors)]
        private struct AllTables { private ProcessorTables _element; }

#pragma warning disable CS0649 // written through pointers
        private static IdtTable s_idt;
        private static IstStack s_earlyStack;
        private static AllTables s_tables;
#pragma warning restore CS0649

        /// <summary>The boot processor's tables and the IDT every processor shares, loaded.</summary>
        internal static void Initialize()
        {
            ulong* idt = (ulong*)Unsafe.AsPointer(ref s_idt);
            ulong entries = Cpu.TrapEntryTable();
            for (int vector = 0; vector < TrapLayout.EntryCount; vector++)
            {
                ulong offset = entries + (ulong)(vector * TrapLayout.EntryStride);
                ulong ist = vector == 8 ? 1UL : vector == 2 ? 2UL : 0UL;
                idt[vector * 2] = (offset & 0xFFFF) | ((ulong)Boot.HandOffLayout.Code64Selector << 16) | (ist << 32) | (0x8EUL << 40) | (((offset >> 16) & 0xFFFF) << 48);
                idt[vector * 2 + 1] = offset >> 32;
            }
            // Until the allocator's stacks are there, double faults and NMIs run on the early stack in the image.
            ulong earlyTop = ((ulong)Unsafe.AsPointer(ref s_earlyStack) + EarlyStackWords * 8) & ~15UL;
            Prepare(0, earlyTop, earlyTop);
            Load(0);
        }

        /// <summary>
        /// Fills processor <paramref name="number"/>'s GDT (the hand-off page's selectors and its TSS), its TSS (IST1
        /// for double faults, IST2 for NMIs) and its block; the processor loads them with <see cref="Load"/>.
        /// </summary>
        internal static void Prepare(int number, ulong doubleFaultTop, ulong nmiTop)
        {
            ref ProcessorTables tables = ref s_tables[number];
            ulong* gdt = (ulong*)Unsafe.AsPointer(ref tables.Gdt);
            gdt[0] = 0;
            gdt[Boot.HandOffLayout.Code64Selector / 8] = Boot.HandOffLayout.Code64Descriptor;
            gdt[Boot.HandOffLayout.Code32Selector / 8] = Boot.HandOffLayout.Code32Descriptor;
            gdt[Boot.HandOffLayout.DataSelector / 8] = Boot.HandOffLayout.DataDescriptor;

            // 64-bit TSS: IST1 and IST2, the I/O map base past the end (no I/O bitmap).
            byte* tss = (byte*)Unsafe.AsPointer(ref tables.Tss);
            *(ulong*)(tss + Ist1) = doubleFaultTop & ~15UL;
            *(ulong*)(tss + Ist2) = nmiTop & ~15UL;
            *(ushort*)(tss + 102) = 104;
            ulong tssBase = (ulong)tss, limit = 103;
            gdt[TssSelector / 8] = (limit & 0xFFFF) | ((tssBase & 0xFFFFFF) << 16) | (0x89UL << 40) | (((limit >> 16) & 0xF) << 48) | (((tssBase >> 24) & 0xFF) << 56);
            gdt[TssSelector / 8 + 1] = tssBase >> 32;

            tables.Block.Dispatcher = (void*)(delegate*<TrapFrame*, void>)&Dispatch;
            tables.Block.Self = (ulong)Unsafe.AsPointer(ref tables.Block);
            tables.Block.Number = (ulong)number;
        }

        /// <summary>Loads processor <paramref name="number"/>'s GDT, TSS and block (GS) and the shared IDT, on that processor.</summary>
        internal static void Load(int number)
        {
            ref ProcessorTables tables = ref s_tables[number];
            Cpu.WriteMsr(GsBaseMsr, tables.Block.Self);
            // Pseudo-descriptors: the 16-bit limit at byte 6, so the 64-bit base is aligned at byte 8.
            PseudoDescriptor descriptor = default;
            byte* pseudo = (byte*)&descriptor + 6;
            *(ushort*)pseudo = 6 * 8 - 1;
            *(ulong*)(pseudo + 2) = (ulong)Unsafe.AsPointer(ref tables.Gdt);
            Cpu.LoadGdt(pseudo);
            Cpu.LoadTaskRegister(TssSelector);
            *(ushort*)pseudo = 256 * 16 - 1;
            *(ulong*)(pseudo + 2) = (ulong)Unsafe.AsPointer(ref s_idt);
            Cpu.LoadIdt(pseudo);
        }

        /// <summary>The boot processor's double faults and NMIs from now on run on these stacks (tops; each has a guard page).</summary>
        internal static void UseExceptionStacks(ulong doubleFaultTop, ulong nmiTop)
        {
            byte* tss = (byte*)Unsafe.AsPointer(ref s_tables[0].Tss);
            *(ulong*)(tss + Ist1) = doubleFaultTop & ~15UL;
            *(ulong*)(tss + Ist2) = nmiTop & ~15UL;
        }

        private static void Dispatch(TrapFrame* frame)
        {
            ulong address = Cpu.ReadCr2();
            ulong vector = frame->Vector;
            // Interrupts: a request from another processor, or the APIC's spurious vector; anything else is unexpected.
            if (vector >= TrapLayout.FirstInterrupt && InterProcessor.Dispatch(vector))
                return;
            // A page fault may wait for a lock (demand commit): it answers other processors' requests meanwhile, as
            // the code it interrupted did. CR2 is read already.
            if (vector == 14 && (frame->Rflags & InterruptFlag) != 0)
                Processor.EnableInterrupts();
            var fault = new Fault
            {
                Kind = vector == 14 ? FaultKind.PageFault : vector == 8 ? FaultKind.DoubleFault : FaultKind.Other,
                Vector = vector,
                ErrorCode = frame->ErrorCode,
                Address = address,
                NotPresent = (frame->ErrorCode & 1) == 0,
                Write = (frame->ErrorCode & 2) != 0,
                ProgramCounter = frame->Rip,
            };
            // A not-present fault that demand commit resolves: back to the instruction.
            if (Faults.Resolve(&fault))
                return;
            TextLine line = default;
            line.Append("XTOSKRNL: trap ");
            line.Append(TrapNames.Of(vector));
            line.Append(" (vector ");
            line.AppendDecimal(vector);
            line.Append(") at RIP ");
            line.AppendHexPrefixed(frame->Rip, 16);
            line.Append(", error ");
            line.AppendHexPrefixed(frame->ErrorCode, 1);
            line.Append(", RSP ");
            line.AppendHexPrefixed(frame->Rsp, 16);
            line.Append(", CR2 ");
            line.AppendHexPrefixed(address, 16);
            KernelConsole.WriteLine(line.AsSpan());
            Faults.Stop(&fault);
        }
    }
}
