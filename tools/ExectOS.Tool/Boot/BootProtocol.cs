namespace ExectOS.Tool.Boot;

/// <summary>How the guest tells the host how a run ended; the kernel and loader mirror these values.</summary>
public static class BootProtocol
{
    /// <summary>I/O port of QEMU's isa-debug-exit device (the -device line uses it too).</summary>
    public const ushort DebugExitPort = 0xF4;

    /// <summary>Width in bytes of the isa-debug-exit window.</summary>
    public const int DebugExitPortSize = 0x04;

    /// <summary>Value the kernel writes to <see cref="DebugExitPort"/> when every check passed.</summary>
    public const byte KernelSuccess = 0x10;

    /// <summary>Value the kernel writes after printing its STOP line.</summary>
    public const byte KernelBugCheck = 0x11;

    /// <summary>QEMU turns a value v written to the debug-exit port into exit status 2v+1.</summary>
    public static int QemuExitStatus(byte value) => (value << 1) | 1;

    /// <summary>Line prefix of a fatal loader error; the loader then returns to the firmware.</summary>
    public const string LoaderErrorPrefix = "XTLDR: error: ";

    /// <summary>Line prefix of the kernel's reason for ending the boot (a bad boot parameter); a bug check follows.</summary>
    public const string KernelErrorPrefix = "XTOSKRNL: error: ";

    /// <summary>Start of the kernel's bug-check line:
    /// <c>*** STOP: 0x&lt;8 hex&gt; (0x&lt;16 hex&gt;, 0x&lt;16 hex&gt;, 0x&lt;16 hex&gt;, 0x&lt;16 hex&gt;) NAME</c>.</summary>
    public const string BugCheckMarker = "*** STOP: ";

    /// <summary>Firmware-relative path of the kernel image on the boot volume.</summary>
    public const string KernelVolumePath = "EXECTOS/XTOSKRNL.EXE";

    /// <summary>Firmware-relative path of the optional kernel parameter file (one line of printable ASCII).</summary>
    public const string ParametersVolumePath = "EXECTOS/PARAMS.TXT";

    /// <summary>Name of the kernel image in the build output.</summary>
    public const string KernelImageName = "xtoskrnl.exe";
}
