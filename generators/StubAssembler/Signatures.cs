using System;
using System.Collections.Generic;
using System.Linq;

namespace ExectOS.StubAssembler;

/// <summary>A target the stubs are assembled for.</summary>
public enum StubArchitecture
{
    X64,
    X86,
}

/// <summary>Numbers that describe a stub target.</summary>
public static class StubArchitectures
{
    public static IReadOnlyList<StubArchitecture> All { get; } = [StubArchitecture.X64, StubArchitecture.X86];

    public static int Bitness(this StubArchitecture arch) => arch == StubArchitecture.X64 ? 64 : 32;

    public static int PointerSize(this StubArchitecture arch) => arch.Bitness() / 8;

    /// <summary>IMAGE_FILE_HEADER.Machine.</summary>
    public static ushort CoffMachine(this StubArchitecture arch) => arch == StubArchitecture.X64 ? (ushort)0x8664 : (ushort)0x14C;

    /// <summary>The spelling used on the command line and in snapshot names.</summary>
    public static string Name(this StubArchitecture arch) => arch == StubArchitecture.X64 ? "x64" : "x86";

    public static bool TryParse(string text, out StubArchitecture arch)
    {
        foreach (StubArchitecture candidate in All)
        {
            if (candidate.Name() == text)
            {
                arch = candidate;
                return true;
            }
        }

        arch = default;
        return false;
    }
}

/// <summary>A C# parameter or return type of a stub, as far as the calling convention cares.</summary>
public sealed record StubType(string CSharpName, int FixedSize)
{
    public static StubType Void { get; } = new("void", 0);
    public static StubType Byte { get; } = new("byte", 1);
    public static StubType UInt16 { get; } = new("ushort", 2);
    public static StubType UInt32 { get; } = new("uint", 4);
    public static StubType UInt64 { get; } = new("ulong", 8);
    public static StubType NUInt { get; } = new("nuint", NativeSize);
    public static StubType VoidPointer { get; } = new("void*", NativeSize);
    public static StubType UInt32Pointer { get; } = new("uint*", NativeSize);
    public static StubType NUIntPointer { get; } = new("nuint*", NativeSize);

    // FixedSize value meaning "as wide as a pointer on the target".
    private const int NativeSize = -1;

    public int SizeOn(StubArchitecture arch) => FixedSize == NativeSize ? arch.PointerSize() : FixedSize;
}

/// <summary>One named parameter of a stub.</summary>
public sealed record StubParameter(StubType Type, string Name);

/// <summary>The C# signature a stub is bound with (the RuntimeImport extern's shape).</summary>
public sealed record StubSignature(StubType Return, IReadOnlyList<StubParameter> Parameters)
{
    public string ToCSharp(string name) =>
        $"{Return.CSharpName} {name}({string.Join(", ", Parameters.Select(p => $"{p.Type.CSharpName} {p.Name}"))})";

    public bool Equals(StubSignature? other) =>
        other is not null && Return == other.Return && Parameters.SequenceEqual(other.Parameters);

    public override int GetHashCode() => HashCode.Combine(Return, Parameters.Count);
}

/// <summary>
/// A stub as the catalogue declares it: its symbol, and either the C# signature it is called with
/// or, for a JIT helper, the helper's private register contract.
/// </summary>
/// <param name="NoReturn">The stub never returns to its caller (it ends in a halt loop instead).</param>
/// <param name="Results">For a helper contract: the registers it returns in, the only ones it may change (x86 names).</param>
/// <summary>Part of a stub that runs in another processor mode: its offset in the stub and the mode's bitness.</summary>
public sealed record StubPart(int Offset, int Bitness);

/// <param name="Parts">For code copied elsewhere and run in several modes (a processor's start-up code): its parts, each decoded in its own bitness.</param>
public sealed record StubDeclaration(string Name, StubSignature? Signature, string? HelperContract, bool NoReturn = false, bool TrapEntries = false, string[]? Results = null, StubPart[]? Parts = null)
{
    /// <summary>The line that heads the stub in the listing.</summary>
    public string Header => Signature is not null
        ? $"{Name}: {Signature.ToCSharp(Name)}{(NoReturn ? " (does not return)" : "")}{(TrapEntries ? "; the trap entries and their common path follow the return" : "")}"
        : $"{Name}: JIT helper; {HelperContract}";
}
