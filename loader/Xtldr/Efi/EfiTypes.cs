using System.Runtime.InteropServices;

namespace ExectOS.Loader.Efi
{
    /// <summary>UEFI status codes (UEFI 2.10, appendix D); errors have the top bit set.</summary>
    public static unsafe class EfiStatus
    {
        private static nuint ErrorBit => (nuint)1 << (sizeof(nuint) * 8 - 1);
        public const nuint Success = 0;
        public static nuint LoadError => ErrorBit | 1;
        public static nuint InvalidParameter => ErrorBit | 2;
        public static nuint BufferTooSmall => ErrorBit | 5;
        public static nuint Unsupported => ErrorBit | 3;
        public static nuint OutOfResources => ErrorBit | 9;
        public static nuint NotFound => ErrorBit | 14;
        public static nuint Aborted => ErrorBit | 21;

        public static bool IsError(nuint status) => (status & ErrorBit) != 0;

        /// <summary>The status without its error bit, as the specification numbers it.</summary>
        public static ulong Code(nuint status) => status & ~ErrorBit;
    }

    /// <summary>A UEFI GUID, laid out as EFI_GUID: 16 bytes aligned on 4 (its eight last bytes read as one field, not aligned on 8).</summary>
    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    public struct EfiGuid
    {
        public uint Data1;
        public ushort Data2;
        public ushort Data3;
        public ulong Data4; // eight bytes in memory order

        private EfiGuid(uint d1, ushort d2, ushort d3, byte b0, byte b1, byte b2, byte b3, byte b4, byte b5, byte b6, byte b7)
        {
            Data1 = d1;
            Data2 = d2;
            Data3 = d3;
            Data4 = b0 | (ulong)b1 << 8 | (ulong)b2 << 16 | (ulong)b3 << 24 | (ulong)b4 << 32 | (ulong)b5 << 40 | (ulong)b6 << 48 | (ulong)b7 << 56;
        }

        // Properties, not static fields: a struct static with a constructor would need a class constructor at run time.
        public static EfiGuid LoadedImageProtocol => new EfiGuid(0x5B1B31A1, 0x9562, 0x11D2, 0x8E, 0x3F, 0x00, 0xA0, 0xC9, 0x69, 0x72, 0x3B);
        public static EfiGuid SimpleFileSystemProtocol => new EfiGuid(0x964E5B22, 0x6459, 0x11D2, 0x8E, 0x39, 0x00, 0xA0, 0xC9, 0x69, 0x72, 0x3B);
        public static EfiGuid FileInfo => new EfiGuid(0x09576E92, 0x6D3F, 0x11D2, 0x8E, 0x39, 0x00, 0xA0, 0xC9, 0x69, 0x72, 0x3B);
        /// <summary>EFI_ACPI_TABLE_GUID: the ACPI 2.0+ root pointer (RSDP).</summary>
        public static EfiGuid Acpi20Table => new EfiGuid(0x8868E871, 0xE4F1, 0x11D3, 0xBC, 0x22, 0x00, 0x80, 0xC7, 0x3C, 0x88, 0x81);
        /// <summary>ACPI_TABLE_GUID: the ACPI 1.0 root pointer.</summary>
        public static EfiGuid Acpi10Table => new EfiGuid(0xEB9D2D30, 0x2D88, 0x11D3, 0x9A, 0x16, 0x00, 0x90, 0x27, 0x3F, 0xC1, 0x4D);

        public readonly bool Equals(in EfiGuid other) => Data1 == other.Data1 && Data2 == other.Data2 && Data3 == other.Data3 && Data4 == other.Data4;
    }

    /// <summary>EFI_CONFIGURATION_TABLE: a GUID and the table it names (20 bytes on IA32, 24 on x64).</summary>
    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    public unsafe struct EfiConfigurationTable
    {
        public EfiGuid VendorGuid;
        public void* VendorTable;
    }

    /// <summary>EFI_TABLE_HEADER.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct EfiTableHeader
    {
        public ulong Signature;
        public uint Revision;
        public uint HeaderSize;
        public uint Crc32;
        public uint Reserved;
    }

    /// <summary>EFI_SYSTEM_TABLE.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public unsafe struct EfiSystemTable
    {
        public EfiTableHeader Header;
        public char* FirmwareVendor;
        public uint FirmwareRevision;
        public void* ConsoleInHandle;
        public void* ConIn;
        public void* ConsoleOutHandle;
        public void* ConOut;
        public void* StandardErrorHandle;
        public void* StdErr;
        public void* RuntimeServices;
        public EfiBootServices* BootServices;
        public nuint NumberOfTableEntries;
        public EfiConfigurationTable* ConfigurationTable;
    }

    /// <summary>EFI_MEMORY_TYPE values the loader allocates with.</summary>
    public enum EfiMemoryType : uint
    {
        LoaderCode = 1,
        LoaderData = 2,
    }

    /// <summary>EFI_ALLOCATE_TYPE.</summary>
    public enum EfiAllocateType : uint
    {
        AnyPages = 0,
        MaxAddress = 1,
        Address = 2,
    }
}
