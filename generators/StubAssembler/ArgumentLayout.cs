using System;
using System.Collections.Generic;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace ExectOS.StubAssembler;

/// <summary>Where a stub finds each argument at entry, and how it must return.</summary>
/// <remarks>
/// x64 is the Microsoft convention: up to four arguments in rcx, rdx, r8, r9, caller cleans up.
/// x86 is NativeAOT's managed convention, which RuntimeImport calls use (not cdecl): the first two
/// arguments of 32 bits or less go in ecx then edx, every other argument (and every 64-bit one,
/// even while a register is free) is pushed left to right, and the callee pops them. Checked
/// against the calls ilc 10.0.14 (`--targetarch:x86 --targetos:windows`) emits to RuntimeImport
/// externs, e.g. ArWriteMsr(uint, ulong): msr in ecx, value pushed high dword first, edx unused.
/// </remarks>
public sealed class ArgumentLayout
{
    private readonly StubArchitecture _arch;
    private readonly Register[] _registers;
    private readonly int[] _stackOffsets;

    private ArgumentLayout(StubArchitecture arch, Register[] registers, int[] stackOffsets, int stackBytes)
    {
        _arch = arch;
        _registers = registers;
        _stackOffsets = stackOffsets;
        StackBytes = stackBytes;
    }

    /// <summary>Bytes of arguments the caller left on the stack; an x86 stub pops them on return.</summary>
    public int StackBytes { get; }

    public static ArgumentLayout For(StubArchitecture arch, StubSignature? signature)
    {
        IReadOnlyList<StubParameter> parameters = signature?.Parameters ?? [];
        var registers = new Register[parameters.Count];
        var offsets = new int[parameters.Count];
        return arch == StubArchitecture.X64
            ? LayOutX64(parameters, registers, offsets)
            : LayOutX86(parameters, registers, offsets);
    }

    /// <summary>
    /// Parameter <paramref name="index"/>'s stack slot (its low dword for a 64-bit value), given the
    /// bytes the stub has pushed since entry.
    /// </summary>
    public AssemblerMemoryOperand Stack(int index, int pushedBytes = 0, int byteOffset = 0)
    {
        if (_registers[index] != Register.None)
        {
            throw new InvalidOperationException($"Parameter {index} is passed in {_registers[index]}.");
        }

        int displacement = _stackOffsets[index] + pushedBytes + byteOffset;
        return _arch == StubArchitecture.X64 ? __qword_ptr[rsp + displacement] : __dword_ptr[esp + displacement];
    }

    public void EmitReturn(Assembler asm)
    {
        if (StackBytes == 0)
        {
            asm.ret();
        }
        else
        {
            asm.ret((ushort)StackBytes);
        }
    }

    private static ArgumentLayout LayOutX64(IReadOnlyList<StubParameter> parameters, Register[] registers, int[] offsets)
    {
        Register[] order = [Register.RCX, Register.RDX, Register.R8, Register.R9];
        if (parameters.Count > order.Length)
        {
            throw new NotSupportedException("x64 stubs take at most four arguments (no stack arguments).");
        }

        for (int i = 0; i < parameters.Count; i++)
        {
            registers[i] = order[i];
        }

        return new ArgumentLayout(StubArchitecture.X64, registers, offsets, 0);
    }

    private static ArgumentLayout LayOutX86(IReadOnlyList<StubParameter> parameters, Register[] registers, int[] offsets)
    {
        Register[] order = [Register.ECX, Register.EDX];
        int used = 0;
        int stackBytes = 0;
        for (int i = 0; i < parameters.Count; i++)
        {
            int size = parameters[i].Type.SizeOn(StubArchitecture.X86);
            if (size <= 4 && used < order.Length)
            {
                registers[i] = order[used++];
            }
            else
            {
                stackBytes += size <= 4 ? 4 : 8;
            }
        }

        // Pushed left to right: the last stack argument sits just above the return address.
        int above = 4;
        for (int i = parameters.Count - 1; i >= 0; i--)
        {
            if (registers[i] == Register.None)
            {
                offsets[i] = above;
                above += parameters[i].Type.SizeOn(StubArchitecture.X86) <= 4 ? 4 : 8;
            }
        }

        return new ArgumentLayout(StubArchitecture.X86, registers, offsets, stackBytes);
    }
}
