using System;
using System.Runtime.CompilerServices;
using ExectOS.Diagnostics;
using ExectOS.Hardware;
using ExectOS.Memory;
using ExectOS.Text;

namespace ExectOS.Kernel
{
    /// <summary>
    /// The kernel's two pools (see <see cref="Pool"/>): non-paged in the layout's NonPagedPool region growing
    /// into NonPagedExpansion, paged in PagedPool, each with a special-pool range at the end of its last
    /// region. Pages come from the PFN database (<see cref="PoolPages{TMode, TMemory, TCache}"/> on the live
    /// tables). The free-list cookie is RDRAND where the processor has it, else derived from the TSC.
    /// Misuse and corruption end in the pool's bug check; running out returns null.
    /// </summary>
    internal static unsafe class Pools
    {
        /// <summary>Special-pool range: an eighth of the pool's last region, at most this many pages.</summary>
        private const ulong SpecialPagesMax = 4096;

        private static Pool s_nonPaged;
        private static Pool s_paged;
        private static bool s_cookieFromRandom;

        internal static Pool* NonPaged => (Pool*)Unsafe.AsPointer(ref s_nonPaged);

        internal static Pool* Paged => (Pool*)Unsafe.AsPointer(ref s_paged);

        internal static Pool* Of(PoolType type) => type == PoolType.Paged ? Paged : NonPaged;

        internal static void Initialize(LayoutRegion nonPaged, LayoutRegion expansion, LayoutRegion paged, int pageShift, uint specialTag)
        {
            ulong cookie = Cookie(out s_cookieFromRandom);
            ulong expansionPages = expansion.Size >> pageShift, pagedPages = paged.Size >> pageShift;
            ulong nonPagedSpecial = Special(expansionPages), pagedSpecial = Special(pagedPages);
            var config = new PoolConfig
            {
                Type = PoolType.NonPaged,
                PageShift = pageShift,
                Cookie = cookie,
                InitialStart = nonPaged.Start,
                InitialPages = nonPaged.Size >> pageShift,
                ExpansionStart = expansion.Start,
                ExpansionPages = expansionPages - nonPagedSpecial,
                SpecialStart = expansion.Start + ((expansionPages - nonPagedSpecial) << pageShift),
                SpecialPages = nonPagedSpecial,
                SpecialTag = specialTag,
            };
            if (!s_nonPaged.Initialize(in config))
                BugCheck.Raise(MemoryManagementCheck.NonPagedPoolUnusable, nonPaged.Start.Value, nonPaged.Size, expansion.Size);
            config.Type = PoolType.Paged;
            // The paged pool has one region: its first part serves as "initial", nothing as expansion.
            config.Cookie = Mix(cookie);
            config.InitialStart = paged.Start;
            config.InitialPages = pagedPages - pagedSpecial;
            config.ExpansionStart = default;
            config.ExpansionPages = 0;
            config.SpecialStart = paged.Start + ((pagedPages - pagedSpecial) << pageShift);
            config.SpecialPages = pagedSpecial;
            // Big paged allocations are reserved; their pages are committed when first touched.
            config.DemandCommit = true;
            if (!s_paged.Initialize(in config))
                BugCheck.Raise(MemoryManagementCheck.PagedPoolUnusable, paged.Start.Value, paged.Size, 0);

            TextLine line = default;
            line.Append("XTOSKRNL: pools: non-paged at ");
            line.AppendHexPrefixed(nonPaged.Start.Value, 16);
            line.Append(" (");
            line.AppendSize(nonPaged.Size);
            line.Append(" + ");
            line.AppendSize(expansion.Size);
            line.Append(" expansion), paged at ");
            line.AppendHexPrefixed(paged.Start.Value, 16);
            line.Append(" (");
            line.AppendSize(paged.Size);
            line.Append("), cookie from ");
            line.Append(s_cookieFromRandom ? Processor.RandomSource : Processor.CycleCounterName);
            line.Append(", special pool ");
            if (specialTag == 0)
                line.Append("off");
            else
            {
                line.Append("for '");
                AppendTag(ref line, specialTag);
                line.Append('\'');
            }
            KernelConsole.WriteLine(line.AsSpan());
        }

        private static ulong Special(ulong pages)
        {
            ulong special = (pages / 8) & ~1UL;
            return special > SpecialPagesMax ? SpecialPagesMax : special;
        }

        /// <summary>The special-pool bug check for a fault at <paramref name="address"/>, or 0 when it is not special pool.</summary>
        internal static BugCheckCode ClassifyFault(VirtualAddress address)
        {
            BugCheckCode code = s_nonPaged.ClassifySpecialFault(address);
            return code != 0 ? code : s_paged.ClassifySpecialFault(address);
        }

