using System;
using ExectOS.Boot;
using ExectOS.Memory;
using ExectOS.Text;

namespace ExectOS.Kernel
{
    /// <summary>
    /// The boot's figures in a machine-readable form on the console, for <c>exectos boot --report</c>, after the human
    /// lines (which stay as they are). Format version 1, one record a line:
    /// <c>XTOSKRNL-DATA v1 &lt;record&gt; key=value ...</c>; values never hold spaces; numbers are decimal, addresses
    /// hexadecimal with 0x; a pool tag's characters other than letters, digits, '_', '.' and '-' are written %XX.
    /// Records, in this order: <c>begin</c> (arch, mode, levels, layout, page-bytes), one <c>range</c> per memory-map
    /// descriptor (type, base, pages in 4 KiB firmware pages, flags), one <c>region</c> per layout region (name,
    /// start, bytes), <c>pages</c> per PFN state (state, count), <c>page-use</c> per use of active and reserved frames
    /// (state, use, count), <c>pool</c> per pool (pool, start, committed-pages, bytes-in-use, allocations, frees,
    /// big-allocations), <c>pool-tag</c> per tag with activity (pool, tag, allocations, frees, bytes-in-use),
    /// <c>stack</c> per stack kind with any (kind, live, committed, reserved, cached, deepest-bytes), and last
    /// <c>end records=&lt;n&gt;</c> counting the records before it. A reader refuses another version and a list
    /// without its end. The README's "Boot report" section has the same list.
    /// </summary>
    internal static unsafe class BootData
    {
        internal const string Prefix = "XTOSKRNL-DATA v1 ";

        private static ulong s_records;

        internal static void Print<TMode, TLayout>(LoaderBlock* block)
            where TMode : struct, IPagingMode
            where TLayout : struct, ILayout
        {
            s_records = 0;
            TextLine line = Begin("begin");
            Text(ref line, "arch", BuildInfo.Architecture);
            Text(ref line, "mode", TMode.Name);
            Number(ref line, "levels", (ulong)TMode.LevelCount);
            Text(ref line, "layout", TLayout.Name);
            Number(ref line, "page-bytes", 1UL << TMode.PageShift);
            Emit(ref line);

            var descriptors = (LoaderMemoryDescriptor*)block->MemoryDescriptors;
            for (uint i = 0; i < block->MemoryDescriptorCount; i++)
            {
                line = Begin("range");
                Text(ref line, "type", MemoryMapCheck.Name(descriptors[i].Type));
                Address(ref line, "base", descriptors[i].BasePage << FirmwarePage.Shift);
                Number(ref line, "pages", descriptors[i].PageCount);
                Address(ref line, "flags", (ulong)descriptors[i].Flags);
                Emit(ref line);
            }

            for (int i = 0; i < TLayout.RegionCount; i++)
            {
                line = Begin("region");
                Text(ref line, "name", TLayout.RegionName(i));
                Address(ref line, "start", MemoryManager.Region(i).Start.Value);
                Number(ref line, "bytes", MemoryManager.Region(i).Size);
                Emit(ref line);
            }

            PrintPages();
            PrintPool("non-paged", Pools.NonPaged);
            PrintPool("paged", Pools.Paged);
            PrintStacks<TMode>();

            line = Begin("end");
            Number(ref line, "records", s_records);
            KernelConsole.WriteLine(line.AsSpan());
        }

        private static void PrintPages()
        {
            PfnDatabase* pfn = MemoryManager.Pfn;
            PageCount("free", pfn->FreeList.Count);
            PageCount("zeroed", pfn->ZeroedList.Count);
            PageCount("bad", pfn->BadList.Count);
            PageCount("active", pfn->ActivePages);
            PageCount("reserved", pfn->ReservedPages);

            // One scan of every described frame for both states' uses (PfnDatabase.CountUse would scan once per use).
            UseCounts active = default, reserved = default;
            for (int r = 0; r < pfn->RunCount; r++)
            {
                PageRun run = pfn->Run(r);
                PfnEntry* entry = pfn->Entry(new PageFrameNumber(run.Start));
                for (ulong page = run.Start; page < run.End; page++, entry++)
                {
                    int use = (int)entry->Use & (UseCounts.Length - 1);
                    if (entry->State == PageState.Active)
                        active[use]++;
                    else if (entry->State == PageState.Reserved)
                        reserved[use]++;
                }
            }
            PrintUses("active", ref active);
            PrintUses("reserved", ref reserved);
        }

        private static void PageCount(string state, ulong count)
        {
            TextLine line = Begin("pages");
            Text(ref line, "state", state);
            Number(ref line, "count", count);
            Emit(ref line);
        }

