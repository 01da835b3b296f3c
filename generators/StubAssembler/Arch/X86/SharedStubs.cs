using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace ExectOS.StubAssembler;

/// <summary>
/// Stub bodies that are the same instructions in 32- and 64-bit code: both conventions pass the first
/// two arguments in ecx and edx and return in eax, and these stubs use nothing wider.
/// </summary>
internal static class SharedStubs
{
    // Processor facts both ISAs' stubs use (Intel SDM Vol. 3A, 2.5 and 4.1).
    internal const int PageSize = 4096;
    internal const int Cr0MonitorCoprocessor = 1 << 1, Cr0Emulation = 1 << 2;
    internal const int Cr4OsFxsr = 1 << 9, Cr4OsXmmExceptions = 1 << 10;
    internal const int Cr0WriteProtect = 1 << 16, Cr0Paging = unchecked((int)0x80000000);
    internal const int Cr4PageSizeExtensions = 1 << 4, Cr4Pae = 1 << 5;
    internal const int Cr4GlobalPages = 1 << 7, Cr4La57 = 1 << 12, Cr4Pcid = 1 << 17;
    internal const int Efer = unchecked((int)0xC0000080), EferNoExecute = 1 << 11;

    // The JIT does not widen small return values after a call, so the stub returns them zero-extended.
    public static void InByte(Assembler a, ArgumentLayout args)
    {
        a.mov(edx, ecx);
        a.@in(al, dx);
        a.movzx(eax, al);
        args.EmitReturn(a);
    }

    public static void InWord(Assembler a, ArgumentLayout args)
    {
        a.mov(edx, ecx);
        a.@in(ax, dx);
        a.movzx(eax, ax);
        args.EmitReturn(a);
    }

    public static void InDword(Assembler a, ArgumentLayout args)
    {
        a.mov(edx, ecx);
        a.@in(eax, dx);
        args.EmitReturn(a);
    }

    public static void OutByte(Assembler a, ArgumentLayout args)
    {
        a.mov(eax, edx);
        a.mov(edx, ecx);
        a.@out(dx, al);
        args.EmitReturn(a);
    }

    public static void OutWord(Assembler a, ArgumentLayout args)
    {
        a.mov(eax, edx);
        a.mov(edx, ecx);
        a.@out(dx, ax);
        args.EmitReturn(a);
    }

    public static void OutDword(Assembler a, ArgumentLayout args)
    {
        a.mov(eax, edx);
        a.mov(edx, ecx);
        a.@out(dx, eax);
        args.EmitReturn(a);
    }

    public static void Halt(Assembler a, ArgumentLayout args)
    {
        a.hlt();
        args.EmitReturn(a);
    }

    public static void Pause(Assembler a, ArgumentLayout args)
    {
        a.pause();
        args.EmitReturn(a);
    }

    public static void DisableInterrupts(Assembler a, ArgumentLayout args)
    {
        a.cli();
        args.EmitReturn(a);
    }

    public static void EnableInterrupts(Assembler a, ArgumentLayout args)
    {
        a.sti();
        args.EmitReturn(a);
    }

    /// <summary>
    /// sti; hlt: the idle wait. The instruction after sti runs before any interrupt is taken, so an interrupt that
    /// arrived while they were off wakes the halt at once instead of being missed. Returns with interrupts on.
    /// </summary>
    public static void WaitForInterrupt(Assembler a, ArgumentLayout args)
    {
        a.sti();
        a.hlt();
        args.EmitReturn(a);
    }

    /// <summary>Loads FS with a selector (x86: the segment whose base is the processor block).</summary>
    public static void LoadFs(Assembler a, ArgumentLayout args)
    {
        a.mov(fs, cx);
        args.EmitReturn(a);
    }
}
