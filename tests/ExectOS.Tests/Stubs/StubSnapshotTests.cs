using ExectOS.Hardware;
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using ExectOS.StubAssembler;
using ExectOS.Tests.Snapshots;
using Iced.Intel;
using Xunit;

namespace ExectOS.Tests.Stubs;

/// <summary>The stub object: its reviewed listing, its COFF structure, and calling-convention checks.</summary>
public sealed class StubSnapshotTests
{
    private const ushort ClassExternal = 2;
    private const ushort FunctionType = 0x20;
    private const byte Int3 = 0xCC;

    public static TheoryData<StubArchitecture> Architectures => new(StubArchitectures.All);

    [Theory]
    [MemberData(nameof(Architectures))]
    public void Listing_matches_the_approved_snapshot(StubArchitecture arch) =>
        Snapshot.Match($"stubs/{arch.Name()}", Listing.Format(StubImage.Build(arch)));

    [Theory]
    [MemberData(nameof(Architectures))]
    public void Object_has_one_text_section_and_one_aligned_external_symbol_per_stub(StubArchitecture arch)
    {
        CoffObject obj = CoffObject.Parse(CoffWriter.Write(StubImage.Build(arch)));

        Assert.Equal(arch == StubArchitecture.X64 ? 0x8664 : 0x14C, obj.Machine);
        Assert.Equal(0u, obj.TimeDateStamp);
        CoffSection text = Assert.Single(obj.Sections);
        Assert.Equal(".text", text.Name);
        Assert.Equal(0x60500020u, text.Characteristics); // code | execute | read | align 16
        Assert.Equal(0, text.RelocationCount);

        List<CoffSymbol> externals = obj.Symbols.Where(s => s.StorageClass == ClassExternal).ToList();
        Assert.Equal(StubCatalog.For(arch).Select(d => d.Name), externals.Select(s => s.Name));
        foreach (CoffSymbol symbol in externals)
        {
            Assert.Equal(1, symbol.SectionNumber);
            Assert.Equal(FunctionType, symbol.Type);
            Assert.True(symbol.Value % 16 == 0, $"{symbol.Name} starts at {symbol.Value:x}, not 16-byte aligned");
            Assert.True(symbol.Value < text.Data.Length, $"{symbol.Name} starts outside .text");
        }

        Assert.Equal(externals.Count, externals.Select(s => s.Value).Distinct().Count());
    }

    [Theory]
    [MemberData(nameof(Architectures))]
    public void Output_is_byte_for_byte_deterministic(StubArchitecture arch)
    {
        Assert.Equal(CoffWriter.Write(StubImage.Build(arch)), CoffWriter.Write(StubImage.Build(arch)));
        Assert.Equal(Listing.Format(StubImage.Build(arch)), Listing.Format(StubImage.Build(arch)));
    }

