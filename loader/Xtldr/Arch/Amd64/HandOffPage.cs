using System;
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

        /// <summary>Copies the hand-off stub into its page and fills the parameter block and GDT; null if the copy is not the stub.</summary>
        internal static byte* Prepare<TMode>(ulong page, ulong root, ulong entry, ulong stackTop, ulong block) where TMode : struct, IPagingMode
        {
            byte* target = (byte*)page;
            byte* stub = (byte*)(delegate*<void*, void>)&Cpu.HandOff;
            new Span<byte>(target, (int)FirmwarePage.Size).Fill(0xCC);
            for (int i = 0; i < HandOffLayout.CodeBytes; i++)
                target[i] = stub[i];
            if (target[0] != 0xFA) // cli: the address taken was a thunk, not the stub
            {
                LoaderConsole.Error("internal failure: the hand-off stub could not be located for copying");
                return null;
            }
            byte* p = target + HandOffLayout.Parameters;
            *(ulong*)(p + HandOffLayout.PageTableRoot) = root;
            *(ulong*)(p + HandOffLayout.Entry) = entry;
            *(ulong*)(p + HandOffLayout.StackTop) = stackTop;
            *(ulong*)(p + HandOffLayout.Argument) = block;
            // A fifth level of tables is what CR4.LA57 turns on.
            *(ulong*)(p + HandOffLayout.Flags) = TMode.LevelCount == 5 ? HandOffLayout.FiveLevel : 0;
            ulong* gdt = (ulong*)(p + HandOffLayout.Gdt);
            gdt[0] = 0;
            gdt[HandOffLayout.Code64Selector / 8] = HandOffLayout.Code64Descriptor;
            gdt[HandOffLayout.Code32Selector / 8] = HandOffLayout.Code32Descriptor;
            gdt[HandOffLayout.DataSelector / 8] = HandOffLayout.DataDescriptor;
            *(ushort*)(p + HandOffLayout.GdtLimit) = HandOffLayout.GdtEntries * 8 - 1;
            *(ulong*)(p + HandOffLayout.GdtBase) = (ulong)gdt;
            return p;
        }
    }
}
