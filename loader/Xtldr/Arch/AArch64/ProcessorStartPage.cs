using ExectOS.Loader.Efi;

namespace ExectOS.Loader
{
    /// <summary>AArch64 starts the other processors through PSCI CPU_ON at any address: no page is set aside for them.</summary>
    internal static unsafe class ProcessorStartPage
    {
        internal static ulong Allocate(EfiBootServices* bs) => 0;
    }
}