        private static void PrintUses(string state, ref UseCounts counts)
        {
            for (int use = 0; use < UseCounts.Length; use++)
            {
                if (counts[use] == 0)
                    continue;
                TextLine line = Begin("page-use");
                Text(ref line, "state", state);
                Text(ref line, "use", UseName((PageUse)use));
                Number(ref line, "count", counts[use]);
                Emit(ref line);
            }
        }

        private static void PrintPool(string name, Pool* pool)
        {
            TextLine line = Begin("pool");
            Text(ref line, "pool", name);
            Number(ref line, "committed-pages", pool->Counters.CommittedPages);
            Number(ref line, "bytes-in-use", pool->Counters.BytesInUse);
            Number(ref line, "allocations", pool->Counters.Allocations);
            Number(ref line, "frees", pool->Counters.Frees);
            Number(ref line, "big-allocations", pool->Counters.BigAllocations);
            Emit(ref line);
            for (int i = 0; i <= Pool.TagCapacity; i++)
            {
                PoolTagStats stats = pool->TagAt(i);
                if (stats.Tag == 0)
                    continue;
                line = Begin("pool-tag");
                Text(ref line, "pool", name);
                line.Append(" tag=");
                AppendTag(ref line, stats.Tag);
                Number(ref line, "allocations", stats.Allocations);
                Number(ref line, "frees", stats.Frees);
                Number(ref line, "bytes-in-use", stats.BytesInUse);
                Emit(ref line);
            }
        }

        private static void PrintStacks<TMode>() where TMode : struct, IPagingMode
        {
            StackSpace* space = MemoryManager.Stacks;
            for (int kind = 0; kind < StackSpace.KindCount; kind++)
            {
                StackUsage usage = space->Usage((StackKind)kind);
                if (usage.Live == 0 && usage.Cached == 0 && usage.DeepestUse == 0)
                    continue;
                TextLine line = Begin("stack");
                line.Append(" kind=");
                ReadOnlySpan<char> name = Stacks<TMode>.KindName((StackKind)kind);
                for (int c = 0; c < name.Length; c++)
                    line.Append(name[c] == ' ' ? '-' : name[c]);
                Number(ref line, "live", usage.Live);
                Number(ref line, "committed", usage.Committed);
                Number(ref line, "reserved", usage.Reserved);
                Number(ref line, "cached", usage.Cached);
                Number(ref line, "deepest-bytes", usage.DeepestUse);
                Emit(ref line);
            }
        }

        private static TextLine Begin(string record)
        {
            TextLine line = default;
            line.Append(Prefix);
            line.Append(record);
            return line;
        }

        private static void Emit(ref TextLine line)
        {
            s_records++;
            KernelConsole.WriteLine(line.AsSpan());
        }

        private static void Text(ref TextLine line, string key, string value)
        {
            line.Append(' ');
            line.Append(key);
            line.Append('=');
            line.Append(value);
        }

        private static void Number(ref TextLine line, string key, ulong value)
        {
            line.Append(' ');
            line.Append(key);
            line.Append('=');
            line.AppendDecimal(value);
        }

        private static void Address(ref TextLine line, string key, ulong value)
        {
            line.Append(' ');
            line.Append(key);
            line.Append('=');
            line.AppendHexPrefixed(value, 1);
        }

        /// <summary>A tag as NT writes it (first character lowest byte), percent-encoding what is not a plain name character.</summary>
        private static void AppendTag(ref TextLine line, uint tag)
        {
            for (int i = 0; i < 4; i++)
            {
                byte c = (byte)(tag >> (8 * i));
                if (c == 0)
                    break;
                if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-')
                    line.Append((char)c);
                else
                {
                    line.Append('%');
                    line.AppendHex(c, 2);
                }
            }
        }

        private static string UseName(PageUse use) => use switch
        {
            PageUse.None => "None",
            PageUse.Allocated => "Allocated",
            PageUse.KernelImage => "KernelImage",
            PageUse.BootStack => "BootStack",
            PageUse.KernelStack => "KernelStack",
            PageUse.PageTable => "PageTable",
            PageUse.PfnDatabase => "PfnDatabase",
            PageUse.LoaderData => "LoaderData",
            PageUse.EarlyAllocation => "EarlyAllocation",
            PageUse.Pool => "Pool",
            PageUse.Firmware => "Firmware",
            PageUse.FirmwareRuntime => "FirmwareRuntime",
            PageUse.Special => "Special",
            _ => "Other",
        };

        [System.Runtime.CompilerServices.InlineArray(Length)]
        private struct UseCounts
        {
            public const int Length = 16;
            private ulong _element;
        }
    }
}
