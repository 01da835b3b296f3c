using System.Runtime.InteropServices;

namespace ExectOS.Loader.Efi
{
    /// <summary>EFI_LOADED_IMAGE_PROTOCOL: where the loader itself came from.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public unsafe struct EfiLoadedImageProtocol
    {
        public uint Revision;
        public void* ParentHandle;
        public EfiSystemTable* SystemTable;
        public void* DeviceHandle;
        public void* FilePath;
        public void* Reserved;
        public uint LoadOptionsSize;
        public void* LoadOptions;
        public void* ImageBase;
        public ulong ImageSize;
        public uint ImageCodeType;
        public uint ImageDataType;
        public void* Unload;
    }

    /// <summary>EFI_SIMPLE_FILE_SYSTEM_PROTOCOL.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public unsafe struct EfiSimpleFileSystemProtocol
    {
        public ulong Revision;
        public delegate* unmanaged[Cdecl]<EfiSimpleFileSystemProtocol*, EfiFileProtocol**, nuint> OpenVolume;
    }

    /// <summary>EFI_FILE_PROTOCOL (revision 1 members).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public unsafe struct EfiFileProtocol
    {
        public const ulong ModeRead = 1;

        public ulong Revision;
        public delegate* unmanaged[Cdecl]<EfiFileProtocol*, EfiFileProtocol**, char*, ulong, ulong, nuint> Open;
        public delegate* unmanaged[Cdecl]<EfiFileProtocol*, nuint> Close;
        public void* Delete;
        public delegate* unmanaged[Cdecl]<EfiFileProtocol*, nuint*, void*, nuint> Read;
        public void* Write;
        public void* GetPosition;
        public void* SetPosition;
        public delegate* unmanaged[Cdecl]<EfiFileProtocol*, EfiGuid*, nuint*, void*, nuint> GetInfo;
        public void* SetInfo;
        public void* Flush;
    }

    /// <summary>The fixed head of EFI_FILE_INFO (the file name follows it).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct EfiFileInfo
    {
        public ulong Size;
        public ulong FileSize;
        public ulong PhysicalSize;
    }
}
