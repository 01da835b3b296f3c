namespace System
{
    /// <summary>Copies that may contain references: with no collector, a plain move.</summary>
    internal static class Buffer
    {
        internal static void BulkMoveWithWriteBarrier(ref byte destination, ref byte source, nuint length)
            => SpanHelpers.Memmove(ref destination, ref source, length);
    }
}

namespace System.Runtime.InteropServices
{
    /// <summary>Interface ilc's scanner roots; dynamic interface casting is not supported here.</summary>
    internal interface IDynamicInterfaceCastable
    {
        static RuntimeTypeHandle GetDynamicInterfaceImplementation(object instance, RuntimeTypeHandle interfaceType)
        {
            Internal.Runtime.RuntimeHost.FailFast(Internal.Runtime.FailFastReason.UnsupportedRuntimeFeature);
            return default;
        }
    }
}
