using System.Runtime.CompilerServices;
using ExectOS.Hardware;
using ExectOS.Text;

namespace ExectOS.Kernel
{
    /// <summary>What the i686 trap entry saves (pushad, see <see cref="TrapLayout"/>), then what the processor pushed.</summary>
#pragma warning disable CS0649 // written by the trap entry stub
    internal struct TrapFrame
    {
        public uint Edi, Esi, Ebp, EspAtEntry, Ebx, Edx, Ecx, Eax;
        public uint Vector, ErrorCode;
        public uint Eip, Cs, Eflags;
    }
#pragma warning restore CS0649

    /// <summary>
    /// The i686 kernel's own tables: per processor a GDT (the hand-off page's flat code and data selectors, three TSSs
    /// and the processor block's FS segment), a TSS, and two more TSSs for double faults and NMIs, which arrive through
    /// task gates so a kernel stack overflow into a guard page is handled on a good stack (32-bit x86 has no IST); one
    /// IDT for all (every processor's GDT has those TSSs at the same selectors). Until the memory manager gives them
    /// stacks with guard pages (<see cref="UseExceptionStacks"/>), the boot processor's run on a small early stack in
    /// the image. Every exception is decoded into a <see cref="Fault"/>, printed and handed to <see cref="Faults"/>.
    /// </summary>
    internal static unsafe class Traps
    {
        /// <summary>Processors with tables of their own (the boot processor is 0).</summary>
        internal const int MaxProcessors = 64;

        private const ushort TssSelector = 0x20, DoubleFaultTssSelector = 0x28, ProcessorSelector = 0x30, NmiTssSelector = 0x38;
        private const int GdtEntries = 8;
        private const int TssBytes = 104;
        private const int EarlyStackWords = 4096;
        private const int Nmi = 2, DoubleFault = 8;
        private const uint InterruptFlag = 1 << 9;

        // 32-bit TSS fields (Intel SDM Vol. 3A, figure 8-2).
        private const int TssCr3 = 28, TssEip = 32, TssEflags = 36, TssEsp = 56, TssEs = 72, TssCs = 76, TssSs = 80, TssDs = 84, TssFs = 88, TssGs = 92, TssIoMap = 102;

        [InlineArray(GdtEntries)]
        private struct GdtTable { private ulong _element; }

        [InlineArray(256)]
        private struct IdtTable { private ulong _element; }

        [InlineArray(TssBytes / 4)]
        private struct TaskState { private uint _element; }

        [InlineArray(EarlyStackWords)]
        private struct EarlyStack { private uint _element; }

        [InlineArray(2)]
        private struct PseudoDescriptor { private ulong _element; }

        /// <summary>What FS points at: the trap entry calls the dispatcher from its first word (see TrapLayout).</summary>
        private struct ProcessorBlock
        {
            public void* Dispatcher;
            public void* Self;
            public uint Number;
        }

        /// <summary>One processor's GDT (its TSS descriptors are its own: the busy bits), its three TSSs and its block.</summary>
        private struct ProcessorTables
        {
            public GdtTable Gdt;
            public TaskState Tss;
            public TaskState DoubleFaultTss;
            public TaskState NmiTss;
            public ProcessorBlock Block;
        }

        [InlineArray(MaxProcessors)]
        private struct AllTables { private ProcessorTables _element; }

#pragma warning disable CS0649 // written through pointers
        private static IdtTable s_idt;
        private static EarlyStack s_earlyStack;
        private static AllTables s_tables;
#pragma warning restore CS0649

