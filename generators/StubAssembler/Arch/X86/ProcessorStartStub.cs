using System;
using ExectOS.Boot;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace ExectOS.StubAssembler;

/// <summary>
/// ArProcessorStart: the application processors' start-up code, copied by the kernel to the start-up page (see
/// ProcessorStartLayout). Parts at fixed offsets, each assembled for its own mode: 16-bit real mode (CS is the page's
/// paragraph), 32-bit protected mode (finds the page from its own address), and on amd64 64-bit long mode (on the
/// kernel's tables, the page identity-mapped). On i686 the 32-bit part turns paging on and calls the kernel itself.
/// Never called: the kernel copies its bytes.
/// </summary>
internal static class ProcessorStartStub
{
    public static void X64(Assembler a, ArgumentLayout args)
    {
        var code = new byte[ProcessorStartLayout.CodeBytes];
        code.AsSpan().Fill(0xCC);
        Place(code, 0, RealMode(), ProcessorStartLayout.Code32);
        Place(code, ProcessorStartLayout.Code32, Protected32(), ProcessorStartLayout.Code64 - ProcessorStartLayout.Code32);
        Place(code, ProcessorStartLayout.Code64, Long64(), ProcessorStartLayout.CodeBytes - ProcessorStartLayout.Code64);
        a.db(code);
    }

    /// <summary>i686: the same real-mode part, then a 32-bit part that ends in the kernel's entry (no 64-bit part).</summary>
    public static void X86(Assembler a, ArgumentLayout args)
    {
        var code = new byte[ProcessorStartLayout.CodeBytes];
        code.AsSpan().Fill(0xCC);
        Place(code, 0, RealMode(), ProcessorStartLayout.Code32);
        Place(code, ProcessorStartLayout.Code32, Protected32Paging(), ProcessorStartLayout.CodeBytes - ProcessorStartLayout.Code32);
        a.db(code);
    }

    private static void Place(byte[] code, int offset, byte[] part, int room)
    {
        if (part.Length > room)
            throw new InvalidOperationException($"ArProcessorStart: the part at 0x{offset:X} takes {part.Length} bytes, room for {room}");
        part.CopyTo(code, offset);
    }

    // cli, cld; DS = CS; lgdt; CR0.PE; o32 jmp far to the 32-bit part.
    private static byte[] RealMode()
    {
        var c = new Assembler(16);
        c.cli();
        c.cld();
        c.mov(ax, cs);
        c.mov(ds, ax);
        c.lgdt(__[ProcessorStartLayout.Parameters + ProcessorStartLayout.GdtLimit]);
        c.mov(eax, cr0);
        c.or(eax, 1);
        c.mov(cr0, eax);
        c.jmp(__fword_ptr[ProcessorStartLayout.Parameters + ProcessorStartLayout.Jump32]);
        return Bytes(c);
    }

    // Flat data segments; ebx = the page (call/pop); the boot processor's CR4, root, EFER, CR0; jmp far to 64-bit code.
    private static byte[] Protected32()
    {
        const int p = ProcessorStartLayout.Parameters;
        var c = new Assembler(32);
        FlatSegmentsAndRoot(c);
        c.mov(ecx, SharedStubs.Efer);
        c.mov(eax, __dword_ptr[ebx + p + ProcessorStartLayout.Efer]);
        c.xor(edx, edx);
        c.wrmsr();
        c.mov(eax, __dword_ptr[ebx + p + ProcessorStartLayout.Cr0]);
        c.mov(cr0, eax);
        c.jmp(__fword_ptr[ebx + p + ProcessorStartLayout.Jump64]);
        return Bytes(c);
    }

    // i686: flat data segments; ebx = the page; the boot processor's CR4, root, EFER (only when it has one: 0 skips
    // it), CR0 with paging on; then the stack and the entry from the parameter block, the argument in ecx (the
    // managed calling convention's first), never returning.
    private static byte[] Protected32Paging()
    {
        const int p = ProcessorStartLayout.Parameters;
        var c = new Assembler(32);
        Label noEfer = c.CreateLabel(), halt = c.CreateLabel();
        FlatSegmentsAndRoot(c);
        c.mov(eax, __dword_ptr[ebx + p + ProcessorStartLayout.Efer]);
        c.test(eax, eax);
        c.jz(noEfer);
        c.mov(ecx, SharedStubs.Efer);
        c.xor(edx, edx);
        c.wrmsr();
        c.Label(ref noEfer);
        c.mov(eax, __dword_ptr[ebx + p + ProcessorStartLayout.Cr0]);
        c.mov(cr0, eax);
        c.mov(esp, __dword_ptr[ebx + p + ProcessorStartLayout.StackTop]);
        c.and(esp, -16);
        c.xor(ebp, ebp);
        c.mov(ecx, __dword_ptr[ebx + p + ProcessorStartLayout.Argument]);
        c.mov(eax, __dword_ptr[ebx + p + ProcessorStartLayout.Entry]);
        c.call(eax);
        c.Label(ref halt);
        c.cli();
        c.hlt();
        c.jmp(halt);
        return Bytes(c);
    }

    // The stack and the entry from the parameter block; the entry gets the argument (rcx), shadow space, and never returns.
    private static byte[] Long64()
    {
        const int p = ProcessorStartLayout.Parameters;
        var c = new Assembler(64);
        Label halt = c.CreateLabel();
        c.mov(ebx, ebx);
        c.mov(rsp, __qword_ptr[rbx + p + ProcessorStartLayout.StackTop]);
        c.and(rsp, -16);
        c.push(0);
        c.sub(rsp, 40);
        c.xor(ebp, ebp);
        c.mov(rcx, __qword_ptr[rbx + p + ProcessorStartLayout.Argument]);
        c.mov(rax, __qword_ptr[rbx + p + ProcessorStartLayout.Entry]);
        c.call(rax);
        c.Label(ref halt);
        c.cli();
        c.hlt();
        c.jmp(halt);
        return Bytes(c);
    }

    // Both 32-bit parts begin alike: ebx = the page (call/pop), flat data segments, the boot processor's CR4 and root.
    private static void FlatSegmentsAndRoot(Assembler c)
    {
        const int p = ProcessorStartLayout.Parameters;
        Label here = c.CreateLabel();
        c.call(here);
        c.Label(ref here);
        c.pop(ebx);
        c.sub(ebx, ProcessorStartLayout.Code32 + 5);
        c.mov(eax, (int)HandOffLayout.DataSelector);
        c.mov(ds, ax);
        c.mov(es, ax);
        c.mov(ss, ax);
        c.mov(fs, ax);
        c.mov(gs, ax);
        c.mov(eax, __dword_ptr[ebx + p + ProcessorStartLayout.Cr4]);
        c.mov(cr4, eax);
        c.mov(eax, __dword_ptr[ebx + p + ProcessorStartLayout.PageTableRoot]);
        c.mov(cr3, eax);
    }

    private static byte[] Bytes(Assembler c)
    {
        var writer = new X64Stubs.BytesWriter();
        c.Assemble(writer, 0);
        return writer.Bytes.ToArray();
    }
}
