using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ExectOS.Loader.Efi
{
    /// <summary>
    /// EFI_BOOT_SERVICES in table order. Services the loader calls are typed; the rest are placeholders that
    /// keep the offsets right. EFIAPI is cdecl on IA32 and the Microsoft convention on x64, hence [Cdecl].
    /// </summary>
    [StructLayout(LayoutKind.Sequential)]
    public unsafe struct EfiBootServices
    {
        public EfiTableHeader Header;
        public void* RaiseTpl;
        public void* RestoreTpl;
        public delegate* unmanaged[Cdecl]<EfiAllocateType, EfiMemoryType, nuint, ulong*, nuint> AllocatePages;
        public delegate* unmanaged[Cdecl]<ulong, nuint, nuint> FreePages;
        public delegate* unmanaged[Cdecl]<nuint*, void*, nuint*, nuint*, uint*, nuint> GetMemoryMap;
        public delegate* unmanaged[Cdecl]<EfiMemoryType, nuint, void**, nuint> AllocatePool;
        public delegate* unmanaged[Cdecl]<void*, nuint> FreePool;
        public void* CreateEvent;
        public void* SetTimer;
        public void* WaitForEvent;
        public void* SignalEvent;
        public void* CloseEvent;
        public void* CheckEvent;
        public void* InstallProtocolInterface;
        public void* ReinstallProtocolInterface;
        public void* UninstallProtocolInterface;
        public delegate* unmanaged[Cdecl]<void*, EfiGuid*, void**, nuint> HandleProtocol;
        public void* Reserved;
        public void* RegisterProtocolNotify;
        public void* LocateHandle;
        public void* LocateDevicePath;
        public void* InstallConfigurationTable;
        public void* LoadImage;
        public void* StartImage;
        public delegate* unmanaged[Cdecl]<void*, nuint, nuint, char*, nuint> Exit;
        public void* UnloadImage;
        public delegate* unmanaged[Cdecl]<void*, nuint, nuint> ExitBootServices;
        public void* GetNextMonotonicCount;
        public void* Stall;
        public delegate* unmanaged[Cdecl]<nuint, ulong, nuint, char*, nuint> SetWatchdogTimer;
    }
}
