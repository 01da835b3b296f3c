namespace System.Runtime
{
    /// <summary>Binds an extern method to a native symbol (our stubs) by its exact name.</summary>
    [AttributeUsage(AttributeTargets.Method, Inherited = false)]
    public sealed class RuntimeImportAttribute : Attribute
    {
        public RuntimeImportAttribute(string entry) { EntryPoint = entry; }
        public RuntimeImportAttribute(string dllName, string entry) { DllName = dllName; EntryPoint = entry; }
        public string? DllName { get; }
        public string EntryPoint { get; }
    }

    /// <summary>Exports a method under a native symbol name, in the managed calling convention.</summary>
    [AttributeUsage(AttributeTargets.Method, Inherited = false)]
    public sealed class RuntimeExportAttribute : Attribute
    {
        public RuntimeExportAttribute(string entry) { EntryPoint = entry; }
        public string EntryPoint { get; }
    }
}
