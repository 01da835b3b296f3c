namespace ExectOS.Boot
{
    /// <summary>
    /// Constants the loader, the kernel and the host tool (tools/ExectOS.Tool) agree on. Changing one here
    /// means changing its mirror in the tool's BootProtocol: the boot tests fail until both agree.
    /// </summary>
    public static class BootProtocol
    {
        /// <summary>Path of the kernel image on the loader's own volume.</summary>
        public const string KernelPath = "\\EXECTOS\\XTOSKRNL.EXE";

        /// <summary>Optional file holding the kernel's boot parameters (see <see cref="KernelParameters"/>).</summary>
        public const string ParametersPath = "\\EXECTOS\\PARAMS.TXT";

        /// <summary>Every fatal loader message starts with this, so the host can stop the run at once.</summary>
        public const string LoaderErrorPrefix = "XTLDR: error: ";

        /// <summary>The kernel's line naming why it ends the boot, printed before its bug check; the host puts it in the verdict.</summary>
        public const string KernelErrorPrefix = "XTOSKRNL: error: ";

        /// <summary>The kernel's checks passed (QEMU status 33; see Hardware.DebugExit).</summary>
        public const byte KernelPassed = 0x10;

        /// <summary>The kernel bug-checked (QEMU status 35).</summary>
        public const byte KernelFailed = 0x11;
    }
}
