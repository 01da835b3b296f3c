namespace ExectOS.Tool.Cli;

/// <summary>Options of <c>exectos bench</c>.</summary>
public sealed record BenchOptions
{
    public const int DefaultRounds = 15;

    /// <summary>Runs only the benchmarks whose name contains this text.</summary>
    public string? Filter { get; init; }

    /// <summary>Measured rounds per benchmark (candidate and baseline alternate within each).</summary>
    public int Rounds { get; init; } = DefaultRounds;
}
