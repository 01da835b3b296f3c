namespace ExectOS.Tool.Cli;

/// <summary>Options of <c>exectos test</c>.</summary>
public sealed record TestOptions
{
    /// <summary>A <c>dotnet test --filter</c> expression, or null for every test.</summary>
    public string? Filter { get; init; }

    /// <summary>Leaves out tests in the Boot category (the ones that start QEMU).</summary>
    public bool NoBoot { get; init; }
}
