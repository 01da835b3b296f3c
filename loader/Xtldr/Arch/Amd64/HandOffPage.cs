using ExectOS.Boot;
using ExectOS.Hardware;
using ExectOS.Memory;

namespace ExectOS.Loader
{
    /// <summary>
    /// The amd64 hand-off page (see <see cref="HandOffLayout"/>): the ArHandOff stub copied to its start, then the
    /// parameter block and a GDT with 64- and 32-bit code segments. 5-level paging is entered from 32-bit code with
    /// paging off, so the page and the tables' root must lie below 4 GiB.
    /// </summary>
    internal static unsafe class HandOffPage
    {
        /// <summary>The highest address the hand-off page may have (identity-mapped, reached from 32-bit code).</summary>
        internal const ulong Limit = 0xFFFFFFFF;

        /// <summary>The highest address the page-table root may have: a 5-level root is loaded from 32-bit code.</summary>
        internal const ulong TableLimit = 0xFFFFFFFF;

        /// <summary>The hand-off page for <typeparamref name="TMode"/>: a fifth level of tables is what CR4.LA57 turns on.</summary>
        internal static byte* Prepare<TMode>(ulong page, ulong root, ulong highRoot, ulong entry, ulong stackTop, ulong block, ulong console) where TMode : struct, IPagingMode
            => HandOffStub.Prepare(page, root, entry, stackTop, block, TMode.LevelCount == 5 ? HandOffLayout.FiveLevel : 0, HandOffLayout.Code64Descriptor);
    }
}
