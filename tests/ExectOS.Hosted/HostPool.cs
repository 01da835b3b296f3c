using System;
using System.Runtime.InteropServices;
using ExectOS.Diagnostics;
using ExectOS.Memory;

namespace ExectOS.Hosted
{
    /// <summary>
    /// Address space reserved from the host (mmap, no access) to stand for a pool's virtual regions: the
    /// data side of a hosted pool. Pages become readable and writable only when committed, so a pool that
    /// touched a page it had not committed (or a guard page) would fault here as it would in the kernel.
    /// </summary>
    public sealed unsafe class HostRegion : IDisposable
    {
        private const int ProtNone = 0, ProtReadWrite = 3;
        private const int MapPrivate = 0x02, MapAnonymous = 0x20, MapNoReserve = 0x4000;
        private const int MadvDontNeed = 4;

        public byte* Base { get; private set; }
        public ulong Bytes { get; }

        public HostRegion(ulong bytes, bool accessible = false)
        {
            Bytes = bytes;
            void* at = mmap(null, (nuint)bytes, accessible ? ProtReadWrite : ProtNone, MapPrivate | MapAnonymous | MapNoReserve, -1, 0);
            if ((nint)at == -1)
                throw new InvalidOperationException($"mmap of {bytes} bytes failed: errno {Marshal.GetLastPInvokeError()}");
            Base = (byte*)at;
        }

        public void Protect(byte* address, ulong bytes, bool accessible)
        {
            if (!accessible)
                madvise(address, (nuint)bytes, MadvDontNeed);
            if (mprotect(address, (nuint)bytes, accessible ? ProtReadWrite : ProtNone) != 0)
                throw new InvalidOperationException($"mprotect at {(ulong)address:X} failed: errno {Marshal.GetLastPInvokeError()}");
        }

        public void Dispose()
        {
            if (Base != null)
                munmap(Base, (nuint)Bytes);
            Base = null;
        }

        [DllImport("libc", SetLastError = true)]
        private static extern void* mmap(void* address, nuint length, int protection, int flags, int fd, nint offset);

        [DllImport("libc", SetLastError = true)]
        private static extern int mprotect(void* address, nuint length, int protection);

        [DllImport("libc", SetLastError = true)]
        private static extern int madvise(void* address, nuint length, int advice);

        [DllImport("libc", SetLastError = true)]
        private static extern int munmap(void* address, nuint length);
    }

    /// <summary>Committed-page bookkeeping shared by copies of <see cref="HostPages"/>.</summary>
    public sealed class HostPageLedger
    {
        public long Committed;
        public long Commits;
        public long Decommits;
        /// <summary>Pages still allowed to be committed (simulates memory running out).</summary>
        public long Budget = long.MaxValue;
        /// <summary>Whether commits change page protection and are tracked page by page (off for benchmarks: the region is then all accessible).</summary>
        public bool Protect = true;
        /// <summary>Committed pages (virtual addresses), when protecting.</summary>
        public readonly System.Collections.Generic.HashSet<ulong> Pages = new();
    }

    /// <summary>Pool pages from a <see cref="HostRegion"/>: commit makes pages accessible, decommit takes them away.</summary>
    public unsafe struct HostPages : IPoolPages
    {
        public HostRegion Region;
        public HostPageLedger Ledger;
        /// <summary>Host address minus virtual address.</summary>
        public long Displacement;
        public int PageShift;

        public bool Commit(VirtualAddress address, ulong count, bool pageable, ref PoolProblem problem)
        {
            if (Ledger.Budget < (long)count)
                return false;
            if (Ledger.Protect)
            {
                // A page committed twice is refused, as mapping a mapped page is in the kernel.
                for (ulong i = 0; i < count; i++)
                {
                    if (Ledger.Pages.Contains(address.Value + (i << PageShift)))
                        return false;
                }
                for (ulong i = 0; i < count; i++)
                    Ledger.Pages.Add(address.Value + (i << PageShift));
            }
            if (Ledger.Budget != long.MaxValue)
                Ledger.Budget -= (long)count;
            if (Ledger.Protect)
                Region.Protect((byte*)(address.Value + (ulong)Displacement), count << PageShift, true);
            Ledger.Committed += (long)count;
            Ledger.Commits++;
            return true;
        }

