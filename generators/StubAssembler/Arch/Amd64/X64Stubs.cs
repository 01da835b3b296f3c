using Iced.Intel;
using ExectOS.Boot;
using ExectOS.Hardware;
using static ExectOS.StubAssembler.SharedStubs;
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

    // RDRAND may come back empty (carry clear) under load: ten tries, then 0 for "none" (the caller
    // checks CPUID first and falls back to the time-stamp counter).
    public static void ReadRandom(Assembler a, ArgumentLayout args)
    {
        Label retry = a.CreateLabel(), done = a.CreateLabel();
        a.mov(ecx, 10);
        a.Label(ref retry);
        a.rdrand(rax);
        a.jb(done);
        a.dec(ecx);
        a.jnz(retry);
        a.xor(eax, eax);
        a.Label(ref done);
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

    /// <summary>
    /// Runs from a copy in the identity-mapped hand-off page, rcx = its parameter block (see
    /// HandOffLayout): turns on no-execute and write protection, loads the page's GDT, installs the
    /// kernel's tables and enters the kernel on its stack. 4-level: reload CS, then CR3. 5-level:
    /// CR4.LA57 can only change with paging off, so the stub drops to 32-bit code, turns paging off,
    /// sets LA57, loads CR3 and turns paging back on, then returns to 64-bit code. Position-independent.
    /// </summary>
    public static void HandOff(Assembler a, ArgumentLayout args)
    {
        Label fiveLevel = a.CreateLabel(), reload = a.CreateLabel(), compatibility = a.CreateLabel(), longMode = a.CreateLabel(), halt = a.CreateLabel();
        a.cli();
        EnableSse(a);
        a.mov(rbx, rcx);
        a.mov(ecx, Efer);
        a.rdmsr();
        a.or(eax, EferNoExecute);
        a.wrmsr();
        a.mov(rax, cr0);
        a.or(eax, Cr0WriteProtect);
        a.mov(cr0, rax);
        // Global pages and PCIDs would keep firmware translations alive, and PCIDE forbids leaving long mode.
        a.mov(rax, cr4);
        a.and(rax, ~(Cr4GlobalPages | Cr4Pcid));
        a.mov(cr4, rax);
        a.lgdt(__[rbx + HandOffLayout.GdtLimit]);
        a.test(__qword_ptr[rbx + HandOffLayout.Flags], (int)HandOffLayout.FiveLevel);
        a.jnz(fiveLevel);

        // 4-level: CS from the new GDT while the firmware's stack still works, then the kernel's tables.
        a.push((int)HandOffLayout.Code64Selector);
        a.lea(rax, __[reload]);
        a.push(rax);
        FarReturn64(a);
        a.Label(ref reload);
        a.mov(rax, __[rbx + HandOffLayout.PageTableRoot]);
        a.mov(cr3, rax);
        a.jmp(longMode);

        // 5-level: the far pointer back to 64-bit code, then into 32-bit code (root and page below 4 GiB).
        a.Label(ref fiveLevel);
        a.lea(rax, __[longMode]);
        a.mov(__dword_ptr[rbx + HandOffLayout.FarPointer], eax);
        a.mov(__word_ptr[rbx + HandOffLayout.FarPointer + 4], (int)HandOffLayout.Code64Selector);
        a.mov(esi, __dword_ptr[rbx + HandOffLayout.PageTableRoot]);
        a.push((int)HandOffLayout.Code32Selector);
        a.lea(rax, __[compatibility]);
        a.push(rax);
        FarReturn64(a);
        a.Label(ref compatibility);
        a.db(Compatibility32());

        // 64-bit again, on the kernel's tables: flat data segments, the kernel's stack, the entry.
        a.Label(ref longMode);
        a.mov(eax, (int)HandOffLayout.DataSelector);
        a.mov(ds, ax);
        a.mov(es, ax);
        a.mov(ss, ax);
        a.mov(fs, ax);
        a.mov(gs, ax);
        // Until the kernel loads its own, exceptions reach the early fault handler the loader put in this page.
        a.lidt(__[rbx + HandOffLayout.EarlyIdtLimit]);
        a.mov(rsp, __[rbx + HandOffLayout.StackTop]);
        a.and(rsp, -16);
        a.push(0);
        a.sub(rsp, 40);
        a.xor(ebp, ebp);
        a.mov(rcx, __[rbx + HandOffLayout.Argument]);
        a.mov(rax, __[rbx + HandOffLayout.Entry]);
        a.call(rax);
        a.Label(ref halt);
        a.cli();
        a.hlt();
        a.jmp(halt);
    }

    /// <summary>
    /// Returns the address of the trap entries (see TrapLayout), which follow this stub's return. Each entry:
    /// push 0 where the processor pushes no error code, push the vector, jmp rel32 to the common path, which
    /// saves rax..r15 below the error code (a TrapFrame), calls the dispatcher from gs:[DispatcherOffset]
    /// with rcx = the frame on a 16-byte aligned stack, and returns from the interrupt if it returns.
    /// Position-independent: every branch is relative.
    /// </summary>
    public static void TrapEntryTable(Assembler a, ArgumentLayout args)
    {
        Label entries = a.CreateLabel();
        a.lea(rax, __[entries]);
        args.EmitReturn(a);
        // Entries start on a 16-byte boundary of the stub: lea (7 bytes) + ret (1) + 8 bytes of int3.
        a.db(Padding(8));
        a.Label(ref entries);
        a.db(TrapEntries(commonOffset: TrapLayout.EntryCount * TrapLayout.EntryStride));
        SaveAndDispatch(a);
    }

    internal static byte[] Padding(int count)
    {
        var bytes = new byte[count];
        System.Array.Fill(bytes, (byte)0xCC);
        return bytes;
    }

    /// <summary>The fixed-stride entries (shared by both architectures: push imm8 and jmp rel32 encode alike).</summary>
    internal static byte[] TrapEntries(int commonOffset)
    {
        var bytes = new byte[TrapLayout.EntryCount * TrapLayout.EntryStride];
        System.Array.Fill(bytes, (byte)0xCC);
        for (int vector = 0; vector < TrapLayout.EntryCount; vector++)
        {
            int at = vector * TrapLayout.EntryStride;
            if (!TrapLayout.HasErrorCode(vector))
            {
                bytes[at++] = 0x6A; // push imm8 0
                bytes[at++] = 0x00;
            }
            if (vector < 0x80)
            {
                bytes[at++] = 0x6A; // push imm8 vector
                bytes[at++] = (byte)vector;
            }
            else
            {
                // push imm8 would sign-extend vectors from 0x80 up: push imm32 instead (5 bytes; 12 in all still fit the stride).
                bytes[at++] = 0x68;
                System.BitConverter.GetBytes(vector).CopyTo(bytes, at);
                at += 4;
            }
            bytes[at++] = 0xE9; // jmp rel32
            System.BitConverter.GetBytes(commonOffset - (at + 4)).CopyTo(bytes, at);
        }
        return bytes;
    }

    private static void SaveAndDispatch(Assembler a)
    {
        AssemblerRegister64[] saved = [rax, rcx, rdx, rbx, rbp, rsi, rdi, r8, r9, r10, r11, r12, r13, r14, r15];
        foreach (AssemblerRegister64 register in saved)
            a.push(register);
        a.cld();
        a.mov(rcx, rsp);
        a.mov(rbx, rsp);
        a.and(rsp, -16);
        a.sub(rsp, 32);
        // mov rax, gs:[DispatcherOffset] (absolute disp32 through GS: 65 48 8B 04 25 disp32).
        a.db(0x65, 0x48, 0x8B, 0x04, 0x25);
        a.db(System.BitConverter.GetBytes(TrapLayout.DispatcherOffset));
        a.call(rax);
        a.mov(rsp, rbx);
        for (int i = saved.Length - 1; i >= 0; i--)
            a.pop(saved[i]);
        a.add(rsp, 16);
        a.db(0x48, 0xCF); // iretq
    }

    /// <summary>Calls function(argument) on another stack (rcx = its top), then returns on the caller's.</summary>
    public static void CallOnStack(Assembler a, ArgumentLayout args)
    {
        a.push(rbx);
        a.push(rbp);
        a.mov(rbx, rsp);
        a.mov(rsp, rcx);
        a.and(rsp, -16);
        a.push(0);
        a.push(0);
        a.xor(ebp, ebp);
        a.sub(rsp, 32);
        a.mov(rcx, r8);
        a.call(rdx);
        a.mov(rsp, rbx);
        a.pop(rbp);
        a.pop(rbx);
        args.EmitReturn(a);
    }

    // rcx = location, rdx = value, r8 = comparand: the old value in rax (lock cmpxchg is a full barrier).
    public static void CompareExchange(Assembler a, ArgumentLayout args)
    {
        a.mov(rax, r8);
        a.@lock.cmpxchg(__qword_ptr[rcx], rdx);
        args.EmitReturn(a);
    }

    // xchg with memory is locked without the prefix.
    public static void Exchange(Assembler a, ArgumentLayout args)
    {
        a.mov(rax, rdx);
        a.xchg(__qword_ptr[rcx], rax);
        args.EmitReturn(a);
    }

    // mov rax, gs:[NumberOffset]: the processor block's number (absolute disp32 through GS: 65 48 8B 04 25 disp32).
    public static void ProcessorNumber(Assembler a, ArgumentLayout args)
    {
        a.db(0x65, 0x48, 0x8B, 0x04, 0x25);
        a.db(System.BitConverter.GetBytes(TrapLayout.NumberOffset64));
        args.EmitReturn(a);
    }

    public static void LoadTaskRegister(Assembler a, ArgumentLayout args)
    {
        a.ltr(cx);
        args.EmitReturn(a);
    }

    /// <summary>The 32-bit part of the 5-level switch: ebx = parameter block, esi = the new root.</summary>
    private static byte[] Compatibility32()
    {
        var c = new Assembler(32);
        c.mov(eax, cr0);
        c.and(eax, ~Cr0Paging);
        c.mov(cr0, eax);
        c.mov(eax, cr4);
        c.or(eax, Cr4La57);
        c.mov(cr4, eax);
        c.mov(cr3, esi);
        c.mov(eax, cr0);
        c.or(eax, Cr0Paging);
        c.mov(cr0, eax);
        c.jmp(__fword_ptr[ebx + HandOffLayout.FarPointer]);
        var writer = new BytesWriter();
        c.Assemble(writer, 0);
        return writer.Bytes.ToArray();
    }

    // retfq: pops a 64-bit offset and a selector (Iced's retf is the 32-bit form).
    private static void FarReturn64(Assembler a) => a.db(0x48, 0xCB);

    internal sealed class BytesWriter : CodeWriter
    {
        public System.Collections.Generic.List<byte> Bytes { get; } = [];

        public override void WriteByte(byte value) => Bytes.Add(value);
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
