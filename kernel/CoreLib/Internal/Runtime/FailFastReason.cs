namespace Internal.Runtime
{
    /// <summary>Why freestanding code stopped: the host (loader or kernel) reports it and never returns (the kernel: KMODE_EXCEPTION_NOT_HANDLED, parameter 1).</summary>
    public enum FailFastReason
    {
        /// <summary>An object was allocated before the image installed its allocation hook (2: bytes).</summary>
        NoHost = 1,
        /// <summary>The image's allocation hook had no memory for an object (2: bytes).</summary>
        OutOfMemory = 2,
        /// <summary>An array or span index was out of bounds.</summary>
        IndexOutOfRange = 3,
        /// <summary>A null reference was dereferenced where the compiler checks.</summary>
        NullReference = 4,
        /// <summary>An integer division by zero.</summary>
        DivideByZero = 5,
        /// <summary>A checked conversion or arithmetic overflowed, or an array length was negative (2: the length).</summary>
        Overflow = 6,
        /// <summary>A cast to a type the object is not.</summary>
        InvalidCast = 7,
        /// <summary>An argument was out of range (where .NET throws ArgumentOutOfRangeException).</summary>
        ArgumentOutOfRange = 8,
        /// <summary>An argument was invalid (where .NET throws ArgumentException).</summary>
        Argument = 9,
        /// <summary>Code reached a path .NET reserves for unsupported platforms.</summary>
        PlatformNotSupported = 10,
        /// <summary>Code reached a path that is not implemented.</summary>
        NotImplemented = 11,
        /// <summary>Code reached a method body ilc removed as an unsupported feature.</summary>
        FeatureRemoved = 12,
        /// <summary>Code needed a runtime feature the core library does not have (interface dispatch, generic casts ...).</summary>
        UnsupportedRuntimeFeature = 13,
        /// <summary>The image's module header is not one ilc writes (2: its signature or the section asked for).</summary>
        BadModuleHeader = 14,
        /// <summary>ilc's generated code asked to fail fast.</summary>
        CompilerFailFast = 15,
    }
}
