using System.Collections.Generic;
using System.Linq;
using ExectOS.Boot;
using Iced.Intel;

namespace ExectOS.StubAssembler;

/// <summary>Emits one stub's instructions, reading its arguments where the layout says they are.</summary>
public delegate void StubBody(Assembler asm, ArgumentLayout args);

/// <summary>A stub ready to assemble for one architecture.</summary>
public sealed record StubDefinition(StubDeclaration Declaration, StubArchitecture Architecture, StubBody Body)
{
    public string Name => Declaration.Name;

    public ArgumentLayout Arguments => ArgumentLayout.For(Architecture, Declaration.Signature);
}

/// <summary>Every stub, its C# signature, and its body on each architecture, in symbol-table order.</summary>
public static class StubCatalog
{
    /// <summary>Every stub of every architecture.</summary>
    public static IReadOnlyList<StubDeclaration> Declarations { get; } = Entries().Select(e => e.Declaration).ToArray();

    /// <summary>The stubs an architecture's object holds, in symbol-table order (some exist on one architecture only).</summary>
    public static IReadOnlyList<StubDefinition> For(StubArchitecture arch) =>
        Entries().Where(e => (arch == StubArchitecture.X64 ? e.X64 : e.X86) is not null)
            .Select(e => new StubDefinition(e.Declaration, arch, (arch == StubArchitecture.X64 ? e.X64 : e.X86)!)).ToArray();

    /// <summary>A null body: the stub does not exist on that architecture (the 64-bit arithmetic helpers of 32-bit code).</summary>
    private sealed record Entry(StubDeclaration Declaration, StubBody? X64, StubBody? X86);

    private static IEnumerable<Entry> Entries()
    {
        StubType u8 = StubType.Byte, u16 = StubType.UInt16, u32 = StubType.UInt32, u64 = StubType.UInt64;
        StubType nuint = StubType.NUInt, ptr = StubType.VoidPointer, none = StubType.Void;

        yield return Stub("ArInByte", u8, [(u16, "port")], SharedStubs.InByte, SharedStubs.InByte);
        yield return Stub("ArInWord", u16, [(u16, "port")], SharedStubs.InWord, SharedStubs.InWord);
        yield return Stub("ArInDword", u32, [(u16, "port")], SharedStubs.InDword, SharedStubs.InDword);
        yield return Stub("ArOutByte", none, [(u16, "port"), (u8, "value")], SharedStubs.OutByte, SharedStubs.OutByte);
        yield return Stub("ArOutWord", none, [(u16, "port"), (u16, "value")], SharedStubs.OutWord, SharedStubs.OutWord);
        yield return Stub("ArOutDword", none, [(u16, "port"), (u32, "value")], SharedStubs.OutDword, SharedStubs.OutDword);

        yield return Stub("ArReadCr0", nuint, [], X64Stubs.ReadCr0, X86Stubs.ReadCr0);
        yield return Stub("ArReadCr2", nuint, [], X64Stubs.ReadCr2, X86Stubs.ReadCr2);
        yield return Stub("ArReadCr3", nuint, [], X64Stubs.ReadCr3, X86Stubs.ReadCr3);
        yield return Stub("ArReadCr4", nuint, [], X64Stubs.ReadCr4, X86Stubs.ReadCr4);
        yield return Stub("ArWriteCr0", none, [(nuint, "value")], X64Stubs.WriteCr0, X86Stubs.WriteCr0);
        yield return Stub("ArWriteCr3", none, [(nuint, "value")], X64Stubs.WriteCr3, X86Stubs.WriteCr3);
        yield return Stub("ArWriteCr4", none, [(nuint, "value")], X64Stubs.WriteCr4, X86Stubs.WriteCr4);
        yield return Stub("ArInvalidatePage", none, [(ptr, "address")], X64Stubs.InvalidatePage, X86Stubs.InvalidatePage);

        yield return Stub("ArCpuId", none, [(u32, "leaf"), (u32, "subleaf"), (StubType.UInt32Pointer, "result")],
            X64Stubs.CpuId, X86Stubs.CpuId);
        yield return Stub("ArReadMsr", u64, [(u32, "msr")], X64Stubs.ReadMsr, X86Stubs.ReadMsr);
        yield return Stub("ArWriteMsr", none, [(u32, "msr"), (u64, "value")], X64Stubs.WriteMsr, X86Stubs.WriteMsr);
        yield return Stub("ArReadTimeStampCounter", u64, [], X64Stubs.ReadTimeStampCounter, X86Stubs.ReadTimeStampCounter);
        yield return Stub("ArReadRandom", u64, [], X64Stubs.ReadRandom, X86Stubs.ReadRandom);

        yield return Stub("ArHalt", none, [], SharedStubs.Halt, SharedStubs.Halt);
        yield return Stub("ArPause", none, [], SharedStubs.Pause, SharedStubs.Pause);
        yield return Stub("ArDisableInterrupts", none, [], SharedStubs.DisableInterrupts, SharedStubs.DisableInterrupts);
        yield return Stub("ArEnableInterrupts", none, [], SharedStubs.EnableInterrupts, SharedStubs.EnableInterrupts);
        yield return Stub("ArWaitForInterrupt", none, [], SharedStubs.WaitForInterrupt, SharedStubs.WaitForInterrupt);
        yield return Stub("ArLoadGdt", none, [(ptr, "pseudoDescriptor")], X64Stubs.LoadGdt, X86Stubs.LoadGdt);
        yield return Stub("ArLoadIdt", none, [(ptr, "pseudoDescriptor")], X64Stubs.LoadIdt, X86Stubs.LoadIdt);

        yield return Stub("ArLoadTaskRegister", none, [(u16, "selector")], X64Stubs.LoadTaskRegister, X86Stubs.LoadTaskRegister);
        yield return Stub("ArLoadFs", none, [(u16, "selector")], SharedStubs.LoadFs, SharedStubs.LoadFs);
        yield return new Entry(
            new StubDeclaration("ArTrapEntryTable", Signature(nuint, []), HelperContract: null, TrapEntries: true),
            X64Stubs.TrapEntryTable,
            X86Stubs.TrapEntryTable);
        yield return Stub("ArCompareExchange", nuint, [(StubType.NUIntPointer, "location"), (nuint, "value"), (nuint, "comparand")], X64Stubs.CompareExchange, X86Stubs.CompareExchange);
        yield return Stub("ArExchange", nuint, [(StubType.NUIntPointer, "location"), (nuint, "value")], X64Stubs.Exchange, X86Stubs.Exchange);
        yield return Stub("ArProcessorNumber", nuint, [], X64Stubs.ProcessorNumber, X86Stubs.ProcessorNumber);
        yield return Stub("ArCallOnStack", none, [(ptr, "stackTop"), (ptr, "function"), (nuint, "argument")], X64Stubs.CallOnStack, X86Stubs.CallOnStack);

        yield return new Entry(
            new StubDeclaration(
                "ArHandOff",
                Signature(none, [(ptr, "parameters")]),
                HelperContract: null,
                NoReturn: true),
            X64Stubs.HandOff,
            X86Stubs.HandOff);

        yield return new Entry(
            new StubDeclaration("ArEarlyFault", Signature(none, []), HelperContract: null, NoReturn: true),
            EarlyFaultStub.X64,
            EarlyFaultStub.X86);

        // Copied by the kernel into the start-up page, never called (i686's has no 64-bit part: padding there).
        yield return new Entry(
            new StubDeclaration("ArProcessorStart", Signature(none, []), HelperContract: null, NoReturn: true,
                Parts: [new StubPart(0, 16), new StubPart(ProcessorStartLayout.Code32, 32), new StubPart(ProcessorStartLayout.Code64, 64)]),
            ProcessorStartStub.X64,
            ProcessorStartStub.X86);

        yield return new Entry(
            new StubDeclaration(
                "RhpStackProbe",
                Signature: null,
                HelperContract: "touches each page from below the stack pointer down to the lowest frame address "
                    + "(r11 on x64, eax on x86); keeps every register but rax (x64) and the flags"),
            X64Stubs.StackProbe,
            X86Stubs.StackProbe);

        foreach (Entry entry in X86Arithmetic())
            yield return entry;
    }

