// The AArch64 stubs: what C# cannot say on ARMv8-A at EL1. Assembled at build time by LLVM's assembler
// (llvm-mc -triple=aarch64-pc-windows-msvc -filetype=obj: a COFF ARM64 object, see LlvmStubs.cs), bound in
// C# as [RuntimeImport] externs (kernel/Xtos/Arch/AArch64/Cpu.cs). Arguments in x0-x7, result in x0 (AAPCS64,
// which UEFI and ilc's --targetos:windows code both use). No stub refers to a symbol outside itself: the trap entry
// reaches the kernel's dispatcher through the processor block TPIDR_EL1 points at, and the hand-off stub runs as a
// copy in the hand-off page.

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

// void ArStoreRelease(nuint* location, nuint value): *location = value, observed after every earlier load and
// store of this processor (a lock's release, an owner field's update).
        .globl  ArStoreRelease
        .p2align 4
ArStoreRelease:
        stlr    x1, [x0]
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

// ------------------------------------------------------------------------------------------------
// Memory management.

// ulong ArReadTtbr0() / ArReadTtbr1(): the two halves' table bases (with their ASID fields).
        .globl  ArReadTtbr0
        .p2align 4
ArReadTtbr0:
        mrs     x0, TTBR0_EL1
        ret

        .globl  ArReadTtbr1
        .p2align 4
ArReadTtbr1:
        mrs     x0, TTBR1_EL1
        ret

// void ArInvalidatePage(void* address): the page's translations, for every ASID, on every processor of the inner
// shareable domain (TLBI VAAE1IS takes VA[55:12] whatever the granule). The dsb before it makes the table store
// visible to the walkers first; the dsb after waits for the invalidation to finish everywhere.
        .globl  ArInvalidatePage
        .p2align 4
ArInvalidatePage:
        lsr     x0, x0, #12
        dsb     ishst
        tlbi    vaae1is, x0
        dsb     ish
        isb
        ret

// void ArCleanToPointOfCoherency(void* address, nuint bytes): writes the data cache's lines for the range back to
// memory (dc cvac, line size from CTR_EL0.DminLine), then invalidates the instruction cache: code written as data
// is then fetched as written, even with the MMU and caches off (the hand-off page).
        .globl  ArCleanToPointOfCoherency
        .p2align 4
ArCleanToPointOfCoherency:
        mrs     x3, CTR_EL0
        ubfx    x3, x3, #16, #4
        mov     x2, #4
        lsl     x2, x2, x3
        add     x1, x0, x1
        sub     x3, x2, #1
        bic     x0, x0, x3
1:      dc      cvac, x0
        add     x0, x0, x2
        cmp     x0, x1
        b.lo    1b
        dsb     sy
        ic      iallu
        dsb     sy
        isb
        ret

// ------------------------------------------------------------------------------------------------
// The processor.

// ulong ArReadMpidr(): MPIDR_EL1, whose affinity fields are the processor's id in the firmware's tables.
        .globl  ArReadMpidr
        .p2align 4
ArReadMpidr:
        mrs     x0, MPIDR_EL1
        ret

// ulong ArReadIdAa64Isar0(): ID_AA64ISAR0_EL1 (RNDR in bits 63:60).
        .globl  ArReadIdAa64Isar0
        .p2align 4
ArReadIdAa64Isar0:
        mrs     x0, ID_AA64ISAR0_EL1
        ret

// ulong ArReadRandom(): RNDR (FEAT_RNG; encoded by number, as the base architecture has no name for it), 0 when
// the generator gave none (it clears Z on success).
        .globl  ArReadRandom
        .p2align 4
ArReadRandom:
        mrs     x0, s3_3_c2_c4_0
        csel    x0, x0, xzr, ne
        ret

// void ArWriteProcessorBlock(void* block): TPIDR_EL1, this processor's block.
        .globl  ArWriteProcessorBlock
        .p2align 4
ArWriteProcessorBlock:
        msr     TPIDR_EL1, x0
        ret

