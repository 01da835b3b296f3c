using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using ExectOS.Boot;
using ExectOS.Loader.Efi;
using ExectOS.Text;
using Internal.Runtime;

namespace ExectOS.Loader
{
    /// <summary>XTLDR's entry point: read, check and load the kernel, then hand over to it.</summary>
    internal static unsafe class LoaderMain
    {
        private static void* s_imageHandle;
        private static EfiSystemTable* s_systemTable;

        [UnmanagedCallersOnly(EntryPoint = "EfiMain", CallConvs = new[] { typeof(CallConvCdecl) })]
        private static nuint EfiMain(void* imageHandle, EfiSystemTable* systemTable)
        {
            s_imageHandle = imageHandle;
            s_systemTable = systemTable;
            RuntimeHost.Initialize(&AllocateFromPool, &FailFast);
            LoaderConsole.Initialize();
            PrintBanner(systemTable);

            EfiBootServices* bs = systemTable->BootServices;
            // The firmware's five-minute watchdog would reset a slow boot; the kernel owns the machine from here.
            bs->SetWatchdogTimer(0, 0, 0, null);

            nuint status = KernelImage.Load(imageHandle, bs, out LoadedKernel kernel);
            if (EfiStatus.IsError(status))
                return status;

            return HandOff.Start(imageHandle, systemTable, in kernel);
        }

        private static void PrintBanner(EfiSystemTable* systemTable)
        {
            TextLine line = default;
            Banner.Append(ref line, "XTLDR: ExectOS boot loader", BuildInfo.Version, BuildInfo.Architecture, BuildInfo.Configuration, BuildInfo.Commit);
            line.Append("); firmware ");
            for (char* c = systemTable->FirmwareVendor; c != null && *c != 0 && line.Length < 100; c++)
                line.Append(*c);
            line.Append(" rev ");
            line.AppendHexPrefixed(systemTable->FirmwareRevision, 8);
            LoaderConsole.WriteLine(line.AsSpan());
        }

        private static void* AllocateFromPool(nuint size)
        {
            if (HandOff.BootServicesExited)
                return null;
            void* memory;
            nuint status = s_systemTable->BootServices->AllocatePool(EfiMemoryType.LoaderData, size, &memory);
            return EfiStatus.IsError(status) ? null : memory;
        }

        /// <summary>A failed run-time check in the loader: report it and leave to the firmware (or stop, once it is gone).</summary>
        private static void FailFast(FailFastReason reason, nuint detail)
        {
            TextLine line = default;
            line.Append("internal failure: run-time check ");
            line.AppendDecimal((ulong)reason);
            line.Append(" failed (detail ");
            line.AppendHexPrefixed(detail, 1);
            line.Append(')');
            LoaderConsole.Error(line.AsSpan());
            if (!HandOff.BootServicesExited)
                s_systemTable->BootServices->Exit(s_imageHandle, EfiStatus.Aborted, 0, null);
            Hardware.Processor.HaltForever();
        }
    }
}
