using System.Runtime;
using System.Runtime.CompilerServices;
using ExectOS.Boot;
using ExectOS.Hardware;
using ExectOS.Memory;

namespace ExectOS.Kernel
{
    /// <summary>
    /// What amd64's and i686's start-up pages share (see <see cref="ProcessorStartLayout"/>): the code copied in, the
    /// GDT with the flat 32-bit code and data segments, the far pointer to the 32-bit part, the boot processor's
    /// CR4, page-table root and CR0, each processor's stack, number and entry, and the entry itself. The
    /// architecture's part adds its own (amd64: the 64-bit segment and part, EFER for long mode; i686: EFER for NX).
    /// </summary>
    internal static unsafe partial class ProcessorStart
    {
        internal static bool IsSupported => true;
        internal const string NotSupported = "";

        /// <summary>Processors that can have tables of their own.</summary>
        internal const int MaxProcessors = Traps.MaxProcessors;

        private const uint EferMsr = 0xC0000080;

        [RuntimeImport("ArProcessorStart"), MethodImpl(MethodImplOptions.InternalCall)]
        private static extern void Code();

        /// <summary>The code, the GDT and its pseudo-descriptor, the far pointer to the 32-bit part, CR4, the root and CR0.</summary>
        private static void PrepareShared<TMemory>(ref TMemory memory, ulong page) where TMemory : struct, IPhysicalMemory
        {
            byte* code = (byte*)(delegate*<void>)&Code;
            for (int i = 0; i < ProcessorStartLayout.CodeBytes; i += 4)
                memory.Write32(new PhysicalAddress(page + (ulong)i), *(uint*)(code + i));
            ulong p = page + ProcessorStartLayout.Parameters, gdt = p + ProcessorStartLayout.Gdt;
            memory.Zero(new PhysicalAddress(p), ProcessorStartLayout.Gdt + ProcessorStartLayout.GdtEntries * 8);
            memory.Write64(new PhysicalAddress(gdt + HandOffLayout.Code32Selector), HandOffLayout.Code32Descriptor);
            memory.Write64(new PhysicalAddress(gdt + HandOffLayout.DataSelector), HandOffLayout.DataDescriptor);
            // Limit (16 bits) then base (32 bits) at GdtBase = 2: written as two aligned words.
            memory.Write32(new PhysicalAddress(p + ProcessorStartLayout.GdtLimit), (ProcessorStartLayout.GdtEntries * 8 - 1) | (uint)(gdt << 16));
            memory.Write32(new PhysicalAddress(p + ProcessorStartLayout.GdtLimit + 4), (uint)(gdt >> 16));
            memory.Write32(new PhysicalAddress(p + ProcessorStartLayout.Jump32), (uint)(page + ProcessorStartLayout.Code32));
            memory.Write32(new PhysicalAddress(p + ProcessorStartLayout.Jump32 + 4), HandOffLayout.Code32Selector);
            memory.Write32(new PhysicalAddress(p + ProcessorStartLayout.Cr4), (uint)Cpu.ReadCr4());
            memory.Write32(new PhysicalAddress(p + ProcessorStartLayout.PageTableRoot), (uint)Cpu.ReadCr3());
            memory.Write32(new PhysicalAddress(p + ProcessorStartLayout.Cr0), (uint)Cpu.ReadCr0());
        }

        /// <summary>Processor <paramref name="number"/>'s tables, with its double-fault and NMI stacks, before it starts.</summary>
        internal static void PrepareTables(int number, ulong doubleFaultTop, ulong nmiTop) => Traps.Prepare(number, doubleFaultTop, nmiTop);

        /// <summary>The next processor's stack and number (one processor starts at a time).</summary>
        internal static void SetProcessor<TMemory>(ref TMemory memory, ulong page, ulong stackTop, int number) where TMemory : struct, IPhysicalMemory
        {
            ulong p = page + ProcessorStartLayout.Parameters;
            memory.Write64(new PhysicalAddress(p + ProcessorStartLayout.StackTop), stackTop);
            memory.Write64(new PhysicalAddress(p + ProcessorStartLayout.Entry), (ulong)(delegate*<nuint, void>)&Entry);
            memory.Write64(new PhysicalAddress(p + ProcessorStartLayout.Argument), (ulong)number);
        }

        /// <summary>Where a started processor enters the kernel, on its own stack: its tables and APIC, then it reports and idles.</summary>
        private static void Entry(nuint number)
        {
            Traps.Load((int)number);
            InterProcessor.PrepareThisProcessor();
            Processors.Arrived((int)number);
            Processors.IdleLoop((int)number);
        }
    }
}
