using ExectOS.Boot;
using ExectOS.Diagnostics;
using ExectOS.Hardware;
using ExectOS.Text;
using Internal.Runtime;

namespace ExectOS.Kernel
{
    /// <summary>Stops the system on a broken invariant: prints the code and four parameters on COM1, then ends the run as failed.</summary>
    public static class BugCheck
    {
        /// <summary>Codes and what their parameters mean are in <see cref="BugCheckCodes"/>.</summary>
        public static void Raise(BugCheckCode code, ulong p1, ulong p2, ulong p3, ulong p4)
        {
            Processor.DisableInterrupts();
            TextLine line = default;
            line.Append("*** STOP: ");
            line.AppendHexPrefixed((uint)code, 8);
            line.Append(" (");
            line.AppendHexPrefixed(p1, 16);
            line.Append(", ");
            line.AppendHexPrefixed(p2, 16);
            line.Append(", ");
            line.AppendHexPrefixed(p3, 16);
            line.Append(", ");
            line.AppendHexPrefixed(p4, 16);
            line.Append(") ");
            line.Append(BugCheckCodes.Name(code));
            KernelConsole.WriteLine(line.AsSpan());
            line.Clear();
            line.Append("    ");
            line.Append(BugCheckCodes.Description(code));
            KernelConsole.WriteLine(line.AsSpan());
            DebugExit.Exit(BootProtocol.KernelFailed);
            Processor.HaltForever();
        }

        /// <summary>MEMORY_MANAGEMENT (0x1A) with <paramref name="check"/> as parameter 1.</summary>
        public static void Raise(MemoryManagementCheck check, ulong p2, ulong p3, ulong p4)
            => Raise(BugCheckCode.MemoryManagement, (ulong)check, p2, p3, p4);

        /// <summary>The core library's fail-fast (failed bounds check, division by zero ...): parameter 1 says which.</summary>
        internal static void FromFailFast(FailFastReason reason, nuint detail)
            => Raise(BugCheckCode.KmodeExceptionNotHandled, (ulong)reason, detail, 0, 0);
    }
}
