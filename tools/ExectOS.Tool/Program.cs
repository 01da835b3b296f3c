using System;
using ExectOS.Tool;
using ExectOS.Tool.Benchmarking;
using ExectOS.Tool.Boot;
using ExectOS.Tool.Cli;
using ExectOS.Tool.Testing;

ParsedCommand command = CommandLine.Parse(args);
if (command.IsError)
{
    Console.Error.WriteLine("exectos: error: " + command.Error);
    Console.Error.WriteLine(Usage.Text);
    return ExitCodes.Usage;
}

switch (command.Kind)
{
    case CommandKind.Help:
        Console.Out.WriteLine(Usage.Text);
        return ExitCodes.Pass;
    case CommandKind.None:
        Console.Error.WriteLine(Usage.Text);
        return ExitCodes.Usage;
}

if (RepositoryLayout.TryLocate() is not { } repo)
{
    Console.Error.WriteLine("exectos: error: cannot find the ExectOS repository (a folder with global.json and exectos)");
    return ExitCodes.Usage;
}

return command.Kind switch
{
    CommandKind.Boot or CommandKind.Debug => new BootCommand(repo, Console.Out).Run(command.Boot!),
    CommandKind.Bench => new BenchCommand(repo, Console.Out).Run(command.Bench!),
    _ => new TestCommand(repo, Console.Out).Run(command.Test!),
};
