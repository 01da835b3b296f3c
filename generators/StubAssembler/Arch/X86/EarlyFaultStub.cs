using ExectOS.Boot;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace ExectOS.StubAssembler;

/// <summary>
/// ArEarlyFault, for amd64 and i686: the exception handler of the hand-off's early IDT, which catches a kernel that
/// faults before it installs its own trap table (it would otherwise triple-fault with nothing on serial). The loader
/// copies it to HandOffLayout.EarlyCode in the hand-off page and points the gates at its entries. It prints the
/// message the loader left in the parameter block and the vector on COM1, ends the run through isa-debug-exit and
/// halts. Position-independent: it finds the page from its own address (the page is 4 KiB-aligned).
/// </summary>
internal static class EarlyFaultStub
{
    private const int Com1 = 0x3F8, LineStatus = Com1 + 5, TransmitEmpty = 0x20;
    private const int DebugExitPort = 0xF4, KernelFailed = 0x11;

    public static void X64(Assembler a, ArgumentLayout args) => Emit(a, wide: true);

    public static void X86(Assembler a, ArgumentLayout args) => Emit(a, wide: false);

    private static void Emit(Assembler a, bool wide)
    {
        Label common = a.CreateLabel(), here = a.CreateLabel(), next = a.CreateLabel(), packed = a.CreateLabel(), emit = a.CreateLabel();
        Label wait = a.CreateLabel(), done = a.CreateLabel(), halt = a.CreateLabel(), highDigit = a.CreateLabel(), lowDigit = a.CreateLabel();
        // One entry per vector, each exactly EarlyEntryStride bytes: push imm8 (2), jmp rel32 (5), nop (1), spelled out
        // because the assembler shortens a branch that fits in rel8. The common path starts right after the last entry.
        int entries = HandOffLayout.EarlyVectors * HandOffLayout.EarlyEntryStride;
        for (int vector = 0; vector < HandOffLayout.EarlyVectors; vector++)
        {
            int after = vector * HandOffLayout.EarlyEntryStride + 7;
            a.db(0x6A, (byte)vector, 0xE9);
            a.db(System.BitConverter.GetBytes(entries - after));
            a.nop();
        }

        // The vector our entry pushed is on top (an error code, where the processor pushed one, lies below it). It
        // becomes two hex digits, CR and LF packed into ebp, printed after the message: no call, no stack beyond this.
        a.Label(ref common);
        a.cli();
        if (wide)
            a.pop(rdi);
        else
            a.pop(edi);
        a.mov(ebp, (uint)('\r' << 16 | '\n' << 24));
        a.mov(ecx, edi);
        a.shr(ecx, 4);
        a.and(ecx, 15);
        HexDigit(a, highDigit);
        a.or(ebp, ecx);
        a.mov(ecx, edi);
        a.and(ecx, 15);
        HexDigit(a, lowDigit);
        a.shl(ecx, 8);
        a.or(ebp, ecx);

        a.call(here);
        a.Label(ref here);
        if (wide)
        {
            a.pop(rbx);
            a.and(rbx, -4096);
            a.lea(rsi, __[rbx + HandOffLayout.Parameters + HandOffLayout.EarlyMessage]);
        }
        else
        {
            a.pop(ebx);
            a.and(ebx, -4096);
            a.lea(esi, __[ebx + HandOffLayout.Parameters + HandOffLayout.EarlyMessage]);
        }
        // The message's bytes, then the packed ones; each goes to COM1 once its transmit register is empty.
        a.Label(ref next);
        a.movzx(ecx, wide ? __byte_ptr[rsi] : __byte_ptr[esi]);
        a.test(ecx, ecx);
        a.jz(packed);
        if (wide)
            a.inc(rsi);
        else
            a.inc(esi);
        a.jmp(emit);
        a.Label(ref packed);
        a.test(ebp, ebp);
        a.jz(done);
        a.mov(ecx, ebp);
        a.and(ecx, 0xFF);
        a.shr(ebp, 8);
        a.Label(ref emit);
        a.mov(edx, LineStatus);
        a.Label(ref wait);
        a.@in(al, dx);
        a.test(al, TransmitEmpty);
        a.jz(wait);
        a.mov(edx, Com1);
        a.mov(eax, ecx);
        a.@out(dx, al);
        a.jmp(next);

        a.Label(ref done);
        a.mov(edx, DebugExitPort);
        a.mov(eax, KernelFailed);
        a.@out(dx, eax);
        a.Label(ref halt);
        a.cli();
        a.hlt();
        a.jmp(halt);
    }

    /// <summary>ecx = 0-15 becomes its hex digit.</summary>
    private static void HexDigit(Assembler a, Label skip)
    {
        a.add(ecx, '0');
        a.cmp(ecx, '9');
        a.jbe(skip);
        a.add(ecx, 'A' - '9' - 1);
        a.Label(ref skip);
    }
}
