using Internal.Runtime;

namespace System.Runtime
{
    /// <summary>
    /// ilc's cast helpers. Class casts walk the base-type chain; interface and variant casts need runtime
    /// type data this core library does not carry, so they stop with UnsupportedRuntimeFeature.
    /// </summary>
    internal static unsafe class TypeCast
    {
        private static object? IsInstanceOfClass(MethodTable* target, object? obj)
        {
            if (obj == null)
                return null;
            MethodTable* type = obj.MethodTable;
            if (!type->IsCanonical)
                RuntimeHost.FailFast(FailFastReason.UnsupportedRuntimeFeature, (nuint)type);
            for (; type != null; type = type->BaseType)
            {
                if (type == target)
                    return obj;
            }
            return null;
        }

        private static object? CheckCastClass(MethodTable* target, object? obj)
        {
            if (obj != null && IsInstanceOfClass(target, obj) == null)
                RuntimeHost.FailFast(FailFastReason.InvalidCast, (nuint)target);
            return obj;
        }

        private static object? CheckCastClassSpecial(MethodTable* target, object? obj) => CheckCastClass(target, obj);

        private static object? IsInstanceOfAny(MethodTable* target, object? obj) => Unsupported(target, obj);

        private static object? IsInstanceOfInterface(MethodTable* target, object? obj) => Unsupported(target, obj);

        private static bool IsInstanceOfException(MethodTable* target, object? obj)
        {
            RuntimeHost.FailFast(FailFastReason.UnsupportedRuntimeFeature, (nuint)target);
            return false;
        }

        private static object? CheckCastAny(MethodTable* target, object? obj) => Unsupported(target, obj);

        private static object? CheckCastInterface(MethodTable* target, object? obj) => Unsupported(target, obj);

        // Arrays of references are allowed, but storing into one needs covariance checks we cannot do.
        private static void StelemRef(object?[] array, nint index, object? obj)
            => RuntimeHost.FailFast(FailFastReason.UnsupportedRuntimeFeature, (nuint)index);

        private static ref object? LdelemaRef(object?[] array, nint index, MethodTable* elementType)
        {
            RuntimeHost.FailFast(FailFastReason.UnsupportedRuntimeFeature, (nuint)index);
            return ref *(object?*)null;
        }

        private static object? Unsupported(MethodTable* target, object? obj)
        {
            if (obj != null)
                RuntimeHost.FailFast(FailFastReason.UnsupportedRuntimeFeature, (nuint)target);
            return null;
        }
    }
}
