// The AArch64 stubs: what C# cannot say on ARMv8-A at EL1. Assembled at build time by LLVM's assembler
// (llvm-mc -triple=aarch64-pc-windows-msvc -filetype=obj: a COFF ARM64 object, see LlvmStubs.cs), bound in
// C# as [RuntimeImport] externs (kernel/Xtos/Arch/AArch64/Cpu.cs). Arguments in x0-x7, result in x0 (AAPCS64,
// which UEFI and ilc's --targetos:windows code both use). Only what the loader's first boot needs so far.

        .text

// nuint ArCompareExchange(nuint* location, nuint value, nuint comparand): the old value. A full barrier, as
// lock cmpxchg is on x86 (the locks' code is written for that): acquire-release exclusives, then dmb ish.
// ARMv8.0 exclusives rather than LSE's casal: cortex-a72 has no LSE.
        .globl  ArCompareExchange
        .p2align 4
ArCompareExchange:
1:      ldaxr   x3, [x0]
        cmp     x3, x2
        b.ne    2f
        stlxr   w4, x1, [x0]
        cbnz    w4, 1b
        dmb     ish
        mov     x0, x3
        ret
2:      clrex
        dmb     ish
        mov     x0, x3
        ret

// nuint ArExchange(nuint* location, nuint value): the old value; a full barrier.
        .globl  ArExchange
        .p2align 4
ArExchange:
1:      ldaxr   x2, [x0]
        stlxr   w3, x1, [x0]
        cbnz    w3, 1b
        dmb     ish
        mov     x0, x2
        ret

// void ArPause(): the spin-wait hint.
        .globl  ArPause
        .p2align 4
ArPause:
        yield
        ret

// void ArDisableInterrupts() / ArEnableInterrupts(): mask or unmask IRQ and FIQ (PSTATE.I, PSTATE.F).
        .globl  ArDisableInterrupts
        .p2align 4
ArDisableInterrupts:
        msr     daifset, #3
        ret

        .globl  ArEnableInterrupts
        .p2align 4
ArEnableInterrupts:
        msr     daifclr, #3
        ret

// void ArHalt(): wait for an interrupt (wfi wakes on a pending one even when it is masked).
        .globl  ArHalt
        .p2align 4
ArHalt:
        dsb     sy
        wfi
        ret

// void ArWaitForInterrupt(): sleep until an interrupt, then unmask so it is taken; returns with interrupts on
// (as x86's sti; hlt does).
        .globl  ArWaitForInterrupt
        .p2align 4
ArWaitForInterrupt:
        dsb     sy
        wfi
        msr     daifclr, #3
        ret

// ulong ArReadIdAa64Mmfr0(): ID_AA64MMFR0_EL1, the memory-model features the paging descriptors probe (TGran4,
// TGran16, TGran64, PARange).
        .globl  ArReadIdAa64Mmfr0
        .p2align 4
ArReadIdAa64Mmfr0:
        mrs     x0, ID_AA64MMFR0_EL1
        ret

// nuint ArReadCurrentEl(): CurrentEL (the exception level in bits 3:2).
        .globl  ArReadCurrentEl
        .p2align 4
ArReadCurrentEl:
        mrs     x0, CurrentEL
        ret

// ulong ArReadCounter(): the virtual count (CNTVCT_EL0), after an isb so it is not read early.
        .globl  ArReadCounter
        .p2align 4
ArReadCounter:
        isb
        mrs     x0, CNTVCT_EL0
        ret

// uint ArRead32(void* address) / void ArWrite32(void* address, uint value): one 32-bit device access each, which
// the compiler may neither merge, split, hoist nor drop (the PL011 UART's registers).
        .globl  ArRead32
        .p2align 4
ArRead32:
        ldr     w0, [x0]
        ret

        .globl  ArWrite32
        .p2align 4
ArWrite32:
        str     w1, [x0]
        ret

// The reference-store helpers ilc's arm64 code calls (its own convention, not AAPCS64: destination in x14,
// reference in x15, x14 advanced by 8 on return; the by-reference copy reads through x13 and advances it too).
// Without a garbage collector there is no card table to mark, so each is the store alone, a store-release as the
// runtime's own heap store is (a reference is published only after the object's fields); they keep every other
// register.
        .globl  RhpAssignRefArm64
        .p2align 4
RhpAssignRefArm64:
        stlr    x15, [x14]
        add     x14, x14, #8
        ret

        .globl  RhpCheckedAssignRefArm64
        .p2align 4
RhpCheckedAssignRefArm64:
        stlr    x15, [x14]
        add     x14, x14, #8
        ret

        .globl  RhpByRefAssignRefArm64
        .p2align 4
RhpByRefAssignRefArm64:
        ldr     x15, [x13], #8
        stlr    x15, [x14]
        add     x14, x14, #8
        ret
