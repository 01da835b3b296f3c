namespace ExectOS.Hardware
{
    /// <summary>
    /// How a run under QEMU ends with a verdict (architecture contract): AArch64 has no isa-debug-exit, so the kernel
    /// makes a semihosting SYS_EXIT call, which QEMU (-semihosting-config enable=on) ends with the status given. The
    /// status is 2v+1, as x86's device gives, so the host reads both the same way. Without semihosting the call is an
    /// undefined instruction and the caller goes on to halt.
    /// </summary>
    public static class DebugExit
    {
        public static void Exit(byte value) => Cpu.SemihostingExit((nuint)(2u * value + 1));
    }
}
