using ExectOS.Boot;
using ExectOS.Hardware;
using ExectOS.Memory;

namespace ExectOS.Loader
{
    /// <summary>
    /// The i686 hand-off page (see <see cref="HandOffLayout"/>): the ArHandOff stub copied to its start, then the
    /// parameter block and a GDT with flat 32-bit code and data segments. The stub turns paging on in the mode's
    /// shape: PAE for 64-bit entries, 4 MiB pages in 2-level paging, no-execute where the entries carry it.
    /// Everything the 32-bit stub loads lies below 4 GiB.
    /// </summary>
    internal static unsafe class HandOffPage
    {
        /// <summary>The highest address the hand-off page may have.</summary>
        internal const ulong Limit = 0xFFFFFFFF;

        /// <summary>The highest address the page-table root may have: CR3 holds 32 bits (a PAE root, 32-byte aligned, too).</summary>
        internal const ulong TableLimit = 0xFFFFFFFF;

        /// <summary>The hand-off page for <typeparamref name="TMode"/>: 32-bit code and data segments, no 64-bit one.</summary>
        internal static byte* Prepare<TMode>(ulong page, ulong root, ulong highRoot, ulong entry, ulong stackTop, ulong block, ulong console) where TMode : struct, IPagingMode
            => HandOffStub.Prepare(page, root, entry, stackTop, block, Flags<TMode>(), code64: 0);

        /// <summary>
        /// What the mode's tables need switched on. 64-bit entries are PAE's; a level above the last that maps pages
        /// with 32-bit entries needs CR4.PSE; a no-execute role in the leaf format needs EFER.NXE (the mode then
        /// requires the feature, so the loader only chose it where the processor has it).
        /// </summary>
        private static ulong Flags<TMode>() where TMode : struct, IPagingMode
        {
            ulong flags = 0;
            if (TMode.EntryBytes == 8)
                flags |= HandOffLayout.Pae;
            else if (TMode.LevelCount > 1 && TMode.LevelMapsPages(TMode.LevelCount - 2))
                flags |= HandOffLayout.LargePages;
            int leaf = TMode.LevelCount - 1;
            ulong executable = TMode.MakePage(leaf, default, PageProtection.Executable);
            ulong data = TMode.MakePage(leaf, default, PageProtection.Read);
            if (executable != data)
                flags |= HandOffLayout.NoExecute;
            return flags;
        }
    }
}
