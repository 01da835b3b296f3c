using ExectOS.Boot;
using ExectOS.Loader.Efi;

namespace ExectOS.Loader
{
    /// <summary>The page the kernel starts the other x86 processors in: a start-up IPI can only name a page below 1 MiB.</summary>
    internal static unsafe class ProcessorStartPage
    {
        /// <summary>One page below <see cref="ProcessorStartLayout.Limit"/>, or 0 when the firmware has none free (the kernel then starts on one processor).</summary>
        internal static ulong Allocate(EfiBootServices* bs)
        {
            ulong page = ProcessorStartLayout.Limit;
            return EfiStatus.IsError(bs->AllocatePages(EfiAllocateType.MaxAddress, EfiMemoryType.LoaderData, 1, &page)) ? 0 : page;
        }
    }
}