    /// <summary>What 32-bit x86 code needs for 64-bit arithmetic: ilc's helper calls, and division the core library wraps.</summary>
    private static IEnumerable<Entry> X86Arithmetic()
    {
        StubType u64 = StubType.UInt64;
        const string shift = "64-bit shift of edx:eax by cl (masked to 0-63), result in edx:eax; keeps every other register";
        string[] result = ["EAX", "EDX"];
        // ilc calls RhpLMul with the managed convention, so it has a signature like the stubs C# imports.
        yield return new Entry(new StubDeclaration("RhpLMul", Signature(u64, [(u64, "left"), (u64, "right")]), HelperContract: null), null, X86Arithmetic64.Multiply);
        yield return new Entry(new StubDeclaration("RhpLLsh", Signature: null, HelperContract: "left " + shift, Results: result), null, X86Arithmetic64.ShiftLeft);
        yield return new Entry(new StubDeclaration("RhpLRsh", Signature: null, HelperContract: "arithmetic right " + shift, Results: result), null, X86Arithmetic64.ShiftRightArithmetic);
        yield return new Entry(new StubDeclaration("RhpLRsz", Signature: null, HelperContract: "logical right " + shift, Results: result), null, X86Arithmetic64.ShiftRightLogical);
        // Reference stores: ilc's x86 code calls a write barrier per source register (destination in edx). Without a
        // garbage collector there is no card table to mark, so each is the store alone.
        foreach (string kind in new[] { "RhpAssignRef", "RhpCheckedAssignRef" })
        {
            foreach ((string name, AssemblerRegister32 source) in X86Arithmetic64.BarrierSources)
            {
                yield return new Entry(new StubDeclaration(kind + name, Signature: null,
                    HelperContract: $"reference store: [edx] = {name.ToLowerInvariant()}; no garbage collector, so no card marking; keeps every register"),
                    null, (a, _) => X86Arithmetic64.Store(a, source));
            }
        }
        yield return new Entry(new StubDeclaration("ArDivideUInt64", Signature(u64, [(u64, "dividend"), (u64, "divisor")]), HelperContract: null), null, X86Arithmetic64.DivideUnsigned);
    }

    private static Entry Stub(string name, StubType result, (StubType Type, string Name)[] parameters, StubBody x64, StubBody x86) =>
        new(new StubDeclaration(name, Signature(result, parameters), HelperContract: null), x64, x86);

    private static StubSignature Signature(StubType result, (StubType Type, string Name)[] parameters) =>
        new(result, parameters.Select(p => new StubParameter(p.Type, p.Name)).ToArray());
}
