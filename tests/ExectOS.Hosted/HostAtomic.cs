using System.Threading;

namespace ExectOS.Hardware
{
    /// <summary>The architecture's <c>Atomic</c> for hosted builds: .NET's Interlocked and Volatile, so the kernel's locks run under real threads.</summary>
    public static unsafe class Atomic
    {
        public static nuint CompareExchange(nuint* location, nuint value, nuint comparand) => Interlocked.CompareExchange(ref *location, value, comparand);

        public static nuint Exchange(nuint* location, nuint value) => Interlocked.Exchange(ref *location, value);

        public static nuint Read(nuint* location) => Volatile.Read(ref *location);

        public static void Write(nuint* location, nuint value) => Volatile.Write(ref *location, value);

        // Hosted threads can outnumber cores: a waiter gives its time slice away, so a preempted holder (or, for the
        // queued lock, the next waiter in line) gets to run.
        public static void SpinPause() => Thread.Yield();
    }
}
