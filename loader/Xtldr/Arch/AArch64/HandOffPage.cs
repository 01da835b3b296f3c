using ExectOS.Boot;
using ExectOS.Hardware;
using ExectOS.Memory;
using ExectOS.Text;

namespace ExectOS.Loader
{
    /// <summary>
    /// The AArch64 hand-off page (see <see cref="HandOffLayout"/>): the stub's piece copied in, then the parameter
    /// block: both halves' roots, the kernel's entry, stack and loader block, MAIR_EL1 and TCR_EL1 for the mode, and
    /// what the early fault handler needs (the console's registers in the kernel's tables, its message, its semihosting
    /// exit). The page is cleaned to the point of coherency, because the stub runs part of its way with the MMU and
    /// data cache off. The loader runs at EL1 (QEMU's virt board) or EL2 (with virtualization=on, and much real
    /// hardware), from which the hand-off drops to EL1.
    /// </summary>
    internal static unsafe class HandOffPage
    {
        /// <summary>The page and the tables may lie anywhere: TTBRn take any physical address the processor has.</summary>
        internal const ulong Limit = ulong.MaxValue;

        internal const ulong TableLimit = ulong.MaxValue;

        /// <summary>The stub's first instruction, msr daifset, #0xf: the copy is the stub, not a thunk in front of it.</summary>
        private const uint FirstInstruction = 0xD5034FDF;

        private const string EarlyMessage = "early kernel fault before the kernel installed its trap table: exception class 0x";

        internal static byte* Prepare<TMode>(ulong page, ulong root, ulong highRoot, ulong entry, ulong stackTop, ulong block, ulong console) where TMode : struct, IPagingMode
        {
            int level = Processor.ExceptionLevel;
            if (level is not (1 or 2))
            {
                TextLine line = default;
                line.Append("the loader runs at EL");
                line.AppendDecimal((ulong)level);
                line.Append("; the hand-off enters the kernel at EL1 from EL1 or EL2 only");
                LoaderConsole.Error(line.AsSpan());
                return null;
            }
            if (level == 2)
                LoaderConsole.WriteLine("XTLDR: the firmware left the loader at EL2: the hand-off sets EL1 up and enters the kernel there");
            if (TMode.RootCount != 2 || highRoot == 0)
            {
                LoaderConsole.Error("the AArch64 hand-off needs a split mode with both halves' roots");
                return null;
            }
            byte* target = (byte*)(nuint)page;
            byte* stub = (byte*)(delegate*<void*, void>)&Cpu.HandOff;
            for (int i = 0; i < HandOffLayout.PieceBytes; i++)
                target[i] = stub[i];
            if (*(uint*)target != FirstInstruction)
            {
                LoaderConsole.Error("internal failure: the hand-off stub could not be located for copying");
                return null;
            }
            byte* p = target + HandOffLayout.Parameters;
            *(ulong*)(p + HandOffLayout.LowRoot) = root;
            *(ulong*)(p + HandOffLayout.HighRoot) = highRoot;
            *(ulong*)(p + HandOffLayout.Entry) = entry;
            *(ulong*)(p + HandOffLayout.StackTop) = stackTop;
            *(ulong*)(p + HandOffLayout.Argument) = block;
            *(ulong*)(p + HandOffLayout.MemoryAttributes) = HandOffLayout.MemoryAttributeIndirection;
            *(ulong*)(p + HandOffLayout.TranslationControl) = TranslationControl<TMode>(Cpu.ReadIdAa64Mmfr0());
            *(ulong*)(p + HandOffLayout.ConsoleRegisters) = console;
            *(ulong*)(p + HandOffLayout.SemihostingBlock) = HandOffLayout.ApplicationExit;
            *(ulong*)(p + HandOffLayout.SemihostingBlock + 8) = 2u * BootProtocol.KernelFailed + 1;
            // The loader's error prefix: the host ends the run on that line and names the fault in its verdict.
            int length = 0;
            for (int i = 0; i < BootProtocol.LoaderErrorPrefix.Length; i++)
                p[HandOffLayout.EarlyMessage + length++] = (byte)BootProtocol.LoaderErrorPrefix[i];
            for (int i = 0; i < EarlyMessage.Length && length < HandOffLayout.EarlyMessageBytes - 1; i++)
                p[HandOffLayout.EarlyMessage + length++] = (byte)EarlyMessage[i];
            p[HandOffLayout.EarlyMessage + length] = 0;
            Cpu.CleanToPointOfCoherency(target, HandOffLayout.PieceBytes);
            return p;
        }

        /// <summary>
        /// TCR_EL1 for the mode: both halves 2^VirtualBits bytes (T0SZ = T1SZ = 64 - bits), the mode's granule in each
        /// (TG0 and TG1 encode it differently), walks through inner and outer write-back, write-allocate, inner
        /// shareable memory (as the tables are mapped), the intermediate physical size the processor reports
        /// (ID_AA64MMFR0_EL1.PARange) up to the mode's physical bits, 8-bit ASIDs, no top-byte ignore.
        /// </summary>
        internal static ulong TranslationControl<TMode>(ulong memoryModelFeatures) where TMode : struct, IPagingMode
        {
            ulong size = (ulong)(64 - TMode.VirtualBits);
            ulong granule0 = TMode.PageShift switch { 12 => 0b00, 14 => 0b10, _ => 0b01 };
            ulong granule1 = TMode.PageShift switch { 12 => 0b10, 14 => 0b01, _ => 0b11 };
            const ulong WriteBackAllocate = 0b01, InnerShareable = 0b11;
            ulong walk = (WriteBackAllocate << 8) | (WriteBackAllocate << 10) | (InnerShareable << 12);
            return size | walk | (granule0 << 14) | (size << 16) | (walk << 16) | (granule1 << 30) | ((ulong)PhysicalSize(memoryModelFeatures, TMode.PhysicalBits) << 32);
        }

        // PARange (ID_AA64MMFR0_EL1 bits 3:0) and TCR.IPS share one encoding: 32, 36, 40, 42, 44, 48, 52 bits.
        private static uint PhysicalSize(ulong memoryModelFeatures, int modeBits)
        {
            uint range = (uint)(memoryModelFeatures & 0xF);
            if (range > 6)
                range = 6;
            while (range > 0 && Bits(range) > modeBits)
                range--;
            return range;
        }

        private static int Bits(uint range) => range switch { 0 => 32, 1 => 36, 2 => 40, 3 => 42, 4 => 44, 5 => 48, _ => 52 };
    }
}
