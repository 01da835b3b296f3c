using System.Runtime;
using System.Runtime.CompilerServices;

namespace ExectOS.Hardware
{
    /// <summary>
    /// The stubs every architecture's object has under the same names (the architecture contract); the rest of
    /// <c>Cpu</c> is in the image's Arch/ folder, and each stub's body, with what it is made of, in
    /// generators/StubAssembler/Arch/.
    /// </summary>
    public static unsafe partial class Cpu
    {
        /// <summary>Atomically: if *location == comparand, *location = value; returns the old value (a full barrier).</summary>
        [RuntimeImport("ArCompareExchange"), MethodImpl(MethodImplOptions.InternalCall)]
        public static extern nuint CompareExchange(nuint* location, nuint value, nuint comparand);

        /// <summary>Atomically swaps *location and value; returns the old value (a full barrier).</summary>
        [RuntimeImport("ArExchange"), MethodImpl(MethodImplOptions.InternalCall)]
        public static extern nuint Exchange(nuint* location, nuint value);

        /// <summary>A spin-wait hint.</summary>
        [RuntimeImport("ArPause"), MethodImpl(MethodImplOptions.InternalCall)]
        public static extern void Pause();

        /// <summary>Masks the processor's maskable interrupts.</summary>
        [RuntimeImport("ArDisableInterrupts"), MethodImpl(MethodImplOptions.InternalCall)]
        public static extern void DisableInterrupts();

        [RuntimeImport("ArEnableInterrupts"), MethodImpl(MethodImplOptions.InternalCall)]
        public static extern void EnableInterrupts();

        /// <summary>Waits for an interrupt.</summary>
        [RuntimeImport("ArHalt"), MethodImpl(MethodImplOptions.InternalCall)]
        public static extern void Halt();

        /// <summary>Waits for an interrupt without missing one that is already pending; returns with interrupts on.</summary>
        [RuntimeImport("ArWaitForInterrupt"), MethodImpl(MethodImplOptions.InternalCall)]
        public static extern void WaitForInterrupt();
    }
}
