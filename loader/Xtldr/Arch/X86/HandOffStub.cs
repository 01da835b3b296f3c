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
        /// <summary>What the early fault handler prints before the vector, in the form the host tool stops a run on.</summary>
        private const string EarlyMessage = "early kernel fault before the kernel installed its trap table: exception vector 0x";

        /// <summary>
        /// Copies the stubs and fills the block; <paramref name="code64"/> is the 64-bit code segment (0 on i686), and the
        /// early IDT's gates are 16 bytes where there is one, else 8. Null if the copy is not the stub.
        /// </summary>
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
            PrepareEarlyFaults(target, p, code64 != 0);
            return p;
        }

        /// <summary>The early fault handler's copy, its message, and an IDT whose gates lead to its per-vector entries.</summary>
        private static void PrepareEarlyFaults(byte* page, byte* parameters, bool longMode)
        {
            byte* handler = page + HandOffLayout.EarlyCode;
            byte* source = (byte*)(delegate*<void>)&Cpu.EarlyFault;
            for (int i = 0; i < HandOffLayout.EarlyCodeBytes; i++)
                handler[i] = source[i];
            byte* message = parameters + HandOffLayout.EarlyMessage;
            int length = 0;
            for (int i = 0; i < BootProtocol.LoaderErrorPrefix.Length; i++)
                message[length++] = (byte)BootProtocol.LoaderErrorPrefix[i];
            for (int i = 0; i < EarlyMessage.Length && length < HandOffLayout.EarlyMessageBytes - 1; i++)
                message[length++] = (byte)EarlyMessage[i];
            message[length] = 0;

            byte* idt = parameters + HandOffLayout.EarlyIdt;
            int gate = longMode ? 16 : 8;
            ulong selector = longMode ? HandOffLayout.Code64Selector : HandOffLayout.Code32Selector;
            for (int vector = 0; vector < HandOffLayout.EarlyVectors; vector++)
            {
                ulong offset = (ulong)(nuint)(handler + vector * HandOffLayout.EarlyEntryStride);
                // An interrupt gate, present, ring 0 (Intel SDM Vol. 3A, 6.11 and 6.14.1).
                *(ulong*)(idt + vector * gate) = (offset & 0xFFFF) | selector << 16 | 0x8EUL << 40 | ((offset >> 16) & 0xFFFF) << 48;
                if (longMode)
                    *(ulong*)(idt + vector * gate + 8) = offset >> 32;
            }
            *(ushort*)(parameters + HandOffLayout.EarlyIdtLimit) = (ushort)(HandOffLayout.EarlyVectors * gate - 1);
            *(ulong*)(parameters + HandOffLayout.EarlyIdtBase) = (ulong)(nuint)idt;
        }
    }
}
