namespace ExectOS.Tool;

/// <summary>Process exit statuses of exectos; scripts and tests rely on them.</summary>
public static class ExitCodes
{
    public const int Pass = 0;

    /// <summary>The guest or the test suite reported a failure (or never reported).</summary>
    public const int Fail = 1;

    /// <summary>Bad command line, or an architecture that is not built yet.</summary>
    public const int Usage = 2;

    /// <summary>A host tool or firmware file is missing.</summary>
    public const int MissingHostTool = 3;

    /// <summary>The build failed or an image to boot is missing.</summary>
    public const int BuildFailed = 4;

    /// <summary>Interrupted by a signal, as shells report SIGINT.</summary>
    public const int Interrupted = 130;
}
