using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace ExectOS.StubAssembler;

/// <summary>Stub bodies for x64 (Microsoft x64 convention: rcx, rdx, r8, r9; result in rax).</summary>
internal static class X64Stubs
{
    public static void ReadCr0(Assembler a, ArgumentLayout args) => ReadControl(a, args, cr0);

    public static void ReadCr2(Assembler a, ArgumentLayout args) => ReadControl(a, args, cr2);

    public static void ReadCr3(Assembler a, ArgumentLayout args) => ReadControl(a, args, cr3);

    public static void ReadCr4(Assembler a, ArgumentLayout args) => ReadControl(a, args, cr4);

    public static void WriteCr0(Assembler a, ArgumentLayout args) => WriteControl(a, args, cr0);

    public static void WriteCr3(Assembler a, ArgumentLayout args) => WriteControl(a, args, cr3);

    public static void WriteCr4(Assembler a, ArgumentLayout args) => WriteControl(a, args, cr4);

    public static void InvalidatePage(Assembler a, ArgumentLayout args)
    {
        a.invlpg(__[rcx]);
        args.EmitReturn(a);
    }

    // rbx is callee-saved and cpuid overwrites it.
    public static void CpuId(Assembler a, ArgumentLayout args)
    {
        a.push(rbx);
        a.mov(eax, ecx);
        a.mov(ecx, edx);
        a.cpuid();
        a.mov(__dword_ptr[r8], eax);
        a.mov(__dword_ptr[r8 + 4], ebx);
        a.mov(__dword_ptr[r8 + 8], ecx);
        a.mov(__dword_ptr[r8 + 12], edx);
        a.pop(rbx);
        args.EmitReturn(a);
    }

    public static void ReadMsr(Assembler a, ArgumentLayout args)
    {
        a.rdmsr();
        CombineEdxEax(a);
        args.EmitReturn(a);
    }

    public static void WriteMsr(Assembler a, ArgumentLayout args)
    {
        a.mov(rax, rdx);
        a.shr(rdx, 32);
        a.wrmsr();
        args.EmitReturn(a);
    }

    public static void ReadTimeStampCounter(Assembler a, ArgumentLayout args)
    {
        a.rdtsc();
        CombineEdxEax(a);
        args.EmitReturn(a);
    }

    public static void LoadGdt(Assembler a, ArgumentLayout args)
    {
        a.lgdt(__[rcx]);
        args.EmitReturn(a);
    }

    public static void LoadIdt(Assembler a, ArgumentLayout args)
    {
        a.lidt(__[rcx]);
        args.EmitReturn(a);
    }

    // rcx = page-table root, rdx = entry, r8 = stack top, r9 = argument: all already in registers,
    // so nothing is read from the old stack after the switch. The entry is called with rsp = 8 mod 16
    // and 32 bytes of shadow space above its return address, as the Microsoft convention promises.
    // The return address leads to the halt loop; a zero above the frame ends stack walks.
    // Execution continues here after the CR3 write, so the new tables must map this stub's page at
    // the same address, as well as the new stack.
    // The kernel's compiled code uses SSE from its first instruction: make sure x87 emulation is off
    // and the OS has declared FXSAVE and SIMD-exception support, whatever state the firmware left.
    private static void EnableSse(Assembler a)
    {
        a.mov(rax, cr0);
        a.and(rax, ~SharedStubs.Cr0Emulation);
        a.or(rax, SharedStubs.Cr0MonitorCoprocessor);
        a.mov(cr0, rax);
        a.mov(rax, cr4);
        a.or(rax, SharedStubs.Cr4OsFxsr | SharedStubs.Cr4OsXmmExceptions);
        a.mov(cr4, rax);
    }

    public static void TransferToKernel(Assembler a, ArgumentLayout args)
    {
        Label halt = a.CreateLabel();
        a.cli();
        EnableSse(a);
        a.mov(cr3, rcx);
        a.mov(rsp, r8);
        a.and(rsp, -16);
        a.push(0);
        a.sub(rsp, 40);
        a.xor(ebp, ebp);
        a.mov(rcx, r9);
        a.call(rdx);
        a.Label(ref halt);
        a.cli();
        a.hlt();
        a.jmp(halt);
    }

    // NativeAOT's x64 contract: r11 = lowest address of the frame being allocated, rsp somewhere in
    // the last probed page. The caller moves r11 into rsp afterwards, so r11 must survive; only rax
    // and the flags may change. Compares are unsigned because kernel addresses have the top bit set.
    public static void StackProbe(Assembler a, ArgumentLayout args)
    {
        Label probe = a.CreateLabel();
        a.mov(rax, rsp);
        a.and(rax, -SharedStubs.PageSize);
        a.Label(ref probe);
        a.sub(rax, SharedStubs.PageSize);
        a.test(__dword_ptr[rax], eax);
        a.cmp(rax, r11);
        a.ja(probe);
        args.EmitReturn(a);
    }

    private static void ReadControl(Assembler a, ArgumentLayout args, AssemblerRegisterCR register)
    {
        a.mov(rax, register);
        args.EmitReturn(a);
    }

    private static void WriteControl(Assembler a, ArgumentLayout args, AssemblerRegisterCR register)
    {
        a.mov(register, rcx);
        args.EmitReturn(a);
    }

    private static void CombineEdxEax(Assembler a)
    {
        a.shl(rdx, 32);
        a.or(rax, rdx);
    }
}
