namespace ExectOS.Kernel
{
    /// <summary>The x86 exception vectors' names (Intel SDM Vol. 3A, table 6-1), for the trap line.</summary>
    internal static class TrapNames
    {
        internal static string Of(ulong vector) => vector switch
        {
            0 => "#DE divide error",
            1 => "#DB debug",
            2 => "NMI",
            3 => "#BP breakpoint",
            4 => "#OF overflow",
            5 => "#BR bound range",
            6 => "#UD invalid opcode",
            7 => "#NM device not available",
            8 => "#DF double fault",
            10 => "#TS invalid TSS",
            11 => "#NP segment not present",
            12 => "#SS stack fault",
            13 => "#GP general protection",
            14 => "#PF page fault",
            16 => "#MF x87 error",
            17 => "#AC alignment check",
            18 => "#MC machine check",
            19 => "#XM SIMD exception",
            >= 32 => "unexpected interrupt",
            _ => "exception",
        };
    }
}
