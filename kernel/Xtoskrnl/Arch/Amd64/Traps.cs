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
    /// The amd64 kernel's own GDT (the hand-off page's selectors, plus a TSS), a TSS whose IST1 and IST2 are
    /// the stacks double faults and NMIs run on, and an IDT with the exception vectors. Until the memory manager
    /// gives them stacks with guard pages (<see cref="UseExceptionStacks"/>), both run on a small early stack in
    /// the image. Every exception is decoded
    /// into a <see cref="Fault"/>, printed and handed to <see cref="Faults"/>: resolved (demand commit), or
    /// stopped with the bug check that names it.
    /// </summary>
    internal static unsafe class Traps
    {
        private const ushort TssSelector = 0x20;
        private const uint GsBaseMsr = 0xC0000101;
        private const int EarlyStackWords = 2048;
        private const int Ist1 = 36, Ist2 = 44;

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

        private struct ProcessorBlock
        {
            public void* Dispatcher;
            public ulong Self;
        }

#pragma warning disable CS0649 // written through pointers
        private static GdtTable s_gdt;
        private static IdtTable s_idt;
        private static TaskState s_tss;
        private static IstStack s_earlyStack;
        private static ProcessorBlock s_processor;
#pragma warning restore CS0649

        internal static void Initialize()
        {
            ulong* gdt = (ulong*)Unsafe.AsPointer(ref s_gdt);
            gdt[0] = 0;
            gdt[Boot.HandOffLayout.Code64Selector / 8] = Boot.HandOffLayout.Code64Descriptor;
            gdt[Boot.HandOffLayout.Code32Selector / 8] = Boot.HandOffLayout.Code32Descriptor;
            gdt[Boot.HandOffLayout.DataSelector / 8] = Boot.HandOffLayout.DataDescriptor;

            // 64-bit TSS: IST1 and IST2 (the early stack until the allocator's), the I/O map base past the end (no I/O bitmap).
            byte* tss = (byte*)Unsafe.AsPointer(ref s_tss);
            ulong istTop = ((ulong)Unsafe.AsPointer(ref s_earlyStack) + EarlyStackWords * 8) & ~15UL;
            *(ulong*)(tss + Ist1) = istTop;
            *(ulong*)(tss + Ist2) = istTop;
            *(ushort*)(tss + 102) = 104;
            ulong tssBase = (ulong)tss, limit = 103;
            gdt[TssSelector / 8] = (limit & 0xFFFF) | ((tssBase & 0xFFFFFF) << 16) | (0x89UL << 40) | (((limit >> 16) & 0xF) << 48) | (((tssBase >> 24) & 0xFF) << 56);
            gdt[TssSelector / 8 + 1] = tssBase >> 32;

            ulong* idt = (ulong*)Unsafe.AsPointer(ref s_idt);
            ulong entries = Cpu.TrapEntryTable();
            for (int vector = 0; vector < TrapLayout.EntryCount; vector++)
            {
                ulong offset = entries + (ulong)(vector * TrapLayout.EntryStride);
                ulong ist = vector == 8 ? 1UL : vector == 2 ? 2UL : 0UL;
                idt[vector * 2] = (offset & 0xFFFF) | ((ulong)Boot.HandOffLayout.Code64Selector << 16) | (ist << 32) | (0x8EUL << 40) | (((offset >> 16) & 0xFFFF) << 48);
                idt[vector * 2 + 1] = offset >> 32;
            }

            s_processor.Dispatcher = (void*)(delegate*<TrapFrame*, void>)&Dispatch;
            s_processor.Self = (ulong)Unsafe.AsPointer(ref s_processor);
            Cpu.WriteMsr(GsBaseMsr, s_processor.Self);

            // Pseudo-descriptors: the 16-bit limit at byte 6, so the 64-bit base is aligned at byte 8.
            PseudoDescriptor descriptor = default;
            byte* pseudo = (byte*)&descriptor + 6;
            *(ushort*)pseudo = 6 * 8 - 1;
            *(ulong*)(pseudo + 2) = (ulong)gdt;
            Cpu.LoadGdt(pseudo);
            Cpu.LoadTaskRegister(TssSelector);
            *(ushort*)pseudo = 256 * 16 - 1;
            *(ulong*)(pseudo + 2) = (ulong)idt;
            Cpu.LoadIdt(pseudo);
        }

        /// <summary>Double faults and NMIs from now on run on these stacks (tops, 16-byte aligned; each has a guard page).</summary>
        internal static void UseExceptionStacks(ulong doubleFaultTop, ulong nmiTop)
        {
            byte* tss = (byte*)Unsafe.AsPointer(ref s_tss);
            *(ulong*)(tss + Ist1) = doubleFaultTop & ~15UL;
            *(ulong*)(tss + Ist2) = nmiTop & ~15UL;
        }

        private static void Dispatch(TrapFrame* frame)
        {
            ulong address = Cpu.ReadCr2();
            ulong vector = frame->Vector;
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
