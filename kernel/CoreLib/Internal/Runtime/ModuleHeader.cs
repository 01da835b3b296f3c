using System.Runtime;
using System.Runtime.CompilerServices;

namespace Internal.Runtime
{
    /// <summary>ilc's per-module header (<c>__ReadyToRunHeader</c>): a signature, then a table of section ranges.</summary>
    internal static unsafe class ModuleHeader
    {
        private const uint Signature = 0x00525452; // "RTR"
        private const uint HasEndPointer = 1;

        // The symbol is data, not code: only its address is used.
        [RuntimeImport("__ReadyToRunHeader")]
        [MethodImpl(MethodImplOptions.InternalCall)]
        private static extern void ReadyToRunHeaderSymbol();

        internal static byte* Get() => (byte*)(delegate*<void>)&ReadyToRunHeaderSymbol;

        /// <summary>Finds section <paramref name="sectionId"/>; false when the module has none.</summary>
        internal static bool TryGetSection(byte* header, int sectionId, out byte* start, out byte* end)
        {
            start = null;
            end = null;
            if (*(uint*)header != Signature)
                RuntimeHost.FailFast(FailFastReason.BadModuleHeader, *(uint*)header);

            ushort count = *(ushort*)(header + 12);
            byte entrySize = header[14];
            byte* row = header + 16;
            for (int i = 0; i < count; i++, row += entrySize)
            {
                if (*(int*)row != sectionId)
                    continue;
                if ((*(uint*)(row + 4) & HasEndPointer) == 0)
                    RuntimeHost.FailFast(FailFastReason.BadModuleHeader, (nuint)sectionId);
                start = *(byte**)(row + 8);
                end = *(byte**)(row + 8 + sizeof(nint));
                return true;
            }
            return false;
        }
    }
}
