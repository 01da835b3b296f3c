namespace ExectOS.Kernel
{
    /// <summary>The AArch64 exceptions' names (ESR_EL1 exception classes, Arm ARM D17.2.37), for the trap line.</summary>
    internal static class TrapNames
    {
        /// <summary>The name for vector-table entry <paramref name="kind"/> (0-15) with exception class <paramref name="exceptionClass"/>.</summary>
        internal static string Of(ulong kind, ulong exceptionClass)
        {
            switch (kind & 3)
            {
                case 1:
                    return "unexpected IRQ";
                case 2:
                    return "unexpected FIQ";
                case 3:
                    return "SError (asynchronous abort)";
            }
            return exceptionClass switch
            {
                0x00 => "unknown reason (an undefined instruction)",
                0x01 => "trapped wfi/wfe",
                0x07 => "trapped floating-point or SIMD access",
                0x0E => "illegal execution state",
                0x15 => "svc",
                0x18 => "trapped system register access",
                0x20 => "instruction abort from a lower level",
                0x21 => "instruction abort",
                0x22 => "PC alignment fault",
                0x24 => "data abort from a lower level",
                0x25 => "data abort",
                0x26 => "SP alignment fault",
                0x2C => "floating-point exception",
                0x30 or 0x31 => "breakpoint",
                0x32 or 0x33 => "software step",
                0x34 or 0x35 => "watchpoint",
                0x3C => "brk",
                _ => "exception",
            };
        }
    }
}