// nuint ArProcessorNumber(): the number in this processor's block (its third word), 0 before it has one.
        .globl  ArProcessorNumber
        .p2align 4
ArProcessorNumber:
        mrs     x0, TPIDR_EL1
        cbz     x0, 1f
        ldr     x0, [x0, #16]
1:      ret

// void ArCallOnStack(void* stackTop, void* function, nuint argument): calls function(argument) on that stack,
// then comes back to this one (its address is kept on the new stack).
        .globl  ArCallOnStack
        .p2align 4
ArCallOnStack:
        stp     x29, x30, [sp, #-16]!
        mov     x29, sp
        mov     x9, sp
        mov     sp, x0
        str     x9, [sp, #-16]!
        mov     x0, x2
        blr     x1
        ldr     x9, [sp]
        mov     sp, x9
        ldp     x29, x30, [sp], #16
        ret

// void ArHaltForever(): interrupts masked, wfi for good.
        .globl  ArHaltForever
        .p2align 4
ArHaltForever:
        msr     daifset, #0xf
1:      wfi
        b       1b

// void ArSemihostingExit(nuint status): ends the run under an emulator with semihosting on (QEMU -semihosting):
// SYS_EXIT (0x18) with ADP_Stopped_ApplicationExit (0x20026) and the status, in a block x1 points at. Returns when
// no debugger or emulator takes the call (hlt #0xf000 is then an undefined instruction: the caller must not rely on it).
        .globl  ArSemihostingExit
        .p2align 4
ArSemihostingExit:
        sub     sp, sp, #16
        mov     x1, #0x26
        movk    x1, #0x2, lsl #16
        stp     x1, x0, [sp]
        mov     x1, sp
        mov     w0, #0x18
        hlt     #0xf000
        add     sp, sp, #16
        ret

// ------------------------------------------------------------------------------------------------
// Exceptions. The kernel runs on SP_EL0 (SPSel = 0) and every exception taken to EL1 switches to SP_EL1, a stack of
// its own per processor: a kernel stack overflow into its guard page is then an ordinary data abort, handled on a
// good stack (x86 needs a double fault and an IST stack for that).

// void ArUseThreadStack(void* exceptionStackTop): from SPSel = 1 (as the loader hands over), moves the current
// stack to SP_EL0 and makes exceptionStackTop SP_EL1. Called once per processor, interrupts masked.
        .globl  ArUseThreadStack
        .p2align 4
ArUseThreadStack:
        mov     x1, sp
        msr     SP_EL0, x1
        mov     sp, x0
        msr     spsel, #0
        ret

// void ArSetExceptionStack(void* top): SP_EL1 from now on (the caller runs on SP_EL0).
        .globl  ArSetExceptionStack
        .p2align 4
ArSetExceptionStack:
        mrs     x2, daif
        msr     daifset, #0xf
        msr     spsel, #1
        mov     sp, x0
        msr     spsel, #0
        msr     daif, x2
        ret

// void ArSetVectorBase(void* table): VBAR_EL1.
        .globl  ArSetVectorBase
        .p2align 4
ArSetVectorBase:
        msr     VBAR_EL1, x0
        isb
        ret

// void* ArTrapVectors(): the address of the vector table below.
        .globl  ArTrapVectors
        .p2align 4
ArTrapVectors:
        adr     x0, ArVectorTable
        ret

// The trap frame (kernel/Xtoskrnl/Arch/AArch64/Traps.cs, TrapFrame): x0-x30, SP_EL0, ELR_EL1, SPSR_EL1, ESR_EL1,
// FAR_EL1, FPCR, FPSR, then q0-q31 (ilc's code uses the vector registers, and a resolved fault returns to code that
// had them live): 38 words + 512 bytes = 816, a multiple of 16.
        .equ    FRAME_GENERAL, 0
        .equ    FRAME_SP, 248
        .equ    FRAME_ELR, 256
        .equ    FRAME_ESR, 272
        .equ    FRAME_FPCR, 288
        .equ    FRAME_VECTOR, 304
        .equ    FRAME_BYTES, 816

// One 128-byte entry: room on the exception stack, x0 and x1 saved, the entry's kind (its index: 0-3 current EL
// with SP_EL0, 4-7 current EL with SP_ELx, 8-11 lower EL AArch64, 12-15 lower EL AArch32; synchronous, IRQ, FIQ,
// SError in each group) in x1, then the common part.
        .macro  VECTOR kind
        .p2align 7
        sub     sp, sp, #FRAME_BYTES
        stp     x0, x1, [sp, #FRAME_GENERAL]
        mov     x1, #\kind
        b       ArTrapCommon
        .endm

        .p2align 11
ArVectorTable:
        VECTOR  0
        VECTOR  1
        VECTOR  2
        VECTOR  3
        VECTOR  4
        VECTOR  5
        VECTOR  6
        VECTOR  7
        VECTOR  8
        VECTOR  9
        VECTOR  10
        VECTOR  11
        VECTOR  12
        VECTOR  13
        VECTOR  14
        VECTOR  15

// Saves the rest, calls the dispatcher in this processor's block (its first word) with (frame, kind), restores
// everything it saved (the dispatcher may have changed ELR_EL1, SPSR_EL1, x0-x30), and returns to the interrupted code.
ArTrapCommon:
        stp     x2, x3, [sp, #16]
        stp     x4, x5, [sp, #32]
        stp     x6, x7, [sp, #48]
        stp     x8, x9, [sp, #64]
        stp     x10, x11, [sp, #80]
        stp     x12, x13, [sp, #96]
        stp     x14, x15, [sp, #112]
        stp     x16, x17, [sp, #128]
        stp     x18, x19, [sp, #144]
        stp     x20, x21, [sp, #160]
        stp     x22, x23, [sp, #176]
        stp     x24, x25, [sp, #192]
        stp     x26, x27, [sp, #208]
        stp     x28, x29, [sp, #224]
        mrs     x2, SP_EL0
        stp     x30, x2, [sp, #240]
        mrs     x2, ELR_EL1
        mrs     x3, SPSR_EL1
        stp     x2, x3, [sp, #FRAME_ELR]
        mrs     x2, ESR_EL1
        mrs     x3, FAR_EL1
        stp     x2, x3, [sp, #FRAME_ESR]
        mrs     x2, FPCR
        mrs     x3, FPSR
        stp     x2, x3, [sp, #FRAME_FPCR]
        add     x2, sp, #FRAME_VECTOR
        stp     q0, q1, [x2, #0]
        stp     q2, q3, [x2, #32]
        stp     q4, q5, [x2, #64]
        stp     q6, q7, [x2, #96]
        stp     q8, q9, [x2, #128]
        stp     q10, q11, [x2, #160]
        stp     q12, q13, [x2, #192]
        stp     q14, q15, [x2, #224]
        stp     q16, q17, [x2, #256]
        stp     q18, q19, [x2, #288]
        stp     q20, q21, [x2, #320]
        stp     q22, q23, [x2, #352]
        stp     q24, q25, [x2, #384]
        stp     q26, q27, [x2, #416]
        stp     q28, q29, [x2, #448]
        stp     q30, q31, [x2, #480]
        mov     x0, sp
        mrs     x2, TPIDR_EL1
        ldr     x2, [x2]
        blr     x2
        add     x2, sp, #FRAME_VECTOR
        ldp     q0, q1, [x2, #0]
        ldp     q2, q3, [x2, #32]
        ldp     q4, q5, [x2, #64]
        ldp     q6, q7, [x2, #96]
        ldp     q8, q9, [x2, #128]
        ldp     q10, q11, [x2, #160]
        ldp     q12, q13, [x2, #192]
        ldp     q14, q15, [x2, #224]
        ldp     q16, q17, [x2, #256]
        ldp     q18, q19, [x2, #288]
        ldp     q20, q21, [x2, #320]
        ldp     q22, q23, [x2, #352]
        ldp     q24, q25, [x2, #384]
        ldp     q26, q27, [x2, #416]
        ldp     q28, q29, [x2, #448]
        ldp     q30, q31, [x2, #480]
        ldp     x2, x3, [sp, #FRAME_FPCR]
        msr     FPCR, x2
        msr     FPSR, x3
        ldp     x2, x3, [sp, #FRAME_ELR]
        msr     ELR_EL1, x2
        msr     SPSR_EL1, x3
        ldp     x30, x2, [sp, #240]
        msr     SP_EL0, x2
        ldp     x2, x3, [sp, #16]
        ldp     x4, x5, [sp, #32]
        ldp     x6, x7, [sp, #48]
        ldp     x8, x9, [sp, #64]
        ldp     x10, x11, [sp, #80]
        ldp     x12, x13, [sp, #96]
        ldp     x14, x15, [sp, #112]
        ldp     x16, x17, [sp, #128]
        ldp     x18, x19, [sp, #144]
        ldp     x20, x21, [sp, #160]
        ldp     x22, x23, [sp, #176]
        ldp     x24, x25, [sp, #192]
        ldp     x26, x27, [sp, #208]
        ldp     x28, x29, [sp, #224]
        ldp     x0, x1, [sp, #FRAME_GENERAL]
        add     sp, sp, #FRAME_BYTES
        eret

// ------------------------------------------------------------------------------------------------
// The hand-off page (kernel/Xtos/Arch/AArch64/HandOffLayout.cs): one 4 KiB piece the loader copies whole into the
// hand-off page, identity-mapped in the old tables and the new, and cleans to the point of coherency: the hand-off
// code at 0x000, the parameter block the loader fills at 0x100, the early fault handler at 0x200 and its vector
// table at 0x800. Everything in it is position-independent.
//
// ArHandOff, called as the copy with x0 = the parameter block, never returns: it reads every parameter; where the
// firmware left the loader at EL2, it sets EL1 up (AArch64, nothing trapped, FP and the counter allowed, SCTLR_EL1
// with the MMU and caches off) and drops to it. Then it points VBAR_EL1 at the early vectors (until the kernel
// installs its own, a fault ends the run with a line naming it), turns the MMU and data cache off (the page is the
// same at its physical address), loads MAIR_EL1, TCR_EL1, TTBR0_EL1 and TTBR1_EL1, drops every old translation,
// turns the MMU and caches back on with the kernel's tables, and jumps to the kernel in the high half on the kernel
// stack (SP_EL1) with x0 = the loader block.
        .globl  ArHandOff
        .p2align 12
ArHandOff:
        msr     daifset, #0xf
        ldp     x1, x2, [x0, #0]
        ldp     x3, x4, [x0, #16]
        ldp     x5, x6, [x0, #32]
        ldr     x7, [x0, #48]
        mrs     x10, CurrentEL
        cmp     x10, #8
        b.ne    1f
        // HCR_EL2 first: RW (EL1 is AArch64), E2H clear, so the _EL1 names below reach EL1's registers; no stage 2.
        mov     x10, #(1 << 31)
        msr     HCR_EL2, x10
        isb
        mov     x10, #3
        msr     CNTHCTL_EL2, x10
        msr     CNTVOFF_EL2, xzr
        mov     x10, #0x33FF
        msr     CPTR_EL2, x10
        msr     HSTR_EL2, xzr
        mrs     x10, MIDR_EL1
        msr     VPIDR_EL2, x10
        mrs     x10, MPIDR_EL1
        msr     VMPIDR_EL2, x10
        mov     x10, #(3 << 20)
        msr     CPACR_EL1, x10
        // SCTLR_EL1's RES1 bits (29:28, 23:22, 20, 11) and nothing else: MMU, caches and alignment checks off.
        mov     x10, #0x0800
        movk    x10, #0x30D0, lsl #16
        msr     SCTLR_EL1, x10
        // EL1 with SP_EL1, every exception masked.
        mov     x10, #0x3C5
        msr     SPSR_EL2, x10
        adr     x10, 1f
        msr     ELR_EL2, x10
        eret
1:      adr     x9, ArEarlyVectors
        msr     VBAR_EL1, x9
        mrs     x8, SCTLR_EL1
        bic     x9, x8, #1
        bic     x9, x9, #4
        msr     SCTLR_EL1, x9
        isb
        msr     MAIR_EL1, x6
        msr     TCR_EL1, x7
        msr     TTBR0_EL1, x1
        msr     TTBR1_EL1, x2
        isb
        tlbi    vmalle1
        dsb     nsh
        ic      iallu
        dsb     nsh
        isb
        orr     x8, x8, #1
        orr     x8, x8, #4
        orr     x8, x8, #0x1000
        msr     SCTLR_EL1, x8
        isb
        mov     sp, x4
        mov     x0, x5
        br      x3

// The parameter block (0x100-0x1FF): written by the loader.
        .org    ArHandOff + 0x200

// The early fault handler: "<message the loader wrote>XX at 0xYYYYYYYYYYYYYYYY" on the console (the exception class
// from ESR_EL1, then ELR_EL1), then semihosting SYS_EXIT with the block the loader wrote, then wfi for good. A fault
// inside the handler itself (a bad console mapping) goes straight to the exit. It uses no stack and writes no memory.
ArEarlyFault:
        adr     x9, ArHandOff
        mrs     x11, ELR_EL1
        sub     x11, x11, x9
        cmp     x11, #0x1000
        b.lo    3f
        add     x9, x9, #0x100
        ldr     x10, [x9, #56]
        add     x0, x9, #80
        bl      ArEarlyString
        mrs     x1, ESR_EL1
        lsr     x1, x1, #26
        mov     x2, #2
        bl      ArEarlyHex
        adr     x0, ArEarlyAt
        bl      ArEarlyString
        mrs     x1, ELR_EL1
        mov     x2, #16
        bl      ArEarlyHex
        adr     x0, ArEarlyEnd
        bl      ArEarlyString
3:      adr     x9, ArHandOff
        add     x1, x9, #0x100 + 64
        mov     w0, #0x18
        hlt     #0xf000
4:      wfi
        b       4b

// Writes the zero-terminated string at x0 to the PL011 whose registers are at x10 (none when 0). A UART whose
// transmit FIFO stays full gets each byte after 65536 polls anyway: the handler goes on to its exit, never hangs.
ArEarlyString:
1:      ldrb    w3, [x0], #1
        cbz     w3, 3f
        cbz     x10, 1b
        mov     x12, #0x10000
2:      ldr     w4, [x10, #0x18]
        tbz     w4, #5, 4f
        subs    x12, x12, #1
        b.ne    2b
4:      str     w3, [x10]
        b       1b
3:      ret

// Writes the low x2 hexadecimal digits of x1, most significant first, to the PL011 at x10.
ArEarlyHex:
1:      sub     x2, x2, #1
        lsl     x5, x2, #2
        lsr     x3, x1, x5
        and     x3, x3, #0xF
        add     x4, x3, #'0'
        add     x6, x3, #('A' - 10)
        cmp     x3, #10
        csel    x3, x4, x6, lo
        cbz     x10, 3f
        mov     x12, #0x10000
2:      ldr     w4, [x10, #0x18]
        tbz     w4, #5, 4f
        subs    x12, x12, #1
        b.ne    2b
4:      str     w3, [x10]
3:      cbnz    x2, 1b
        ret

ArEarlyAt:
        .asciz  " at 0x"
ArEarlyEnd:
        .asciz  "\r\n"

// The early vector table: every entry (any exception, from any state) goes to the handler above.
        .org    ArHandOff + 0x800
ArEarlyVectors:
        .rept   16
        .p2align 7
        b       ArEarlyFault
        .endr
        .org    ArHandOff + 0x1000