        public bool IsCommitted(VirtualAddress address) => !Ledger.Protect || Ledger.Pages.Contains(address.Value & ~((1UL << PageShift) - 1));

        public ulong Decommit(VirtualAddress address, ulong count, bool sparse, ref PoolProblem problem)
        {
            ulong done = count;
            if (Ledger.Protect)
            {
                done = 0;
                for (ulong i = 0; i < count; i++)
                {
                    if (Ledger.Pages.Remove(address.Value + (i << PageShift)))
                        done++;
                    else if (!sparse && problem.IsOk)
                        problem = PoolProblem.Of(MemoryManagementCheck.PoolPageNotCommitted, address.Value + (i << PageShift), count, i);
                }
                Region.Protect((byte*)(address.Value + (ulong)Displacement), count << PageShift, false);
            }
            if (Ledger.Budget != long.MaxValue)
                Ledger.Budget += (long)done;
            Ledger.Committed -= (long)done;
            Ledger.Decommits++;
            return done;
        }
    }

    /// <summary>
    /// A pool on host memory: initial, expansion and special regions laid out one after the other from
    /// <paramref name="virtualBase"/> (addresses as the kernel's layout would give), backed by one host region.
    /// </summary>
    public sealed unsafe class HostPool : IDisposable
    {
        public Pool* Pool;
        public HostRegion Region;
        public HostPages Pages;
        public PoolConfig Config;

        public HostPool(PoolType type, ulong initialPages, ulong expansionPages, ulong specialPages = 0, uint specialTag = 0,
            ulong cookie = 0x5DEECE66D1234567, ulong virtualBase = 0xFFFFFA8040000000, bool protect = true, bool demand = false)
        {
            const int shift = 12;
            ulong total = (initialPages + expansionPages + specialPages) << shift;
            Region = new HostRegion(total, accessible: !protect);
            Config = new PoolConfig
            {
                Type = type,
                PageShift = shift,
                Cookie = cookie,
                InitialStart = new VirtualAddress(virtualBase),
                InitialPages = initialPages,
                ExpansionStart = new VirtualAddress(virtualBase + (initialPages << shift)),
                ExpansionPages = expansionPages,
                SpecialStart = new VirtualAddress(virtualBase + ((initialPages + expansionPages) << shift)),
                SpecialPages = specialPages,
                SpecialTag = specialTag,
                Displacement = (long)((ulong)Region.Base - virtualBase),
                DemandCommit = demand,
            };
            Pool = (Pool*)NativeMemory.AllocZeroed((nuint)sizeof(Pool));
            if (!Pool->Initialize(in Config))
                throw new InvalidOperationException("pool configuration refused");
            Pages = new HostPages { Region = Region, Ledger = new HostPageLedger { Protect = protect }, Displacement = Config.Displacement, PageShift = shift };
        }

        public ref Pool P => ref *Pool;

        public void* Allocate(ulong bytes, uint tag, ulong alignment, out PoolProblem problem) => Pool->Allocate(ref Pages, bytes, tag, alignment, out problem);

        public PoolProblem Free(void* address, uint tag) => Pool->Free(ref Pages, address, tag);

        /// <summary>What the kernel's page fault handler does for a not-present fault at a data address.</summary>
        public PoolFault Touch(void* address, out PoolProblem problem) => Pool->ResolveFault(ref Pages, new VirtualAddress(VirtualOf(address)), out problem);

        /// <summary>The virtual address (as in the kernel) of a data address.</summary>
        public ulong VirtualOf(void* address) => (ulong)address - (ulong)Config.Displacement;

        public void Dispose()
        {
            if (Pool != null)
                NativeMemory.Free(Pool);
            Pool = null;
            Region.Dispose();
        }

        /// <summary>A tag as NT writes them: four characters, the first in the low byte.</summary>
        public static uint Tag(string text)
        {
            uint tag = 0;
            for (int i = 0; i < 4 && i < text.Length; i++)
                tag |= (uint)(byte)text[i] << (8 * i);
            return tag;
        }
    }
}