    [Theory]
    [MemberData(nameof(Architectures))]
    public void Every_stub_ends_in_a_return_a_jump_back_or_a_halt_loop(StubArchitecture arch)
    {
        foreach (DecodedStub stub in DecodedStub.All(arch))
        {
            Assert.DoesNotContain(stub.Code, i => i.Code == Code.INVALID || i.Code == Code.Int3);
            Instruction last = stub.Code[^1];
            Assert.True(
                last.FlowControl is FlowControl.Return or FlowControl.UnconditionalBranch,
                $"{stub.Name} ends with '{last}', which falls through into the padding");

            foreach (Instruction branch in stub.Code.Where(i => i.IsJmpShortOrNear || i.IsJccShortOrNear))
            {
                Assert.InRange(branch.NearBranchTarget, stub.Start, stub.CodeEnd - 1);
            }

            // A far return that reloads CS (the hand-off's mode switches) is a jump, not a return to the caller.
            bool returns = stub.Code.Any(i => i.FlowControl == FlowControl.Return && i.Code is not (Code.Retfq or Code.Retfd or Code.Retfw));
            Assert.Equal(!stub.Declaration.NoReturn, returns);
            if (stub.Declaration.NoReturn)
            {
                // cli; hlt; jmp back to the cli.
                Assert.Equal([Code.Cli, Code.Hlt], stub.Code.Skip(stub.Code.Count - 3).Take(2).Select(i => i.Code));
                Assert.Equal(stub.Code[^3].IP, last.NearBranchTarget);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Architectures))]
    public void TheTrapEntriesAreFixedStrideAndJoinOneCommonPath(StubArchitecture arch)
    {
        StubImage image = StubImage.Build(arch);
        PlacedStub stub = image.Stubs.Single(s => s.Name == "ArTrapEntryTable");
        int entries = stub.Offset + 16;
        int common = entries + TrapLayout.EntryCount * TrapLayout.EntryStride;
        Instruction Decode(int at)
        {
            var decoder = Decoder.Create(arch.Bitness(), new ByteArrayCodeReader(image.Text, at, image.Text.Length - at), (ulong)at);
            return decoder.Decode();
        }
        for (int vector = 0; vector < TrapLayout.EntryCount; vector++)
        {
            int at = entries + vector * TrapLayout.EntryStride;
            Instruction first = Decode(at);
            if (!TrapLayout.HasErrorCode(vector))
            {
                Assert.True(first.Mnemonic == Mnemonic.Push && first.Immediate32 == 0, $"vector {vector}: '{first}' where a zero error code is pushed");
                at = (int)first.NextIP;
                first = Decode(at);
            }
            Assert.True(first.Mnemonic == Mnemonic.Push && first.GetImmediate(0) == (ulong)vector, $"vector {vector}: '{first}'");
            Instruction jump = Decode((int)first.NextIP);
            Assert.True(jump.IsJmpNear && jump.NearBranchTarget == (ulong)common, $"vector {vector}: '{jump}' does not join the common path at {common:X}");
            Assert.True((int)jump.NextIP <= entries + (vector + 1) * TrapLayout.EntryStride);
        }
        // The common path restores every register it saved, drops the vector and error code, and returns from the interrupt.
        var path = new List<Instruction>();
        for (int at = common; ;)
        {
            Instruction i = Decode(at);
            path.Add(i);
            at = (int)i.NextIP;
            if (i.Mnemonic == Mnemonic.Iret || i.Mnemonic == Mnemonic.Iretd || i.Mnemonic == Mnemonic.Iretq)
                break;
            Assert.True(path.Count < 80, "no interrupt return on the common path");
        }
        List<Register> pushed = path.TakeWhile(i => i.Mnemonic is Mnemonic.Push or Mnemonic.Pushad).Select(i => i.Op0Register).ToList();
        List<Register> popped = path.AsEnumerable().Reverse().Skip(2).TakeWhile(i => i.Mnemonic is Mnemonic.Pop or Mnemonic.Popad).Select(i => i.Op0Register).Reverse().ToList();
        Assert.Equal(pushed.AsEnumerable().Reverse(), popped);
        Assert.Equal(arch == StubArchitecture.X64 ? 15 : 1, pushed.Count);
        Instruction drop = path[^2];
        Assert.True(drop.Mnemonic == Mnemonic.Add && drop.GetImmediate(1) == (ulong)(2 * (arch == StubArchitecture.X64 ? 8 : 4)), $"'{drop}' before the interrupt return");
        Assert.Contains(path, i => i.Mnemonic == Mnemonic.Call && i.Op0Kind == OpKind.Register);
    }

    [Theory]
    [MemberData(nameof(Architectures))]
    public void ArCpuId_saves_and_restores_rbx(StubArchitecture arch)
    {
        DecodedStub cpuid = DecodedStub.All(arch).Single(s => s.Name == "ArCpuId");
        Register bx = arch == StubArchitecture.X64 ? Register.RBX : Register.EBX;

        Assert.Contains(cpuid.Code, i => i.Code == Code.Cpuid);
        Assert.True(IsPush(cpuid.Code[0], bx), $"ArCpuId starts with '{cpuid.Code[0]}', not push {bx}");
        Assert.True(IsPop(cpuid.Code[^2], bx), $"ArCpuId returns after '{cpuid.Code[^2]}', not pop {bx}");
    }