        /// <summary>The boot processor's tables and the IDT every processor shares, loaded.</summary>
        internal static void Initialize()
        {
            uint entries = (uint)Cpu.TrapEntryTable();
            ulong* idt = (ulong*)Unsafe.AsPointer(ref s_idt);
            for (int vector = 0; vector < TrapLayout.EntryCount; vector++)
            {
                uint offset = entries + (uint)(vector * TrapLayout.EntryStride);
                idt[vector] = vector is DoubleFault or Nmi
                    ? (ulong)(vector == DoubleFault ? DoubleFaultTssSelector : NmiTssSelector) << 16 | 0x85UL << 40 // task gate
                    : (offset & 0xFFFF) | (ulong)Boot.HandOffLayout.Code32Selector << 16 | 0x8EUL << 40 | (ulong)(offset >> 16) << 48;
            }
            // Until the allocator's stacks are there, double faults and NMIs run on the early stack in the image.
            uint earlyTop = ((uint)Unsafe.AsPointer(ref s_earlyStack) + EarlyStackWords * 4) & ~15u;
            Prepare(0, earlyTop, earlyTop);
            Load(0);
        }

        /// <summary>
        /// Fills processor <paramref name="number"/>'s GDT, its TSS, its double-fault and NMI tasks (on those stacks) and
        /// its block; the processor loads them with <see cref="Load"/>.
        /// </summary>
        internal static void Prepare(int number, ulong doubleFaultTop, ulong nmiTop)
        {
            ref ProcessorTables tables = ref s_tables[number];
            ulong* gdt = (ulong*)Unsafe.AsPointer(ref tables.Gdt);
            gdt[0] = 0;
            gdt[Boot.HandOffLayout.Code32Selector / 8] = Boot.HandOffLayout.Code32Descriptor;
            gdt[Boot.HandOffLayout.DataSelector / 8] = Boot.HandOffLayout.DataDescriptor;
            byte* tss = (byte*)Unsafe.AsPointer(ref tables.Tss);
            byte* doubleFaultTss = (byte*)Unsafe.AsPointer(ref tables.DoubleFaultTss);
            byte* nmiTss = (byte*)Unsafe.AsPointer(ref tables.NmiTss);
            gdt[TssSelector / 8] = TaskDescriptor((uint)tss);
            gdt[DoubleFaultTssSelector / 8] = TaskDescriptor((uint)doubleFaultTss);
            gdt[NmiTssSelector / 8] = TaskDescriptor((uint)nmiTss);
            tables.Block.Dispatcher = (void*)(delegate*<TrapFrame*, void>)&Dispatch;
            tables.Block.Self = Unsafe.AsPointer(ref tables.Block);
            tables.Block.Number = (uint)number;
            gdt[ProcessorSelector / 8] = DataDescriptor((uint)tables.Block.Self, (uint)sizeof(ProcessorBlock) - 1);

            uint entries = (uint)Cpu.TrapEntryTable();
            *(ushort*)(tss + TssIoMap) = TssBytes;
            ExceptionTask(doubleFaultTss, entries + DoubleFault * TrapLayout.EntryStride, (uint)doubleFaultTop & ~15u);
            ExceptionTask(nmiTss, entries + Nmi * TrapLayout.EntryStride, (uint)nmiTop & ~15u);
        }

        /// <summary>Loads processor <paramref name="number"/>'s GDT, its block (FS), its TSS and the shared IDT, on that processor.</summary>
        internal static void Load(int number)
        {
            ref ProcessorTables tables = ref s_tables[number];
            PseudoDescriptor descriptor = default;
            byte* pseudo = (byte*)&descriptor + 6;
            *(ushort*)pseudo = GdtEntries * 8 - 1;
            *(uint*)(pseudo + 2) = (uint)Unsafe.AsPointer(ref tables.Gdt);
            Cpu.LoadGdt(pseudo);
            Cpu.LoadFs(ProcessorSelector);
            Cpu.LoadTaskRegister(TssSelector);
            *(ushort*)pseudo = 256 * 8 - 1;
            *(uint*)(pseudo + 2) = (uint)Unsafe.AsPointer(ref s_idt);
            Cpu.LoadIdt(pseudo);
        }

