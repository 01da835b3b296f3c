namespace System.Runtime.CompilerServices
{
    /// <summary>Feature names the compiler checks before using newer runtime features.</summary>
    public static class RuntimeFeature
    {
        public const string PortablePdb = nameof(PortablePdb);
        public const string DefaultImplementationsOfInterfaces = nameof(DefaultImplementationsOfInterfaces);
        public const string UnmanagedSignatureCallingConvention = nameof(UnmanagedSignatureCallingConvention);
        public const string CovariantReturnsOfClasses = nameof(CovariantReturnsOfClasses);
        public const string VirtualStaticsInInterfaces = nameof(VirtualStaticsInInterfaces);
        public const string NumericIntPtr = nameof(NumericIntPtr);
        public const string ByRefFields = nameof(ByRefFields);
    }

    /// <summary>Helpers the compiler calls by name.</summary>
    public static class RuntimeHelpers
    {
        public static unsafe int OffsetToStringData => sizeof(nint) + sizeof(int);
    }

    /// <summary>Marks methods whose bodies ilc supplies or expands.</summary>
    [AttributeUsage(AttributeTargets.Class | AttributeTargets.Struct | AttributeTargets.Method | AttributeTargets.Constructor | AttributeTargets.Field, Inherited = false)]
    public sealed class IntrinsicAttribute : Attribute { }

    /// <summary>How a method is implemented or optimized.</summary>
    [AttributeUsage(AttributeTargets.Constructor | AttributeTargets.Method, Inherited = false)]
    public sealed class MethodImplAttribute : Attribute
    {
        public MethodImplAttribute(MethodImplOptions methodImplOptions) { Value = methodImplOptions; }
        public MethodImplOptions Value { get; }
    }

    /// <summary>Flags for <see cref="MethodImplAttribute"/>.</summary>
    [Flags]
    public enum MethodImplOptions
    {
        Unmanaged = 0x0004,
        NoInlining = 0x0008,
        ForwardRef = 0x0010,
        Synchronized = 0x0020,
        NoOptimization = 0x0040,
        PreserveSig = 0x0080,
        AggressiveInlining = 0x0100,
        AggressiveOptimization = 0x0200,
        InternalCall = 0x1000,
    }

    /// <summary>Names an indexer in metadata.</summary>
    [AttributeUsage(AttributeTargets.Property, Inherited = true)]
    public sealed class IndexerNameAttribute : Attribute
    {
        public IndexerNameAttribute(string indexerName) { }
    }

    /// <summary>Marks extension methods.</summary>
    [AttributeUsage(AttributeTargets.Method | AttributeTargets.Class | AttributeTargets.Assembly)]
    public sealed class ExtensionAttribute : Attribute { }

    /// <summary>Marks ref structs.</summary>
    [AttributeUsage(AttributeTargets.Struct)]
    public sealed class IsByRefLikeAttribute : Attribute { }

    /// <summary>Marks readonly structs and in/ref readonly parameters.</summary>
    [AttributeUsage(AttributeTargets.All, Inherited = false)]
    public sealed class IsReadOnlyAttribute : Attribute { }

    /// <summary>Marks unmanaged generic constraints.</summary>
    [AttributeUsage(AttributeTargets.All)]
    public sealed class IsUnmanagedAttribute : Attribute { }

    /// <summary>Modifier the compiler puts on volatile fields.</summary>
    public static class IsVolatile { }

    /// <summary>Marks init-only setters.</summary>
    public static class IsExternalInit { }

    /// <summary>Marks code the compiler generated.</summary>
    [AttributeUsage(AttributeTargets.All, Inherited = true)]
    public sealed class CompilerGeneratedAttribute : Attribute { }

    /// <summary>A struct holding a fixed-size buffer field.</summary>
    [AttributeUsage(AttributeTargets.Struct)]
    public sealed class UnsafeValueTypeAttribute : Attribute { }

    /// <summary>Describes a fixed-size buffer field.</summary>
    [AttributeUsage(AttributeTargets.Field, Inherited = false)]
    public sealed class FixedBufferAttribute : Attribute
    {
        public FixedBufferAttribute(Type elementType, int length) { }
    }

    /// <summary>Repeats a struct's single field Length times.</summary>
    [AttributeUsage(AttributeTargets.Struct, AllowMultiple = false)]
    public sealed class InlineArrayAttribute : Attribute
    {
        public InlineArrayAttribute(int length) { Length = length; }
        public int Length { get; }
    }

    /// <summary>Tells older compilers a type needs a feature they lack.</summary>
    [AttributeUsage(AttributeTargets.All, AllowMultiple = true, Inherited = false)]
    public sealed class CompilerFeatureRequiredAttribute : Attribute
    {
        public CompilerFeatureRequiredAttribute(string featureName) { }
        public bool IsOptional { get; set; }
    }

    /// <summary>Unmanaged calling convention markers for function pointers.</summary>
    public class CallConvCdecl { }

    /// <summary>See <see cref="CallConvCdecl"/>.</summary>
    public class CallConvStdcall { }

    /// <summary>See <see cref="CallConvCdecl"/>.</summary>
    public class CallConvFastcall { }

    /// <summary>See <see cref="CallConvCdecl"/>.</summary>
    public class CallConvThiscall { }

    /// <summary>See <see cref="CallConvCdecl"/>.</summary>
    public class CallConvSuppressGCTransition { }
}