        internal static void Checked(PoolProblem problem)
        {
            if (problem.IsOk)
                return;
            TextLine line = default;
            line.Append("XTOSKRNL: pool: ");
            line.Append(problem.Describe());
            KernelConsole.WriteLine(line.AsSpan());
            BugCheck.Raise(problem.Code, problem.P1, problem.P2, problem.P3, problem.P4);
        }

        /// <summary>Prints one line per tag with live allocations or activity, for both pools.</summary>
        internal static void PrintTags()
        {
            for (int p = 0; p < 2; p++)
            {
                Pool* pool = p == 0 ? NonPaged : Paged;
                for (int i = 0; i <= Pool.TagCapacity; i++)
                {
                    PoolTagStats stats = pool->TagAt(i);
                    if (stats.Tag == 0)
                        continue;
                    TextLine line = default;
                    line.Append("XTOSKRNL: pool tag '");
                    AppendTag(ref line, stats.Tag);
                    line.Append(p == 0 ? "' non-paged: " : "' paged: ");
                    line.AppendDecimal(stats.Allocations);
                    line.Append(" allocations, ");
                    line.AppendDecimal(stats.Frees);
                    line.Append(" frees, ");
                    line.AppendDecimal(stats.BytesInUse);
                    line.Append(" bytes in use");
                    KernelConsole.WriteLine(line.AsSpan());
                }
            }
        }

        internal static void AppendTag(ref TextLine line, uint tag)
        {
            for (int i = 0; i < 4; i++)
            {
                byte c = (byte)(tag >> (8 * i));
                if (c == 0)
                    break;
                line.Append(c >= 0x20 && c < 0x7F ? (char)c : '?');
            }
        }

        /// <summary>A tag from the first four bytes of a boot parameter value, as NT writes tags (first character lowest).</summary>
        internal static uint TagOf(ReadOnlySpan<byte> text)
        {
            uint tag = 0;
            for (int i = 0; i < 4 && i < text.Length; i++)
                tag |= (uint)text[i] << (8 * i);
            return tag;
        }

        private static ulong Cookie(out bool fromRandom)
        {
            fromRandom = false;
            ulong value = 0;
            if (Processor.TryReadRandom(out value))
                fromRandom = true;
            else
            {
                // The cycle counter's low bits at boot vary with firmware timing; mixed with a second read after some
                // work (the gap jitters under emulation and on hardware) and a fixed odd constant.
                ulong first = Processor.ReadCycleCounter();
                ulong spin = first;
                for (int i = 0; i < 64; i++)
                    spin = Mix(spin ^ Processor.ReadCycleCounter());
                value = Mix(first ^ (spin << 17) ^ 0xD1B54A32D192ED03);
            }
            return value == 0 ? 0x9E3779B97F4A7C15 : value;
        }

        /// <summary>SplitMix64's finaliser.</summary>
        private static ulong Mix(ulong x)
        {
            x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9;
            x = (x ^ (x >> 27)) * 0x94D049BB133111EB;
            return x ^ (x >> 31);
        }
    }

