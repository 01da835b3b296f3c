using System.Runtime;
using System.Runtime.CompilerServices;
using Internal.Runtime.CompilerHelpers;

namespace Internal.Runtime
{
    /// <summary>The services an image (loader or kernel) gives the core library: memory for objects and a way to stop.</summary>
    public static unsafe class RuntimeHost
    {
        // Pointer statics live in the image's data and need no start-up work, unlike reference statics.
        private static delegate*<nuint, void*> s_allocate;
        private static delegate*<FailFastReason, nuint, void> s_failFast;

        /// <summary>
        /// Installs the host's hooks, then allocates the bases of reference-type statics (ilc leaves them
        /// uninitialised in the image). Call first thing at entry, before any reference static is touched.
        /// <paramref name="allocate"/> returns memory aligned to at least 8 bytes, or null; <paramref name="failFast"/> must not return.
        /// </summary>
        public static void Initialize(delegate*<nuint, void*> allocate, delegate*<FailFastReason, nuint, void> failFast)
        {
            s_allocate = allocate;
            s_failFast = failFast;
            StartupCodeHelpers.InitializeStatics(ModuleHeader.Get());
        }

        /// <summary>Stops execution through the host. Without a host, halts the processor with interrupts off.</summary>
        public static void FailFast(FailFastReason reason, nuint detail = 0)
        {
            if (s_failFast != null)
                s_failFast(reason, detail);
            while (true)
            {
                ArDisableInterrupts();
                ArHalt();
            }
        }

        /// <summary>Zeroed memory for an object, or a fail-fast: there is no collector to make room.</summary>
        internal static byte* AllocateZeroed(nuint size)
        {
            if (s_allocate == null)
                FailFast(FailFastReason.NoHost, size);
            byte* memory = (byte*)s_allocate(size);
            if (memory == null)
                FailFast(FailFastReason.OutOfMemory, size);
            System.SpanHelpers.ClearWithoutReferences(ref *memory, size);
            return memory;
        }

        [RuntimeImport("ArHalt")]
        [MethodImpl(MethodImplOptions.InternalCall)]
        private static extern void ArHalt();

        [RuntimeImport("ArDisableInterrupts")]
        [MethodImpl(MethodImplOptions.InternalCall)]
        private static extern void ArDisableInterrupts();
    }
}
