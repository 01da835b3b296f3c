using ExectOS.Boot;
using ExectOS.Hardware;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace ExectOS.StubAssembler;

/// <summary>
/// ArEarlyFault, for amd64 and i686: the exception handler of the hand-off's early IDT, which catches a kernel that
/// faults before it installs its own trap table (it would otherwise triple-fault with nothing on serial). The loader
/// copies it to HandOffLayout.EarlyCode in the hand-off page and points the gates at its entries. It prints the
/// message the loader left in the parameter block, the vector and the faulting instruction's address on COM1, ends
/// the run through isa-debug-exit and halts. Position-independent: it finds the page from its own address (the page is 4 KiB-aligned).
/// </summary>
internal static class EarlyFaultStub
{
    private const int Com1 = 0x3F8, LineStatus = Com1 + 5, TransmitEmpty = 0x20;
    private const int DebugExitPort = 0xF4, KernelFailed = 0x11;

    public static void X64(Assembler a, ArgumentLayout args) => Emit(a, wide: true);

    public static void X86(Assembler a, ArgumentLayout args) => Emit(a, wide: false);

    private static void Emit(Assembler a, bool wide)
    {
        Label common = a.CreateLabel(), noErrorCode = a.CreateLabel(), here = a.CreateLabel(), copy = a.CreateLabel(), copied = a.CreateLabel();
        Label print = a.CreateLabel(), wait = a.CreateLabel(), done = a.CreateLabel(), halt = a.CreateLabel();
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

        // The vector our entry pushed is on top; below it the processor's error code, for the vectors that have one,
        // then the faulting instruction's address. The line is built on the stack (it was good enough for the
        // processor to push the frame), then printed: the message, the vector, " at 0x", the address, CR LF.
        a.Label(ref common);
        a.cli();
        if (wide)
        {
            a.pop(rdi);
            a.mov(eax, TrapLayout.ErrorCodeVectors);
            a.bt(eax, edi);
            a.jnc(noErrorCode);
            a.add(rsp, 8);
            a.Label(ref noErrorCode);
            a.mov(r9, __qword_ptr[rsp]);
            a.sub(rsp, LineBytes);
            a.and(rsp, -16);
            a.mov(r10, rsp);
            a.call(here);
            a.Label(ref here);
            a.pop(rsi);
            a.and(rsi, -4096);
            a.add(rsi, HandOffLayout.Parameters + HandOffLayout.EarlyMessage);
            a.Label(ref copy);
            a.mov(al, __byte_ptr[rsi]);
            a.test(al, al);
            a.jz(copied);
            a.mov(__byte_ptr[r10], al);
            a.inc(rsi);
            a.inc(r10);
            a.jmp(copy);
            a.Label(ref copied);
            a.mov(r8, rdi);
            a.shl(r8, 56);
            HexDigits64(a, 2);
            a.mov(__dword_ptr[r10], Text(" at "));
            a.mov(__word_ptr[r10 + 4], (ushort)Text("0x"));
            a.add(r10, 6);
            a.mov(r8, r9);
            HexDigits64(a, 16);
            a.mov(__dword_ptr[r10], Text("\r\n"));
            a.mov(rsi, rsp);
        }
        else
        {
            a.pop(edi);
            a.mov(eax, TrapLayout.ErrorCodeVectors);
            a.bt(eax, edi);
            a.jnc(noErrorCode);
            a.add(esp, 4);
            a.Label(ref noErrorCode);
            a.mov(ebp, __dword_ptr[esp]);
            a.sub(esp, LineBytes);
            a.and(esp, -16);
            a.mov(edx, esp);
            a.call(here);
            a.Label(ref here);
            a.pop(esi);
            a.and(esi, -4096);
            a.add(esi, HandOffLayout.Parameters + HandOffLayout.EarlyMessage);
            a.Label(ref copy);
            a.mov(al, __byte_ptr[esi]);
            a.test(al, al);
            a.jz(copied);
            a.mov(__byte_ptr[edx], al);
            a.inc(esi);
            a.inc(edx);
            a.jmp(copy);
            a.Label(ref copied);
            a.mov(ebx, edi);
            a.shl(ebx, 24);
            HexDigits32(a, 2);
            a.mov(__dword_ptr[edx], Text(" at "));
            a.mov(__word_ptr[edx + 4], (ushort)Text("0x"));
            a.add(edx, 6);
            a.mov(ebx, ebp);
            HexDigits32(a, 8);
            a.mov(__dword_ptr[edx], Text("\r\n"));
            a.mov(esi, esp);
        }

        // Each byte goes to COM1 once its transmit register is empty; the zero that ends the line ends the run.
        a.Label(ref print);
        a.movzx(ecx, wide ? __byte_ptr[rsi] : __byte_ptr[esi]);
        a.test(ecx, ecx);
        a.jz(done);
        if (wide)
            a.inc(rsi);
        else
            a.inc(esi);
        a.mov(edx, LineStatus);
        a.Label(ref wait);
        a.@in(al, dx);
        a.test(al, TransmitEmpty);
        a.jz(wait);
        a.mov(edx, Com1);
        a.mov(eax, ecx);
        a.@out(dx, al);
        a.jmp(print);

        a.Label(ref done);
        a.mov(edx, DebugExitPort);
        a.mov(eax, KernelFailed);
        a.@out(dx, eax);
        a.Label(ref halt);
        a.cli();
        a.hlt();
        a.jmp(halt);
    }

    /// <summary>Room on the stack for the line: the message (at most EarlyMessageBytes) and what follows it.</summary>
    private const int LineBytes = HandOffLayout.EarlyMessageBytes + 64;

    /// <summary>Up to four ASCII characters as the little-endian word that stores them in order.</summary>
    private static uint Text(string text)
    {
        uint value = 0;
        for (int i = 0; i < text.Length; i++)
            value |= (uint)text[i] << (8 * i);
        return value;
    }

    /// <summary><paramref name="count"/> hex digits of r8's top nibbles, stored at r10 onwards (r10 advances).</summary>
    private static void HexDigits64(Assembler a, int count)
    {
        Label loop = a.CreateLabel(), digit = a.CreateLabel();
        a.mov(ecx, count);
        a.Label(ref loop);
        a.rol(r8, 4);
        a.mov(eax, r8d);
        a.and(eax, 15);
        a.add(eax, '0');
        a.cmp(eax, '9');
        a.jbe(digit);
        a.add(eax, 'A' - '9' - 1);
        a.Label(ref digit);
        a.mov(__byte_ptr[r10], al);
        a.inc(r10);
        a.dec(ecx);
        a.jnz(loop);
    }

    /// <summary><paramref name="count"/> hex digits of ebx's top nibbles, stored at edx onwards (edx advances).</summary>
    private static void HexDigits32(Assembler a, int count)
    {
        Label loop = a.CreateLabel(), digit = a.CreateLabel();
        a.mov(ecx, count);
        a.Label(ref loop);
        a.rol(ebx, 4);
        a.mov(eax, ebx);
        a.and(eax, 15);
        a.add(eax, '0');
        a.cmp(eax, '9');
        a.jbe(digit);
        a.add(eax, 'A' - '9' - 1);
        a.Label(ref digit);
        a.mov(__byte_ptr[edx], al);
        a.inc(edx);
        a.dec(ecx);
        a.jnz(loop);
    }
}
