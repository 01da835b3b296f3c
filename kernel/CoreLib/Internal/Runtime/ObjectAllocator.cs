using System.Runtime;

namespace Internal.Runtime
{
    /// <summary>ilc's allocation helpers, served from the host's allocator; nothing is ever collected.</summary>
    internal static unsafe class ObjectAllocator
    {
        // An object reference points past a one-word header, at its MethodTable pointer; BaseSize counts both.
        internal static byte* AllocateObject(MethodTable* type)
        {
            byte* memory = RuntimeHost.AllocateZeroed(type->BaseSize);
            byte* instance = memory + sizeof(nint);
            *(MethodTable**)instance = type;
            return instance;
        }

        internal static byte* AllocateArray(MethodTable* type, int length)
        {
            if (length < 0)
                RuntimeHost.FailFast(FailFastReason.Overflow, (nuint)length);
            nuint size = type->BaseSize + (nuint)type->ComponentSize * (nuint)(uint)length;
            size = (size + (nuint)(sizeof(nint) - 1)) & ~(nuint)(sizeof(nint) - 1);
            byte* memory = RuntimeHost.AllocateZeroed(size);
            byte* instance = memory + sizeof(nint);
            *(MethodTable**)instance = type;
            *(int*)(instance + sizeof(nint)) = length;
            return instance;
        }

        [RuntimeExport("RhpNewFast")]
        private static void* RhpNewFast(MethodTable* type) => AllocateObject(type);

        [RuntimeExport("RhpNewFinalizable")]
        private static void* RhpNewFinalizable(MethodTable* type) => AllocateObject(type);

        [RuntimeExport("RhpNewArray")]
        private static void* RhpNewArray(MethodTable* type, int length) => AllocateArray(type, length);

        [RuntimeExport("RhpNewArrayFast")]
        private static void* RhpNewArrayFast(MethodTable* type, int length) => AllocateArray(type, length);

        [RuntimeExport("RhpNewPtrArrayFast")]
        private static void* RhpNewPtrArrayFast(MethodTable* type, int length) => AllocateArray(type, length);

        // No collector, so a reference store needs no barrier; the pointer types keep the compiler from emitting one here.
        [RuntimeExport("RhpAssignRef")]
        private static void RhpAssignRef(void** location, void* value) => *location = value;

        [RuntimeExport("RhpCheckedAssignRef")]
        private static void RhpCheckedAssignRef(void** location, void* value) => *location = value;

        // There is no GC to cooperate with, so transitions between managed and native code are empty.
        [RuntimeExport("RhpPInvoke")]
        private static void RhpPInvoke(void* frame) { }

        [RuntimeExport("RhpPInvokeReturn")]
        private static void RhpPInvokeReturn(void* frame) { }

        [RuntimeExport("RhpReversePInvoke")]
        private static void RhpReversePInvoke(void* frame) { }

        [RuntimeExport("RhpReversePInvokeReturn")]
        private static void RhpReversePInvokeReturn(void* frame) { }

        [RuntimeExport("RhpFallbackFailFast")]
        private static void RhpFallbackFailFast() => RuntimeHost.FailFast(FailFastReason.CompilerFailFast);
    }
}
