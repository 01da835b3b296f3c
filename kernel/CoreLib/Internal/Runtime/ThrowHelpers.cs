namespace Internal.Runtime.CompilerHelpers
{
    /// <summary>
    /// Where ilc's generated code goes when a check fails (bounds, division, overflow ...). There are no
    /// exceptions, so each one stops through the host, which turns it into a loader error or a bug check.
    /// </summary>
    internal static class ThrowHelpers
    {
        internal static void ThrowIndexOutOfRangeException() => RuntimeHost.FailFast(FailFastReason.IndexOutOfRange);
        internal static void ThrowNullReferenceException() => RuntimeHost.FailFast(FailFastReason.NullReference);
        internal static void ThrowDivideByZeroException() => RuntimeHost.FailFast(FailFastReason.DivideByZero);
        internal static void ThrowOverflowException() => RuntimeHost.FailFast(FailFastReason.Overflow);
        internal static void ThrowArgumentOutOfRangeException() => RuntimeHost.FailFast(FailFastReason.ArgumentOutOfRange);
        internal static void ThrowArgumentException() => RuntimeHost.FailFast(FailFastReason.Argument);
        internal static void ThrowPlatformNotSupportedException() => RuntimeHost.FailFast(FailFastReason.PlatformNotSupported);
        internal static void ThrowNotImplementedException() => RuntimeHost.FailFast(FailFastReason.NotImplemented);
        internal static void ThrowFeatureBodyRemoved() => RuntimeHost.FailFast(FailFastReason.FeatureRemoved);
        internal static void ThrowInvalidCastException() => RuntimeHost.FailFast(FailFastReason.InvalidCast);
    }
}
