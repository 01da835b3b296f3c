using System.Runtime.CompilerServices;

namespace ExectOS.Hardware
{
    /// <summary>
    /// Atomic operations on pointer-sized words for the locks (hosted tests compile their own <c>Atomic</c> over
    /// .NET's Interlocked, so the same lock code runs under real threads). The read-modify-writes are the
    /// architecture's stubs (<see cref="Cpu"/>), each a full barrier on every architecture; <see cref="Write"/> is a
    /// release store. A plain aligned load of a
    /// word is atomic, and a call the compiler cannot see into keeps it from being hoisted out of a spin loop.
    /// </summary>
    public static unsafe class Atomic
    {
        public static nuint CompareExchange(nuint* location, nuint value, nuint comparand) => Cpu.CompareExchange(location, value, comparand);

        public static nuint Exchange(nuint* location, nuint value) => Cpu.Exchange(location, value);

        [MethodImpl(MethodImplOptions.NoInlining)]
        public static nuint Read(nuint* location) => *location;

        /// <summary>A release store: observed after every earlier load and store (the architecture's <c>Cpu.StoreRelease</c>).</summary>
        public static void Write(nuint* location, nuint value) => Cpu.StoreRelease(location, value);

        /// <summary>A spin-wait hint between polls.</summary>
        public static void SpinPause() => Cpu.Pause();
    }
}