    /// <summary>The pools' operations in the running paging mode (pages mapped with its walker).</summary>
    internal static unsafe class Pools<TMode> where TMode : struct, IPagingMode
    {
        /// <summary>
        /// <paramref name="bytes"/> from a pool for <paramref name="tag"/> (16-byte aligned, or to
        /// <paramref name="alignment"/>); null when memory or the pool's regions ran out.
        /// </summary>
        internal static void* Allocate(PoolType type, ulong bytes, uint tag, ulong alignment = 0)
        {
            // Paged pool may fault to commit: never at DISPATCH_LEVEL or above (NT's IRQL_NOT_LESS_OR_EQUAL).
            if (type == PoolType.Paged && Locks.CurrentIrql >= Threading.Irql.Dispatch)
                BugCheck.Raise(BugCheckCode.IrqlNotLessOrEqual, bytes, (ulong)Locks.CurrentIrql, 0, tag);
            // The running processor's own list first, inline; anything it cannot do at once behind one call.
            void* fast = LockedPool<KernelLocks>.TryAllocate(Pools.Of(type), bytes, tag, alignment);
            return fast != null ? fast : AllocateSlow(type, bytes, tag, alignment);
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void* AllocateSlow(PoolType type, ulong bytes, uint tag, ulong alignment)
        {
            var pages = new KernelPoolPages<TMode>();
            void* result = LockedPool<KernelLocks>.Allocate(Pools.Of(type), ref pages, bytes, tag, alignment, out PoolProblem problem);
            Pools.Checked(problem);
            return result;
        }

        /// <summary>
        /// Gives processors 0 to <paramref name="processors"/> - 1 their own lists in both pools (see
        /// <see cref="PoolProcessorCache"/>): one non-paged allocation per pool, tag 'PPrc', made while the boot processor
        /// is alone, before the others start. Until then every pool operation takes the pool's lock.
        /// </summary>
        internal static void AttachProcessorCaches(uint processors)
        {
            const uint Tag = 0x63725050; // "PPrc"
            ulong bytes = Pool.ProcessorCacheBytes(processors);
            for (int p = 0; p < 2; p++)
            {
                void* memory = Allocate(PoolType.NonPaged, bytes, Tag);
                if (memory == null)
                    BugCheck.Raise(MemoryManagementCheck.ProcessorCachesUnavailable, bytes, (ulong)p, 0);
                (p == 0 ? Pools.NonPaged : Pools.Paged)->AttachProcessorCaches(memory, processors);
            }
        }

        /// <summary>Frees what <see cref="Allocate"/> returned; <paramref name="tag"/> must be the allocation's (0: unchecked).</summary>
        internal static void Free(void* address, uint tag)
        {
            Pool* pool = Pools.Paged->Contains(address) ? Pools.Paged : Pools.NonPaged->Contains(address) ? Pools.NonPaged : null;
            if (pool == Pools.Paged && Locks.CurrentIrql >= Threading.Irql.Dispatch)
                BugCheck.Raise(BugCheckCode.IrqlNotLessOrEqual, (ulong)address, (ulong)Locks.CurrentIrql, 1, tag);
            if (pool == null)
                Pools.Checked(PoolProblem.Of(BadPoolCallerCheck.OutsidePool, (ulong)address, 0xFF));
            if (!LockedPool<KernelLocks>.TryFree(pool, address, tag))
                FreeSlow(pool, address, tag);
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void FreeSlow(Pool* pool, void* address, uint tag)
        {
            var pages = new KernelPoolPages<TMode>();
            Pools.Checked(LockedPool<KernelLocks>.Free(pool, ref pages, address, tag));
        }

        /// <summary>Empties both pools' lookaside lists and page caches (the self-test's baseline).</summary>
        internal static void Flush()
        {
            var pages = new KernelPoolPages<TMode>();
            Pools.Checked(LockedPool<KernelLocks>.Flush(Pools.NonPaged, ref pages));
            Pools.Checked(LockedPool<KernelLocks>.Flush(Pools.Paged, ref pages));
        }

        /// <summary>
        /// A not-present page fault in a big paged-pool allocation not touched yet: its page is committed and the
        /// faulting instruction runs again (true). The fault handler runs with interrupts off; the window it maps
        /// through is not in use by anyone it interrupted, since pool code never touches a big allocation's pages.
        /// </summary>
        internal static bool ResolveFault(VirtualAddress address)
        {
            if (!Pools.Paged->Contains((void*)(nuint)address.Value))
                return false;
            var pages = new KernelPoolPages<TMode>();
            PoolFault fault = LockedPool<KernelLocks>.ResolveFault(Pools.Paged, ref pages, address, out PoolProblem problem);
            Pools.Checked(problem);
            if (fault == PoolFault.NoMemory)
            {
                KernelConsole.WriteLine("XTOSKRNL: pool: no page left to commit a paged-pool page on first touch");
                BugCheck.Raise(BugCheckCode.NoPagesAvailable, address.Value, MemoryManager.Pfn->AvailablePages, 0, 0);
            }
            return fault == PoolFault.Committed;
        }
    }

    /// <summary>Pool pages on the live tables: the hyperspace window is taken only when pages are committed or decommitted.</summary>
    internal unsafe struct KernelPoolPages<TMode> : IPoolPages where TMode : struct, IPagingMode
    {
        public bool Commit(VirtualAddress address, ulong count, bool pageable, ref PoolProblem problem)
        {
            var memory = MemoryManager<TMode>.Physical();
            var pages = new PoolPages<TMode, HyperspaceMemory<TMode>, CpuTranslationCache, KernelLocks>(MemoryManager<TMode>.Table, MemoryManager.Pfn, &memory);
            bool done = pages.Commit(address, count, pageable, ref problem);
            memory.Release();
            return done;
        }

        public bool IsCommitted(VirtualAddress address)
        {
            var memory = MemoryManager<TMode>.Physical();
            bool mapped = LockedPfn<KernelLocks>.Translate(MemoryManager.Pfn, ref memory, MemoryManager<TMode>.Table, address, out _);
            memory.Release();
            return mapped;
        }

        public ulong Decommit(VirtualAddress address, ulong count, bool sparse, ref PoolProblem problem)
        {
            var memory = MemoryManager<TMode>.Physical();
            var pages = new PoolPages<TMode, HyperspaceMemory<TMode>, CpuTranslationCache, KernelLocks>(MemoryManager<TMode>.Table, MemoryManager.Pfn, &memory);
            ulong done = pages.Decommit(address, count, sparse, ref problem);
            memory.Release();
            return done;
        }
    }
}
