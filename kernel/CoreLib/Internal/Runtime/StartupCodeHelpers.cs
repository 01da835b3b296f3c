namespace Internal.Runtime.CompilerHelpers
{
    /// <summary>Start-up work ilc expects the core library to do (ilc also requires this type by name).</summary>
    internal static unsafe class StartupCodeHelpers
    {
        private const int GCStaticRegionSection = 201;
        private const nint Uninitialized = 1;
        private const nint HasPreInitializedData = 2;
        private const nint FlagMask = 3;

        /// <summary>
        /// The GC static region lists, as 32-bit relative pointers, one cell per type with reference statics.
        /// Each cell holds a relative pointer to the MethodTable of its static base, tagged Uninitialized;
        /// we allocate the base object, copy any preinitialised image, and store the object in the cell.
        /// </summary>
        internal static void InitializeStatics(byte* header)
        {
            if (!ModuleHeader.TryGetSection(header, GCStaticRegionSection, out byte* start, out byte* end))
                return;

            for (byte* entry = start; entry < end; entry += sizeof(int))
            {
                nint* cell = (nint*)ReadRelative(entry);
                nint tagged = (nint)ReadRelative(cell);
                if ((tagged & Uninitialized) == 0)
                    continue;

                MethodTable* type = (MethodTable*)(tagged & ~FlagMask);
                byte* instance = ObjectAllocator.AllocateObject(type);
                if ((tagged & HasPreInitializedData) != 0)
                {
                    byte* image = ReadRelative((int*)cell + 1);
                    nuint dataSize = type->BaseSize - 2 * (nuint)sizeof(nint);
                    System.SpanHelpers.Memmove(ref *(instance + sizeof(nint)), ref *image, dataSize);
                }
                *cell = (nint)instance;
            }
        }

        private static byte* ReadRelative(void* address) => (byte*)address + *(int*)address;
    }
}