    [Theory]
    [MemberData(nameof(Architectures))]
    public void Returning_stubs_change_only_the_registers_their_contract_allows(StubArchitecture arch)
    {
        var infoFactory = new InstructionInfoFactory();
        foreach (DecodedStub stub in DecodedStub.All(arch).Where(s => !s.Declaration.NoReturn))
        {
            List<Register> saved = stub.Code.TakeWhile(i => i.Mnemonic == Mnemonic.Push && i.Op0Kind == OpKind.Register)
                .Select(i => i.Op0Register.GetFullRegister()).ToList();
            for (int r = 0; r < stub.Code.Count; r++)
            {
                if (stub.Code[r].FlowControl != FlowControl.Return)
                {
                    continue;
                }

                List<Register> restored = stub.Code.Take(r).Reverse().TakeWhile(i => i.Mnemonic == Mnemonic.Pop)
                    .Select(i => i.Op0Register.GetFullRegister()).ToList();
                Assert.True(saved.SequenceEqual(restored), $"{stub.Name}: pushes {string.Join(",", saved)} but pops {string.Join(",", restored)} before a return");
            }

            IEnumerable<Register> written = stub.Code.SelectMany(i => infoFactory.GetInfo(i).GetUsedRegisters())
                .Where(u => u.Access is OpAccess.Write or OpAccess.CondWrite or OpAccess.ReadWrite or OpAccess.ReadCondWrite)
                .Select(u => u.Register.GetFullRegister())
                .Where(r => r.IsGPR() && r != Register.RSP);
            Register[] clobbered = written.Except(Volatile(arch, stub.Declaration)).Except(saved).Distinct().ToArray();
            Assert.True(clobbered.Length == 0, $"{stub.Name} changes {string.Join(", ", clobbered)} without saving it");
        }
    }

    [Theory]
    [MemberData(nameof(Architectures))]
    public void Returns_pop_exactly_the_stack_arguments_the_signature_implies(StubArchitecture arch)
    {
        foreach (DecodedStub stub in DecodedStub.All(arch))
        {
            int expected = arch == StubArchitecture.X86 ? X86StackArgumentBytes(stub.Declaration.Signature) : 0;
            foreach (Instruction ret in stub.Code.Where(i => i.FlowControl == FlowControl.Return))
            {
                int popped = ret.OpCount == 1 ? ret.Immediate16 : 0;
                Assert.True(expected == popped, $"{stub.Name}: '{ret}' pops {popped} bytes, the signature passes {expected} on the stack");
            }
        }
    }

    [Fact]
    public void X86_stack_bytes_cover_the_multi_argument_stubs()
    {
        // Guards the rule below against reading every signature as register-only.
        Dictionary<string, int> bytes = StubCatalog.Declarations.ToDictionary(d => d.Name, d => X86StackArgumentBytes(d.Signature));
        Assert.Equal(0, bytes["ArOutByte"]);
        Assert.Equal(4, bytes["ArCpuId"]);
        Assert.Equal(8, bytes["ArWriteMsr"]);
        Assert.Equal(0, bytes["ArHandOff"]);
    }

    [Theory]
    [MemberData(nameof(Architectures))]
    public void The_hand_off_stub_fits_its_page_and_only_refers_to_itself(StubArchitecture arch)
    {
        // The loader copies the stub into the hand-off page: it must fit below the parameter block and
        // reach nothing outside itself except through that block.
        DecodedStub handOff = DecodedStub.All(arch).Single(s => s.Name == "ArHandOff");
        Assert.InRange(handOff.CodeEnd - handOff.Start, 1UL, (ulong)ExectOS.Boot.HandOffLayout.CodeBytes);
        Assert.True(ExectOS.Boot.HandOffLayout.CodeBytes <= ExectOS.Boot.HandOffLayout.Parameters);
        foreach (Instruction i in handOff.Code.Where(i => i.IsIPRelativeMemoryOperand))
            Assert.InRange(i.IPRelativeMemoryAddress, handOff.Start, handOff.CodeEnd - 1);
        // A near call may only find the stub's own address (call/pop): anything else would not be in the copy.
        Assert.DoesNotContain(handOff.Code, i => i.FlowControl is FlowControl.Call && i.Op0Kind is OpKind.NearBranch16 or OpKind.NearBranch32 or OpKind.NearBranch64
            && (i.NearBranchTarget < handOff.Start || i.NearBranchTarget >= handOff.CodeEnd));
    }

