using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace ExectOS.StubAssembler;

/// <summary>
/// 64-bit arithmetic for 32-bit x86 code. ilc's x86 code calls RhpLMul and the shift helpers where the
/// JIT does not expand the operation inline (the NativeAOT runtime that normally supplies them is not
/// there); the core library's System.Math builds 64-bit division on ArDivideUInt64.
/// </summary>
internal static class X86Arithmetic64
{
    /// <summary>The source registers ilc's x86 write barriers are named after.</summary>
    public static readonly (string Name, AssemblerRegister32 Register)[] BarrierSources =
        [("EAX", eax), ("EBX", ebx), ("ECX", ecx), ("ESI", esi), ("EDI", edi), ("EBP", ebp)];

    public static void Store(Assembler a, AssemblerRegister32 source)
    {
        a.mov(__dword_ptr[edx], source);
        a.ret();
    }

    /// <summary>left * right, the low 64 bits: (lh * rl + ll * rh) &lt;&lt; 32 + ll * rl.</summary>
    public static void Multiply(Assembler a, ArgumentLayout args)
    {
        const int Saved = 4; // ebx
        a.push(ebx);
        AssemblerMemoryOperand leftLow = args.Stack(0, Saved), leftHigh = args.Stack(0, Saved, 4);
        AssemblerMemoryOperand rightLow = args.Stack(1, Saved), rightHigh = args.Stack(1, Saved, 4);
        a.mov(eax, leftHigh);
        a.mul(rightLow);
        a.mov(ebx, eax);
        a.mov(eax, leftLow);
        a.mul(rightHigh);
        a.add(ebx, eax);
        a.mov(eax, leftLow);
        a.mul(rightLow);
        a.add(edx, ebx);
        a.pop(ebx);
        args.EmitReturn(a);
    }

    public static void ShiftLeft(Assembler a, ArgumentLayout args)
        => Shift(a, narrow: () => { a.shld(edx, eax, cl); a.shl(eax, cl); }, wide: () => { a.mov(edx, eax); a.xor(eax, eax); a.shl(edx, cl); });

    public static void ShiftRightArithmetic(Assembler a, ArgumentLayout args)
        => Shift(a, narrow: () => { a.shrd(eax, edx, cl); a.sar(edx, cl); }, wide: () => { a.mov(eax, edx); a.sar(edx, 31); a.sar(eax, cl); });

    public static void ShiftRightLogical(Assembler a, ArgumentLayout args)
        => Shift(a, narrow: () => { a.shrd(eax, edx, cl); a.shr(edx, cl); }, wide: () => { a.mov(eax, edx); a.xor(edx, edx); a.shr(eax, cl); });

    /// <summary>
    /// The shift helpers' shape: the count masked to 0-63 in a saved ecx, then a double-word shift for counts below
    /// 32, or a move between halves and a single shift for 32-63 (the processor masks cl to 0-31 there).
    /// </summary>
    private static void Shift(Assembler a, System.Action narrow, System.Action wide)
    {
        Label large = a.CreateLabel();
        a.push(ecx);
        a.and(ecx, 63);
        a.cmp(cl, 32);
        a.jae(large);
        narrow();
        a.pop(ecx);
        a.ret();
        a.Label(ref large);
        wide();
        a.pop(ecx);
        a.ret();
    }

    /// <summary>
    /// dividend / divisor, both unsigned 64-bit, divisor not zero (the caller checks). A 32-bit divisor takes
    /// two divides; a wider one is shifted down with the dividend until it fits, which gives the quotient or
    /// one more, corrected by multiplying back (the classic long-division helper).
    /// </summary>
    public static void DivideUnsigned(Assembler a, ArgumentLayout args)
    {
        Label wide = a.CreateLabel(), shift = a.CreateLabel(), tooBig = a.CreateLabel(), done = a.CreateLabel(), exit = a.CreateLabel();
        const int Saved = 8; // ebx, esi
        a.push(ebx);
        a.push(esi);
        AssemblerMemoryOperand dividendLow = args.Stack(0, Saved), dividendHigh = args.Stack(0, Saved, 4);
        AssemblerMemoryOperand divisorLow = args.Stack(1, Saved), divisorHigh = args.Stack(1, Saved, 4);
        a.mov(ecx, divisorHigh);
        a.test(ecx, ecx);
        a.jnz(wide);
        a.mov(ecx, divisorLow);
        a.mov(eax, dividendHigh);
        a.xor(edx, edx);
        a.div(ecx);
        a.mov(ebx, eax);
        a.mov(eax, dividendLow);
        a.div(ecx);
        a.mov(edx, ebx);
        a.jmp(exit);

        a.Label(ref wide);
        a.mov(ebx, divisorLow);
        a.mov(edx, dividendHigh);
        a.mov(eax, dividendLow);
        a.Label(ref shift);
        a.shr(ecx, 1);
        a.rcr(ebx, 1);
        a.shr(edx, 1);
        a.rcr(eax, 1);
        a.test(ecx, ecx);
        a.jnz(shift);
        a.div(ebx);
        a.mov(esi, eax);
        // Multiply the estimate back: a carry or a product above the dividend means it was one too many.
        a.mul(divisorHigh);
        a.mov(ecx, eax);
        a.mov(eax, divisorLow);
        a.mul(esi);
        a.add(edx, ecx);
        a.jc(tooBig);
        a.cmp(edx, dividendHigh);
        a.ja(tooBig);
        a.jb(done);
        a.cmp(eax, dividendLow);
        a.jbe(done);
        a.Label(ref tooBig);
        a.dec(esi);
        a.Label(ref done);
        a.xor(edx, edx);
        a.mov(eax, esi);
        a.Label(ref exit);
        a.pop(esi);
        a.pop(ebx);
        args.EmitReturn(a);
    }
}
