using ExectOS.Memory;

namespace ExectOS.Kernel
{
    /// <summary>i686's part of starting the other processors: not written yet (its start-up code has no protected-mode-only stub).</summary>
    internal static class ProcessorStart
    {
        internal static bool IsSupported => false;
        internal const string NotSupported = "this kernel does not start application processors on i686 yet";
        internal const int MaxProcessors = 1;

        internal static void Prepare<TMemory>(ref TMemory memory, ulong page) where TMemory : struct, IPhysicalMemory { }

        internal static void PrepareTables(int number, ulong doubleFaultTop, ulong nmiTop) { }

        internal static void SetProcessor<TMemory>(ref TMemory memory, ulong page, ulong stackTop, int number) where TMemory : struct, IPhysicalMemory { }
    }
}
