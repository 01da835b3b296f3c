using System;
using ExectOS.Memory;

namespace ExectOS.Boot
{
    /// <summary>What a walk of committed tables found: pages mapped, leaf entries and tables visited.</summary>
    public struct PlanCensus
    {
        public ulong Pages;
        public ulong Leaves;
        public int Mappings;
    }

    /// <summary>
    /// Turns a mapping plan into page tables with the generated walker (the loader), and proves that
    /// live tables hold exactly the plan (the kernel, and the hosted tests): every planned page at its
    /// frame with its protection, no page outside the plan. Plans are W^X, so tables that match one are
    /// too, wherever the mode can express no-execute.
    /// </summary>
    public static unsafe class PlanTables
    {
        private const PageProtection Compared = PageProtection.Writable | PageProtection.Executable | PageProtection.User | PageProtection.Device;

        /// <summary>Maps every mapping of <paramref name="plan"/> with base pages; <paramref name="failed"/> names the one that could not be.</summary>
        public static MapStatus Commit<TMode, TMemory, TAllocator>(ref TMemory memory, ref TAllocator allocator, PageTable<TMode> table, ReadOnlySpan<Mapping> plan, out int failed)
            where TMode : struct, IPagingMode
            where TMemory : struct, IPhysicalMemory
            where TAllocator : struct, IFrameAllocator
        {
            int leaf = TMode.LevelCount - 1;
            for (failed = 0; failed < plan.Length; failed++)
            {
                Mapping mapping = plan[failed];
                if (!mapping.HasOwnEntries)
                    continue;
                MapStatus status = table.MapRange(ref memory, ref allocator, new VirtualAddress(mapping.VirtualBase), new PhysicalAddress(mapping.PhysicalBase),
                    mapping.PageCount, leaf, mapping.Protection, out _);
                if (status != MapStatus.Done)
                    return status;
            }
            failed = -1;
            return MapStatus.Done;
        }

        /// <summary>Walks <paramref name="table"/> and matches every page against <paramref name="plan"/> (sorted, as plans are).</summary>
        public static MappingProblem Verify<TMode, TMemory>(ref TMemory memory, PageTable<TMode> table, ReadOnlySpan<Mapping> plan, out PlanCensus census)
            where TMode : struct, IPagingMode
            where TMemory : struct, IPhysicalMemory
        {
            census = default;
            for (int i = 0; i < plan.Length; i++)
            {
                if (plan[i].HasOwnEntries)
                    continue;
                if (TMode.SelfMapIndex < 0 || plan[i].VirtualBase != SelfMap<TMode>.Base.Value || plan[i].PhysicalBase != table.Root.Value)
                    return MappingProblem.Of(MappingError.SelfMapMismatch, MappingKind.SelfMap, detail: plan[i].VirtualBase);
                if (!table.HasSelfMap(ref memory))
                    return MappingProblem.Of(MappingError.SelfMapMismatch, MappingKind.SelfMap, detail: table.Root.Value);
            }

            fixed (Mapping* first = plan)
            {
                var matcher = new Matcher<TMode> { Plan = first, Count = plan.Length };
                matcher.Skip();
                table.VisitPages(ref memory, ref matcher);
                if (matcher.Problem.IsOk && matcher.Index < matcher.Count)
                    matcher.Problem = MappingProblem.Of(MappingError.PageMissing, first[matcher.Index].Kind,
                        detail: first[matcher.Index].VirtualBase + (matcher.Matched << TMode.PageShift));
                census = matcher.Census;
                return matcher.Problem;
            }
        }

        /// <summary>Follows the plan as the walk reports pages in ascending order.</summary>
        private struct Matcher<TMode> : IPageVisitor where TMode : struct, IPagingMode
        {
            public Mapping* Plan;
            public int Count;
            public int Index;
            public ulong Matched;
            public MappingProblem Problem;
            public PlanCensus Census;

            /// <summary>Moves past the self-map (its pages are the tables, not entries of their own).</summary>
            public void Skip()
            {
                while (Index < Count && !Plan[Index].HasOwnEntries)
                    Index++;
            }

            public bool Visit(VirtualAddress address, PhysicalAddress frame, int level, PageProtection protection)
            {
                Census.Leaves++;
                ulong pages = 1UL << (TMode.LevelShift(level) - TMode.PageShift);
                if (Index >= Count)
                    return Fail(MappingError.UnplannedPage, address.Value);
                Mapping mapping = Plan[Index];
                ulong offset = Matched << TMode.PageShift;
                if (address.Value != mapping.VirtualBase + offset)
                    return Fail(address.Value < mapping.VirtualBase + offset ? MappingError.UnplannedPage : MappingError.PageMissing,
                        address.Value < mapping.VirtualBase + offset ? address.Value : mapping.VirtualBase + offset);
                if (frame.Value != mapping.PhysicalBase + offset || pages > mapping.PageCount - Matched)
                    return Fail(MappingError.WrongFrame, address.Value);
                // Compared with what the mode can express of the plan (2-level i686 has no no-execute bit).
                PageProtection expressible = TMode.Protection(level, TMode.MakePage(level, frame, mapping.Protection));
                if ((protection & Compared) != (expressible & Compared))
                    return Fail((protection & (PageProtection.Writable | PageProtection.Executable)) == (PageProtection.Writable | PageProtection.Executable) ? MappingError.WritableAndExecutable : MappingError.WrongProtection, address.Value);
                Matched += pages;
                Census.Pages += pages;
                if (Matched == mapping.PageCount)
                {
                    Census.Mappings++;
                    Index++;
                    Matched = 0;
                    Skip();
                }
                return true;
            }

            private bool Fail(MappingError error, ulong detail)
            {
                Problem = MappingProblem.Of(error, Index < Count ? Plan[Index].Kind : MappingKind.None, detail: detail);
                return false;
            }
        }
    }
}
