namespace ExectOS.Tool.Cli;

/// <summary>Which command the user asked for.</summary>
public enum CommandKind
{
    /// <summary>No arguments at all: usage, and a non-zero exit.</summary>
    None,
    Help,
    Boot,
    Debug,
    Test,
    Bench,
}

/// <summary>The outcome of parsing the command line: a command with its options, or an error message.</summary>
public sealed record ParsedCommand(CommandKind Kind, BootOptions? Boot = null, TestOptions? Test = null, string? Error = null, BenchOptions? Bench = null)
{
    public bool IsError => Error is not null;

    public static ParsedCommand Failure(string error) => new(CommandKind.None, Error: error);
}
