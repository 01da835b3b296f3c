using Internal.Runtime;

namespace System
{
    /// <summary>The root of every reference type; its only state is the MethodTable pointer ilc lays out first.</summary>
    public unsafe class Object
    {
        internal MethodTable* m_pMethodTable;

        public Object() { }

        internal MethodTable* MethodTable => m_pMethodTable;
    }

    /// <summary>Base of every value type.</summary>
    public abstract class ValueType { }

    /// <summary>Base of every enum.</summary>
    public abstract class Enum : ValueType { }

    /// <summary>The return type of methods that return nothing.</summary>
    public struct Void { }

    /// <summary>Metadata-only type: exists so attributes that take a type compile; typeof is unsupported.</summary>
    public abstract class Type { }

    // The JIT asks for this class by name when it compiles some call sites; no instance is ever made.
    internal sealed class RuntimeType : Type { }

    /// <summary>Delegates exist only so the compiler can describe function pointers' metadata.</summary>
    public abstract class Delegate { }

    /// <summary>See <see cref="Delegate"/>.</summary>
    public abstract class MulticastDelegate : Delegate { }

    /// <summary>Handle to a type's runtime data (a MethodTable pointer).</summary>
    public struct RuntimeTypeHandle { private IntPtr _value; }

    /// <summary>Handle to a method's runtime data.</summary>
    public struct RuntimeMethodHandle { private IntPtr _value; }

    /// <summary>Handle to a field's runtime data.</summary>
    public struct RuntimeFieldHandle { private IntPtr _value; }

    /// <summary>A value type that may be absent.</summary>
    public struct Nullable<T> where T : struct
    {
        private readonly bool _hasValue;
        private readonly T _value;

        public Nullable(T value) { _hasValue = true; _value = value; }

        public readonly bool HasValue => _hasValue;

        public readonly T GetValueOrDefault() => _value;

        public readonly T GetValueOrDefault(T defaultValue) => _hasValue ? _value : defaultValue;

        public static implicit operator Nullable<T>(T value) => new Nullable<T>(value);
    }
}
