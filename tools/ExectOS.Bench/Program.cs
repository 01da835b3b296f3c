using System;
using System.Globalization;
using System.Linq;
using ExectOS.Bench;

// exectos-bench [--rounds N] [--filter TEXT]: every benchmark prints one line with its ratio.
int rounds = 15;
string? filter = null;
for (int i = 0; i < args.Length; i++)
{
    if (args[i] == "--rounds" && i + 1 < args.Length && int.TryParse(args[++i], NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0)
        rounds = n;
    else if (args[i] == "--filter" && i + 1 < args.Length)
        filter = args[++i];
    else
    {
        Console.Error.WriteLine($"exectos-bench: unknown or malformed argument '{args[i]}'; usage: exectos-bench [--rounds N] [--filter TEXT]");
        return 2;
    }
}

Benchmark[] all = [.. PageTableBenchmarks.MapOneGiB(), .. PfnBenchmarks.Build(), .. PoolBenchmarks.Build(), .. PoolThreadBenchmarks.Build(), .. ToolBenchmarks.Build()];
Benchmark[] chosen = all.Where(b => filter is null || b.Name.Contains(filter, StringComparison.OrdinalIgnoreCase)).ToArray();
if (chosen.Length == 0)
{
    Console.Error.WriteLine($"exectos-bench: no benchmark matches '{filter}'");
    return 2;
}
foreach (Benchmark benchmark in chosen)
    BenchmarkRunner.Run(benchmark, rounds, warmup: 3);
if (chosen.Any(b => b.Name.Contains("PFN", StringComparison.Ordinal)))
    Console.WriteLine($"exectos bench: PFN entry {System.Runtime.CompilerServices.Unsafe.SizeOf<ExectOS.Memory.PfnEntry>()} bytes per page frame (NT amd64 MMPFN 48, Linux struct page 64)");
if (chosen.Any(b => b.Name.StartsWith("pool ", StringComparison.Ordinal)))
    PoolBenchmarks.PrintOverhead();
Console.WriteLine($"exectos bench: {chosen.Length} benchmark(s) done");
return 0;
