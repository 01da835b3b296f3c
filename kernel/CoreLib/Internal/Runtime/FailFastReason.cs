namespace Internal.Runtime
{
    /// <summary>Why freestanding code stopped: the host (loader or kernel) reports it and never returns.</summary>
    public enum FailFastReason
    {
        NoHost = 1,
        OutOfMemory = 2,
        IndexOutOfRange = 3,
        NullReference = 4,
        DivideByZero = 5,
        Overflow = 6,
        InvalidCast = 7,
        ArgumentOutOfRange = 8,
        Argument = 9,
        PlatformNotSupported = 10,
        NotImplemented = 11,
        FeatureRemoved = 12,
        UnsupportedRuntimeFeature = 13,
        BadModuleHeader = 14,
        CompilerFailFast = 15,
    }
}