    [Theory]
    [MemberData(nameof(Architectures))]
    public void The_early_fault_handler_fits_its_room_and_has_one_entry_per_vector_at_the_layouts_stride(StubArchitecture arch)
    {
        // The loader copies ArEarlyFault into the hand-off page and points gate v at entry v: each entry pushes its
        // vector and jumps to the one common path, and nothing leaves the copy.
        DecodedStub early = DecodedStub.All(arch).Single(s => s.Name == "ArEarlyFault");
        Assert.InRange(early.CodeEnd - early.Start, 1UL, (ulong)ExectOS.Boot.HandOffLayout.EarlyCodeBytes);
        Assert.True(ExectOS.Boot.HandOffLayout.EarlyCode + ExectOS.Boot.HandOffLayout.EarlyCodeBytes <= ExectOS.Boot.HandOffLayout.Parameters);
        ulong common = 0;
        for (int vector = 0; vector < ExectOS.Boot.HandOffLayout.EarlyVectors; vector++)
        {
            ulong at = early.Start + (ulong)(vector * ExectOS.Boot.HandOffLayout.EarlyEntryStride);
            Assert.True(early.Code.Any(i => i.IP == at), $"entry {vector} is not at 0x{at:X}");
            Instruction push = early.Code.Single(i => i.IP == at);
            Assert.Equal(Mnemonic.Push, push.Mnemonic);
            Assert.Equal(vector, (int)push.GetImmediate(0));
            Instruction jump = early.Code.Single(i => i.IP == push.NextIP);
            Assert.Equal(Mnemonic.Jmp, jump.Mnemonic);
            common = vector == 0 ? jump.NearBranchTarget : common;
            Assert.Equal(common, jump.NearBranchTarget);
        }
        Assert.Equal(early.Start + (ulong)(ExectOS.Boot.HandOffLayout.EarlyVectors * ExectOS.Boot.HandOffLayout.EarlyEntryStride), common);
        Assert.DoesNotContain(early.Code, i => i.IsIPRelativeMemoryOperand);
        Assert.DoesNotContain(early.Code, i => i.FlowControl is FlowControl.Call or FlowControl.UnconditionalBranch or FlowControl.ConditionalBranch
            && (i.NearBranchTarget < early.Start || i.NearBranchTarget >= early.CodeEnd));
    }

