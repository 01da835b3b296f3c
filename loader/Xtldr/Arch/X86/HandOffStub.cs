using System;
using ExectOS.Boot;
using ExectOS.Hardware;
using ExectOS.Memory;

namespace ExectOS.Loader
{
    /// <summary>
    /// The x86 hand-off page (see <see cref="HandOffLayout"/>), for amd64 and i686 alike: the ArHandOff stub copied to
    /// its start, then the parameter block and a GDT of flat segments. Each architecture's <c>HandOffPage</c> says
    /// where the page and root may lie and which flags its stub reads.
    /// </summary>
    internal static unsafe class HandOffStub
    {
        /// <summary>Copies the stub and fills the block; <paramref name="code64"/> is the 64-bit code segment (0 on i686). Null if the copy is not the stub.</summary>
        internal static byte* Prepare(ulong page, ulong root, ulong entry, ulong stackTop, ulong block, ulong flags, ulong code64)
        {
            byte* target = (byte*)(nuint)page;
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
            *(ulong*)(p + HandOffLayout.Flags) = flags;
            ulong* gdt = (ulong*)(p + HandOffLayout.Gdt);
            gdt[0] = 0;
            gdt[HandOffLayout.Code64Selector / 8] = code64;
            gdt[HandOffLayout.Code32Selector / 8] = HandOffLayout.Code32Descriptor;
            gdt[HandOffLayout.DataSelector / 8] = HandOffLayout.DataDescriptor;
            *(ushort*)(p + HandOffLayout.GdtLimit) = HandOffLayout.GdtEntries * 8 - 1;
            // 64-bit lgdt reads the whole base, 32-bit lgdt its low half.
            *(ulong*)(p + HandOffLayout.GdtBase) = (ulong)(nuint)gdt;
            return p;
        }
    }
}
