using System.Runtime;
using System.Runtime.CompilerServices;

namespace ExectOS.Hardware
{
    /// <summary>The privileged instructions, bound to the build-time assembled stubs (generators/StubAssembler); those every architecture has are in Hardware/Cpu.cs.</summary>
    public static unsafe partial class Cpu
    {
        /// <summary>
        /// A store observed after every earlier load and store of this processor: any aligned store on x86, whose stores
        /// are never reordered with earlier loads or stores; out of line, so the compiler does not move it either.
        /// </summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        public static void StoreRelease(nuint* location, nuint value) => *location = value;

        [RuntimeImport("ArInByte"), MethodImpl(MethodImplOptions.InternalCall)]
        public static extern byte InByte(ushort port);

        [RuntimeImport("ArInWord"), MethodImpl(MethodImplOptions.InternalCall)]
        public static extern ushort InWord(ushort port);

        [RuntimeImport("ArInDword"), MethodImpl(MethodImplOptions.InternalCall)]
        public static extern uint InDword(ushort port);

        [RuntimeImport("ArOutByte"), MethodImpl(MethodImplOptions.InternalCall)]
        public static extern void OutByte(ushort port, byte value);

        [RuntimeImport("ArOutWord"), MethodImpl(MethodImplOptions.InternalCall)]
        public static extern void OutWord(ushort port, ushort value);

        [RuntimeImport("ArOutDword"), MethodImpl(MethodImplOptions.InternalCall)]
        public static extern void OutDword(ushort port, uint value);

        [RuntimeImport("ArReadCr0"), MethodImpl(MethodImplOptions.InternalCall)]
        public static extern nuint ReadCr0();

        [RuntimeImport("ArReadCr2"), MethodImpl(MethodImplOptions.InternalCall)]
        public static extern nuint ReadCr2();

        [RuntimeImport("ArReadCr3"), MethodImpl(MethodImplOptions.InternalCall)]
        public static extern nuint ReadCr3();

        [RuntimeImport("ArReadCr4"), MethodImpl(MethodImplOptions.InternalCall)]
        public static extern nuint ReadCr4();

        [RuntimeImport("ArWriteCr0"), MethodImpl(MethodImplOptions.InternalCall)]
        public static extern void WriteCr0(nuint value);

        [RuntimeImport("ArWriteCr3"), MethodImpl(MethodImplOptions.InternalCall)]
        public static extern void WriteCr3(nuint value);

        [RuntimeImport("ArWriteCr4"), MethodImpl(MethodImplOptions.InternalCall)]
        public static extern void WriteCr4(nuint value);

        [RuntimeImport("ArInvalidatePage"), MethodImpl(MethodImplOptions.InternalCall)]
        public static extern void InvalidatePage(void* address);

        [RuntimeImport("ArCpuId"), MethodImpl(MethodImplOptions.InternalCall)]
        private static extern void CpuIdRaw(uint leaf, uint subleaf, uint* result);

        [RuntimeImport("ArReadMsr"), MethodImpl(MethodImplOptions.InternalCall)]
        public static extern ulong ReadMsr(uint msr);

        [RuntimeImport("ArWriteMsr"), MethodImpl(MethodImplOptions.InternalCall)]
        public static extern void WriteMsr(uint msr, ulong value);

        /// <summary>A 64-bit RDRAND value, or 0 when the instruction gave none (check <see cref="HasRandom"/> first).</summary>
        [RuntimeImport("ArReadRandom"), MethodImpl(MethodImplOptions.InternalCall)]
        public static extern ulong ReadRandom();

        /// <summary>Whether the processor has RDRAND (CPUID.01H:ECX bit 30).</summary>
        public static bool HasRandom => (CpuId(1).Ecx & (1u << 30)) != 0;

        [RuntimeImport("ArReadTimeStampCounter"), MethodImpl(MethodImplOptions.InternalCall)]
        public static extern ulong ReadTimeStampCounter();

        [RuntimeImport("ArLoadGdt"), MethodImpl(MethodImplOptions.InternalCall)]
        public static extern void LoadGdt(void* pseudoDescriptor);

        [RuntimeImport("ArLoadIdt"), MethodImpl(MethodImplOptions.InternalCall)]
        public static extern void LoadIdt(void* pseudoDescriptor);

        [RuntimeImport("ArLoadTaskRegister"), MethodImpl(MethodImplOptions.InternalCall)]
        public static extern void LoadTaskRegister(ushort selector);

        /// <summary>Loads FS (on i686 the processor block's segment, which the trap entries read the dispatcher through).</summary>
        [RuntimeImport("ArLoadFs"), MethodImpl(MethodImplOptions.InternalCall)]
        public static extern void LoadFs(ushort selector);

        /// <summary>The address of the first trap entry (see <see cref="TrapLayout"/>).</summary>
        [RuntimeImport("ArTrapEntryTable"), MethodImpl(MethodImplOptions.InternalCall)]
        public static extern nuint TrapEntryTable();

        /// <summary>This processor's number, from its processor block (GS on x64, FS on x86; see TrapLayout).</summary>
        [RuntimeImport("ArProcessorNumber"), MethodImpl(MethodImplOptions.InternalCall)]
        public static extern nuint ProcessorNumber();

        [RuntimeImport("ArCallOnStack"), MethodImpl(MethodImplOptions.InternalCall)]
        public static extern void CallOnStack(void* stackTop, void* function, nuint argument);

        /// <summary>
        /// One-way: the hand-off (see <see cref="Boot.HandOffLayout"/>). Called through the copy in the
        /// hand-off page; this symbol is the original the loader copies.
        /// </summary>
        [RuntimeImport("ArHandOff"), MethodImpl(MethodImplOptions.InternalCall)]
        public static extern void HandOff(void* parameters);

        /// <summary>The early fault handler (see <see cref="Boot.HandOffLayout.EarlyCode"/>): the loader copies it into the hand-off page.</summary>
        [RuntimeImport("ArEarlyFault"), MethodImpl(MethodImplOptions.InternalCall)]
        public static extern void EarlyFault();

        /// <summary>Executes CPUID for <paramref name="leaf"/>/<paramref name="subleaf"/>.</summary>
        public static CpuIdResult CpuId(uint leaf, uint subleaf = 0)
        {
            CpuIdResult result;
            CpuIdRaw(leaf, subleaf, (uint*)&result);
            return result;
        }

        /// <summary>Stops this processor for good: interrupts off, halt in a loop (an NMI cannot resume it).</summary>
        public static void HaltForever()
        {
            while (true)
            {
                DisableInterrupts();
                Halt();
            }
        }
    }

    /// <summary>The four registers CPUID returns.</summary>
    public struct CpuIdResult
    {
        public uint Eax;
        public uint Ebx;
        public uint Ecx;
        public uint Edx;
    }
}