    [Theory]
    [MemberData(nameof(Architectures))]
    public void The_processor_start_up_code_runs_each_part_in_its_mode_and_reads_only_its_parameter_block(StubArchitecture arch)
    {
        // The kernel copies ArProcessorStart into the start-up page; a start-up IPI enters it in real mode at its
        // first byte. Each part decodes in its own mode, ends before the next, and reaches nothing but its page.
        // amd64's 32-bit part jumps to its 64-bit part, which calls the kernel; i686's 32-bit part calls it itself.
        StubImage image = StubImage.Build(arch);
        PlacedStub stub = image.Stubs.Single(s => s.Definition.Name == "ArProcessorStart");
        Assert.Equal(ExectOS.Boot.ProcessorStartLayout.CodeBytes, stub.Length);
        Assert.True(ExectOS.Boot.ProcessorStartLayout.CodeBytes <= ExectOS.Boot.ProcessorStartLayout.Parameters);
        const int p = ExectOS.Boot.ProcessorStartLayout.Parameters;
        bool x64 = arch == StubArchitecture.X64;
        (int Offset, int End, int Bitness)[] parts = x64
            ?
            [
                (0, ExectOS.Boot.ProcessorStartLayout.Code32, 16),
                (ExectOS.Boot.ProcessorStartLayout.Code32, ExectOS.Boot.ProcessorStartLayout.Code64, 32),
                (ExectOS.Boot.ProcessorStartLayout.Code64, ExectOS.Boot.ProcessorStartLayout.CodeBytes, 64),
            ]
            :
            [
                (0, ExectOS.Boot.ProcessorStartLayout.Code32, 16),
                (ExectOS.Boot.ProcessorStartLayout.Code32, ExectOS.Boot.ProcessorStartLayout.CodeBytes, 32),
            ];
        var displacements = new List<HashSet<long>>();
        foreach ((int offset, int end, int bitness) in parts)
        {
            int length = end - offset;
            while (length > 0 && image.Text[stub.Offset + offset + length - 1] == Int3)
                length--;
            var decoder = Decoder.Create(bitness, new ByteArrayCodeReader(image.Text, stub.Offset + offset, length), (ulong)offset);
            var code = new List<Instruction>();
            while (code.Count == 0 || code[^1].NextIP < (ulong)(offset + length))
                code.Add(decoder.Decode());
            Assert.DoesNotContain(code, i => i.Code is Code.INVALID or Code.Int3);
            Assert.DoesNotContain(code, i => i.IsIPRelativeMemoryOperand);
            // Near branches stay in the part; the mode changes are far jumps through the parameter block.
            Assert.All(code.Where(i => i.IsJmpShortOrNear || i.IsJccShortOrNear || i.IsCallNear), i => Assert.InRange(i.NearBranchTarget, (ulong)offset, (ulong)(offset + length)));
            Assert.True(code[^1].FlowControl is FlowControl.UnconditionalBranch or FlowControl.IndirectBranch, $"the {bitness}-bit part falls through into padding");
            displacements.Add(code.Where(i => Enumerable.Range(0, i.OpCount).Any(k => i.GetOpKind(k) == OpKind.Memory)).Select(i => (long)i.MemoryDisplacement64).ToHashSet());
        }
        var control = new HashSet<long> { p + ExectOS.Boot.ProcessorStartLayout.Cr4, p + ExectOS.Boot.ProcessorStartLayout.PageTableRoot, p + ExectOS.Boot.ProcessorStartLayout.Efer, p + ExectOS.Boot.ProcessorStartLayout.Cr0 };
        var call = new HashSet<long> { p + ExectOS.Boot.ProcessorStartLayout.StackTop, p + ExectOS.Boot.ProcessorStartLayout.Argument, p + ExectOS.Boot.ProcessorStartLayout.Entry };
        Assert.Equal(new HashSet<long> { p + ExectOS.Boot.ProcessorStartLayout.GdtLimit, p + ExectOS.Boot.ProcessorStartLayout.Jump32 }, displacements[0]);
        if (x64)
        {
            Assert.Equal([.. control, p + ExectOS.Boot.ProcessorStartLayout.Jump64], displacements[1]);
            Assert.Equal(call, displacements[2]);
        }
        else
        {
            Assert.Equal([.. control, .. call], displacements[1]);
        }
    }

    [Theory]
    [InlineData]
    [InlineData("--arch", "x64")]
    [InlineData("--out", "stubs.obj")]
    [InlineData("--arch", "riscv64", "--out", "stubs.obj")]
    [InlineData("--arch", "x64", "--out")]
    [InlineData("--arch", "x64", "--arch", "x86", "--out", "stubs.obj")]
    [InlineData("--arch", "x64", "--out", "stubs.obj", "--verbose")]
    public void Cli_rejects_bad_arguments_with_exit_code_2(params string[] args) =>
        Assert.Equal(2, Program.Main(args));

