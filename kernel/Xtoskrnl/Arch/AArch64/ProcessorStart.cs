namespace ExectOS.Kernel
{
    /// <summary>How many processors AArch64 can give tables of their own (see <see cref="Traps.MaxProcessors"/>).</summary>
    internal static class ProcessorStart
    {
        internal const int MaxProcessors = Traps.MaxProcessors;
    }
}
