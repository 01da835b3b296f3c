using ExectOS.Boot;
using ExectOS.Hardware;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace ExectOS.StubAssembler;

/// <summary>
/// Stub bodies for i686 under NativeAOT's managed x86 convention (see <see cref="ArgumentLayout"/>):
/// ecx, edx, then the stack; 64-bit results in edx:eax; the callee pops.
/// </summary>
internal static class X86Stubs
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
        a.invlpg(__[ecx]);
        args.EmitReturn(a);
    }

    // ecx = leaf, edx = subleaf, result pointer on the stack. cpuid overwrites all four of
    // eax..edx, so eax is parked on the stack while the pointer is fetched into it.
    public static void CpuId(Assembler a, ArgumentLayout args)
    {
        a.push(ebx);
        a.mov(eax, ecx);
        a.mov(ecx, edx);
        a.cpuid();
        a.push(eax);
        a.mov(eax, args.Stack(2, pushedBytes: 8));
        a.mov(__dword_ptr[eax + 4], ebx);
        a.mov(__dword_ptr[eax + 8], ecx);
        a.mov(__dword_ptr[eax + 12], edx);
        a.pop(ecx);
        a.mov(__dword_ptr[eax], ecx);
        a.pop(ebx);
        args.EmitReturn(a);
    }

    // rdmsr and rdtsc already leave the 64-bit result in edx:eax.
    public static void ReadMsr(Assembler a, ArgumentLayout args)
    {
        a.rdmsr();
        args.EmitReturn(a);
    }

    // ecx = msr; the 64-bit value is always on the stack, low dword at the lower address.
    public static void WriteMsr(Assembler a, ArgumentLayout args)
    {
        a.mov(eax, args.Stack(1));
        a.mov(edx, args.Stack(1, byteOffset: 4));
        a.wrmsr();
        args.EmitReturn(a);
    }

    public static void ReadTimeStampCounter(Assembler a, ArgumentLayout args)
    {
        a.rdtsc();
        args.EmitReturn(a);
    }

    // Two 32-bit RDRANDs make the 64-bit result in edx:eax; ten tries each, then 0 for "none".
    public static void ReadRandom(Assembler a, ArgumentLayout args)
    {
        Label low = a.CreateLabel(), high = a.CreateLabel(), haveLow = a.CreateLabel(), fail = a.CreateLabel(), done = a.CreateLabel();
        a.mov(ecx, 10);
        a.Label(ref low);
        a.rdrand(eax);
        a.jb(haveLow);
        a.dec(ecx);
        a.jnz(low);
        a.jmp(fail);
        a.Label(ref haveLow);
        a.mov(ecx, 10);
        a.Label(ref high);
        a.rdrand(edx);
        a.jb(done);
        a.dec(ecx);
        a.jnz(high);
        a.Label(ref fail);
        a.xor(eax, eax);
        a.xor(edx, edx);
        a.Label(ref done);
        args.EmitReturn(a);
    }

    public static void LoadGdt(Assembler a, ArgumentLayout args)
    {
        a.lgdt(__[ecx]);
        args.EmitReturn(a);
    }

    public static void LoadIdt(Assembler a, ArgumentLayout args)
    {
        a.lidt(__[ecx]);
        args.EmitReturn(a);
    }

    // ecx = page-table root, edx = entry; stackTop and argument are on the old stack, so both are
    // loaded before CR3 and esp change. The entry gets its argument in ecx and esp = 12 mod 16, as
    // after a call from an aligned frame. Its return address leads to the halt loop; a zero above
    // the frame ends stack walks. ebx and ebp are free to use because this never returns. As on
    // x64 the new tables must map this stub's page at the same address; and CR3 only matters once
    // the caller has enabled paging (CR0.PG, CR4.PAE as the tables need): IA32 firmware runs unpaged.
    // The kernel's compiled code uses SSE from its first instruction: make sure x87 emulation is off
    // and the OS has declared FXSAVE and SIMD-exception support, whatever state the firmware left.
    private static void EnableSse(Assembler a)
    {
        a.mov(eax, cr0);
        a.and(eax, ~SharedStubs.Cr0Emulation);
        a.or(eax, SharedStubs.Cr0MonitorCoprocessor);
        a.mov(cr0, eax);
        a.mov(eax, cr4);
        a.or(eax, SharedStubs.Cr4OsFxsr | SharedStubs.Cr4OsXmmExceptions);
        a.mov(cr4, eax);
    }

    /// <summary>
    /// The i686 hand-off from the identity-mapped page, ecx = its parameter block (see HandOffLayout): loads the
    /// page's GDT and reloads every segment from it (CS through a far return), turns paging off (IA32 firmware
    /// may run paged), sets CR4.PAE, CR4.PSE and EFER.NXE as the Flags ask, loads the kernel's root and turns
    /// paging on with write protection, then enters the kernel on its stack with the loader block in ecx.
    /// Position-independent; the new tables map this page at the same address.
    /// </summary>
    public static void HandOff(Assembler a, ArgumentLayout args)
    {
        Label halt = a.CreateLabel(), here = a.CreateLabel(), reload = a.CreateLabel();
        Label noPae = a.CreateLabel(), noLarge = a.CreateLabel(), noNx = a.CreateLabel();
        a.cli();
        EnableSse(a);
        a.mov(ebx, ecx);
        a.lgdt(__[ebx + HandOffLayout.GdtLimit]);
        // CS from the new GDT: push the selector and the absolute address of `reload`, found with call/pop.
        a.push((int)HandOffLayout.Code32Selector);
        a.call(here);
        a.Label(ref here);
        a.pop(eax);
        // eax = `here`; `reload` is 6 bytes on: pop eax (1), add eax, imm8 (3), push eax (1), retf (1). The add is
        // spelled out: the assembler would pick the imm32 form.
        a.db(0x83, 0xC0, 6);
        a.push(eax);
        a.retf();
        a.Label(ref reload);
        a.mov(eax, (int)HandOffLayout.DataSelector);
        a.mov(ds, ax);
        a.mov(es, ax);
        a.mov(ss, ax);
        a.mov(fs, ax);
        a.mov(gs, ax);

        a.mov(eax, cr0);
        a.and(eax, ~SharedStubs.Cr0Paging);
        a.mov(cr0, eax);
        a.mov(edx, cr4);
        a.and(edx, ~(SharedStubs.Cr4GlobalPages | SharedStubs.Cr4Pae | SharedStubs.Cr4PageSizeExtensions));
        a.test(__dword_ptr[ebx + HandOffLayout.Flags], (int)HandOffLayout.Pae);
        a.jz(noPae);
        a.or(edx, SharedStubs.Cr4Pae);
        a.Label(ref noPae);
        a.test(__dword_ptr[ebx + HandOffLayout.Flags], (int)HandOffLayout.LargePages);
        a.jz(noLarge);
        a.or(edx, SharedStubs.Cr4PageSizeExtensions);
        a.Label(ref noLarge);
        a.mov(cr4, edx);
        a.test(__dword_ptr[ebx + HandOffLayout.Flags], (int)HandOffLayout.NoExecute);
        a.jz(noNx);
        a.mov(ecx, SharedStubs.Efer);
        a.rdmsr();
        a.or(eax, SharedStubs.EferNoExecute);
        a.wrmsr();
        a.Label(ref noNx);
        a.mov(eax, __[ebx + HandOffLayout.PageTableRoot]);
        a.mov(cr3, eax);
        a.mov(eax, cr0);
        a.or(eax, SharedStubs.Cr0Paging | SharedStubs.Cr0WriteProtect);
        a.mov(cr0, eax);

        // Until the kernel loads its own, exceptions reach the early fault handler the loader put in this page.
        a.lidt(__[ebx + HandOffLayout.EarlyIdtLimit]);
        a.mov(esp, __[ebx + HandOffLayout.StackTop]);
        a.and(esp, -16);
        a.push(0);
        a.sub(esp, 12);
        a.xor(ebp, ebp);
        a.mov(ecx, __[ebx + HandOffLayout.Argument]);
        a.call(__dword_ptr[ebx + HandOffLayout.Entry]);
        a.Label(ref halt);
        a.cli();
        a.hlt();
        a.jmp(halt);
    }

    // NativeAOT's x86 contract (Runtime/i386/MiscStubs.asm): eax = lowest address of the frame being
    // allocated. The caller moves eax into esp afterwards, so unlike x64 nothing but the flags may
    // change; ecx walks the pages and is restored. Unsigned compares, as on x64.
    public static void StackProbe(Assembler a, ArgumentLayout args)
    {
        Label probe = a.CreateLabel();
        a.push(ecx);
        a.mov(ecx, esp);
        a.and(ecx, -SharedStubs.PageSize);
        a.Label(ref probe);
        a.sub(ecx, SharedStubs.PageSize);
        a.test(__dword_ptr[ecx], ecx);
        a.cmp(ecx, eax);
        a.ja(probe);
        a.pop(ecx);
        args.EmitReturn(a);
    }

    private static void ReadControl(Assembler a, ArgumentLayout args, AssemblerRegisterCR register)
    {
        a.mov(eax, register);
        args.EmitReturn(a);
    }

    private static void WriteControl(Assembler a, ArgumentLayout args, AssemblerRegisterCR register)
    {
        a.mov(register, ecx);
        args.EmitReturn(a);
    }

    /// <summary>
    /// The x86 trap entries (see the x64 stub): the same entries, then pushad, ecx = the frame, the dispatcher
    /// from fs:[DispatcherOffset], popad and iretd if it returns.
    /// </summary>
    public static void TrapEntryTable(Assembler a, ArgumentLayout args)
    {
        Label entries = a.CreateLabel(), here = a.CreateLabel();
        // Position-independent address of the entries: call/pop, then the distance to them.
        a.call(here);
        a.Label(ref here);
        a.pop(eax);
        a.lea(eax, __[eax + 11]);
        args.EmitReturn(a);
        a.db(X64Stubs.Padding(6));
        a.Label(ref entries);
        a.db(X64Stubs.TrapEntries(commonOffset: TrapLayout.EntryCount * TrapLayout.EntryStride));
        a.pushad();
        a.cld();
        // A double fault arrives by task switch, which sets CR0.TS: the dispatcher's SSE code would fault (#NM).
        // The kernel never saves SSE state lazily, so TS is cleared on every entry.
        a.clts();
        a.mov(ecx, esp);
        a.mov(ebx, esp);
        a.and(esp, -16);
        // mov eax, fs:[DispatcherOffset] (64 A1 moffs32).
        a.db(0x64, 0xA1);
        a.db(System.BitConverter.GetBytes(TrapLayout.DispatcherOffset));
        a.call(eax);
        a.mov(esp, ebx);
        a.popad();
        a.add(esp, 8);
        a.iretd();
    }

    /// <summary>Calls function(argument) on another stack (ecx = its top, edx = the function, the argument on the stack).</summary>
    public static void CallOnStack(Assembler a, ArgumentLayout args)
    {
        a.push(ebx);
        a.push(ebp);
        a.mov(eax, args.Stack(2, pushedBytes: 8));
        a.mov(ebx, esp);
        a.mov(esp, ecx);
        a.and(esp, -16);
        a.xor(ebp, ebp);
        a.mov(ecx, eax);
        a.call(edx);
        a.mov(esp, ebx);
        a.pop(ebp);
        a.pop(ebx);
        args.EmitReturn(a);
    }

    // ecx = location, edx = value, the comparand on the stack: the old value in eax.
    public static void CompareExchange(Assembler a, ArgumentLayout args)
    {
        a.mov(eax, args.Stack(2));
        a.@lock.cmpxchg(__dword_ptr[ecx], edx);
        args.EmitReturn(a);
    }

    public static void Exchange(Assembler a, ArgumentLayout args)
    {
        a.mov(eax, edx);
        a.xchg(__dword_ptr[ecx], eax);
        args.EmitReturn(a);
    }

    // mov eax, fs:[NumberOffset32] (64 A1 moffs32).
    public static void ProcessorNumber(Assembler a, ArgumentLayout args)
    {
        a.db(0x64, 0xA1);
        a.db(System.BitConverter.GetBytes(TrapLayout.NumberOffset32));
        args.EmitReturn(a);
    }

    public static void LoadTaskRegister(Assembler a, ArgumentLayout args)
    {
        a.ltr(cx);
        args.EmitReturn(a);
    }
}