        /// <summary>A task for one exception: its vector's own entry on its own stack, the kernel's tables and selectors.</summary>
        private static void ExceptionTask(byte* task, uint entry, uint stackTop)
        {
            *(uint*)(task + TssCr3) = (uint)Cpu.ReadCr3();
            *(uint*)(task + TssEip) = entry;
            *(uint*)(task + TssEflags) = 2;
            *(uint*)(task + TssEsp) = stackTop;
            *(uint*)(task + TssCs) = Boot.HandOffLayout.Code32Selector;
            *(uint*)(task + TssEs) = *(uint*)(task + TssSs) = *(uint*)(task + TssDs) = *(uint*)(task + TssGs) = Boot.HandOffLayout.DataSelector;
            *(uint*)(task + TssFs) = ProcessorSelector;
            *(ushort*)(task + TssIoMap) = TssBytes;
        }

        /// <summary>The boot processor's double faults and NMIs from now on run on these stacks (tops; each has a guard page).</summary>
        internal static void UseExceptionStacks(ulong doubleFaultTop, ulong nmiTop)
        {
            *(uint*)((byte*)Unsafe.AsPointer(ref s_tables[0].DoubleFaultTss) + TssEsp) = (uint)doubleFaultTop & ~15u;
            *(uint*)((byte*)Unsafe.AsPointer(ref s_tables[0].NmiTss) + TssEsp) = (uint)nmiTop & ~15u;
        }

        /// <summary>An available 32-bit TSS descriptor.</summary>
        private static ulong TaskDescriptor(uint address)
            => (TssBytes - 1) | (ulong)(address & 0xFFFFFF) << 16 | 0x89UL << 40 | (ulong)(address >> 24) << 56;

        /// <summary>A byte-granular, present, writable data segment.</summary>
        private static ulong DataDescriptor(uint address, uint limit)
            => (limit & 0xFFFF) | (ulong)(address & 0xFFFFFF) << 16 | 0x92UL << 40 | (ulong)((limit >> 16) & 0xF) << 48 | 0x40UL << 48 | (ulong)(address >> 24) << 56;

        private static void Dispatch(TrapFrame* frame)
        {
            ulong address = Cpu.ReadCr2();
            uint vector = frame->Vector;
            // Interrupts: a request from another processor, or the APIC's spurious vector; anything else is unexpected.
            if (vector >= TrapLayout.FirstInterrupt && InterProcessor.Dispatch(vector))
                return;
            // A page fault may wait for a lock (demand commit): it answers other processors' requests meanwhile, as
            // the code it interrupted did. CR2 is read already.
            if (vector == 14 && (frame->Eflags & InterruptFlag) != 0)
                Processor.EnableInterrupts();
            // A double fault or NMI arrives by task switch: the interrupted state is in this processor's main TSS, not on this stack.
            byte* tss = (byte*)Unsafe.AsPointer(ref s_tables[(int)Processor.Number()].Tss);
            bool task = vector is DoubleFault or Nmi;
            uint eip = task ? *(uint*)(tss + TssEip) : frame->Eip;
            uint esp = task ? *(uint*)(tss + TssEsp) : frame->EspAtEntry + 20;
            var fault = new Fault
            {
                Kind = vector == 14 ? FaultKind.PageFault : vector == DoubleFault ? FaultKind.DoubleFault : FaultKind.Other,
                Vector = vector,
                ErrorCode = frame->ErrorCode,
                Address = address,
                NotPresent = (frame->ErrorCode & 1) == 0,
                Write = (frame->ErrorCode & 2) != 0,
                ProgramCounter = eip,
            };
            if (Faults.Resolve(&fault))
                return;
            TextLine line = default;
            line.Append("XTOSKRNL: trap ");
            line.Append(TrapNames.Of(vector));
            line.Append(" (vector ");
            line.AppendDecimal(vector);
            line.Append(") at EIP ");
            line.AppendHexPrefixed(eip, 8);
            line.Append(", error ");
            line.AppendHexPrefixed(frame->ErrorCode, 1);
            line.Append(", ESP ");
            line.AppendHexPrefixed(esp, 8);
            line.Append(", CR2 ");
            line.AppendHexPrefixed(address, 8);
            KernelConsole.WriteLine(line.AsSpan());
            Faults.Stop(&fault);
        }
    }
}