    [Theory]
    [MemberData(nameof(Architectures))]
    public void Cli_writes_the_object_and_the_listing(StubArchitecture arch)
    {
        string directory = Directory.CreateTempSubdirectory("exectos-stubs-").FullName;
        try
        {
            string obj = Path.Combine(directory, "out", "stubs.obj");
            string listing = Path.Combine(directory, "stubs.txt");

            Assert.Equal(0, Program.Main(["--arch", arch.Name(), "--out", obj, "--listing", listing]));

            StubImage image = StubImage.Build(arch);
            Assert.Equal(CoffWriter.Write(image), File.ReadAllBytes(obj));
            Assert.Equal(Listing.Format(image), File.ReadAllText(listing));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    // The managed x86 convention, restated from its description rather than taken from the
    // generator: the first two arguments of 32 bits or less travel in ecx and edx; every other
    // argument, and every 64-bit one, takes 4 or 8 bytes of stack that the callee pops.
    private static int X86StackArgumentBytes(StubSignature? signature)
    {
        int registers = 0, bytes = 0;
        foreach (StubParameter parameter in signature?.Parameters ?? [])
        {
            int size = parameter.Type.SizeOn(StubArchitecture.X86);
            if (size <= 4 && registers < 2)
            {
                registers++;
            }
            else
            {
                bytes += size <= 4 ? 4 : 8;
            }
        }

        return bytes;
    }

    // JIT helpers keep more than ordinary calls: x64 RhpStackProbe may change only rax, the x86
    // one nothing (both may change the flags).
    private static Register[] Volatile(StubArchitecture arch, StubDeclaration declaration) => (arch, declaration.Signature) switch
    {
        (StubArchitecture.X64, null) => [Register.RAX],
        (StubArchitecture.X86, null) => declaration.Results?.Select(r => Enum.Parse<Register>(r).GetFullRegister()).ToArray() ?? [],
        (StubArchitecture.X64, _) => [Register.RAX, Register.RCX, Register.RDX, Register.R8, Register.R9, Register.R10, Register.R11],
        _ => [Register.RAX, Register.RCX, Register.RDX],
    };

    private static bool IsPush(Instruction i, Register register) =>
        i.Mnemonic == Mnemonic.Push && i.Op0Kind == OpKind.Register && i.Op0Register == register;

    private static bool IsPop(Instruction i, Register register) =>
        i.Mnemonic == Mnemonic.Pop && i.Op0Kind == OpKind.Register && i.Op0Register == register;

    /// <summary>A stub decoded from the written object: found through its symbol, padding removed.</summary>
    private sealed record DecodedStub(StubDeclaration Declaration, ulong Start, ulong CodeEnd, IReadOnlyList<Instruction> Code)
    {
        public string Name => Declaration.Name;

        public static IEnumerable<DecodedStub> All(StubArchitecture arch)
        {
            CoffObject obj = CoffObject.Parse(CoffWriter.Write(StubImage.Build(arch)));
            byte[] text = obj.Sections[0].Data;
            List<CoffSymbol> symbols = obj.Symbols.Where(s => s.StorageClass == ClassExternal).OrderBy(s => s.Value).ToList();
            for (int n = 0; n < symbols.Count; n++)
            {
                int start = (int)symbols[n].Value;
                int end = n + 1 < symbols.Count ? (int)symbols[n + 1].Value : text.Length;
                // Trailing 0xCC is taken as padding; a stub whose last code byte were 0xCC would then
                // decode as truncated and fail, which is the safe direction.
                while (end > start && text[end - 1] == Int3)
                {
                    end--;
                }

                var reader = new ByteArrayCodeReader(text, start, end - start);
                var decoder = Decoder.Create(arch.Bitness(), reader, (ulong)start);
                var code = new List<Instruction>();
                while (reader.CanReadByte)
                {
                    decoder.Decode(out Instruction instruction);
                    code.Add(instruction);
                }

                StubDeclaration declaration = StubCatalog.Declarations.Single(d => d.Name == symbols[n].Name);
                // Code run in other modes from a copy (the start-up page) has its own test.
                if (declaration.Parts is not null)
                    continue;
                // The callable part of the trap stub ends at its return; the entries after it are not called
                // (TheTrapEntriesAreFixedStrideAndJoinOneCommonPath checks them).
                if (declaration.TrapEntries)
                {
                    int ret = code.FindIndex(i => i.FlowControl == FlowControl.Return);
                    end = (int)code[ret].NextIP;
                    code = code.Take(ret + 1).ToList();
                }
                yield return new DecodedStub(declaration, (ulong)start, (ulong)end, code);
            }
        }
    }
}
