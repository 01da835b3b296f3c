using System;
using ExectOS.Boot;
using ExectOS.Hardware;
using ExectOS.Memory;
using ExectOS.Text;

namespace ExectOS.Kernel
{
    /// <summary>
    /// The processors this boot uses: the boot processor, and those the firmware's MADT lists as enabled, at most
    /// MAXCPUS in all. Bad ACPI tables give a line saying what is wrong and a one-processor boot, never a crash.
    /// </summary>
    internal static unsafe class Processors
    {
        /// <summary>Processors this kernel keeps track of (the MADT may list more; they are left out and counted).</summary>
        internal const int Capacity = MadtInfo.Capacity;

        private static MadtInfo s_madt;
        private static uint s_bootId;
        private static int s_chosen;
        private static ChosenIds s_ids;

        /// <summary>Processors chosen for this boot, the boot processor first.</summary>
        internal static int Count => s_chosen;

        internal static uint Id(int index) => s_ids[index];

        internal static ulong LocalApicAddress => s_madt.LocalApicAddress;

        [System.Runtime.CompilerServices.InlineArray(Capacity)]
        private struct ChosenIds
        {
            private uint _element;
        }

        internal static void Discover<TMode>(LoaderBlock* block) where TMode : struct, IPagingMode
        {
            s_bootId = Processor.InterruptControllerId();
            s_ids[0] = s_bootId;
            s_chosen = 1;
            var parameters = new ReadOnlySpan<byte>(block->Parameters, KernelParameters.Capacity);
            uint limit = Capacity;
            if (KernelParameters.TryGetValue(parameters, "MAXCPUS=", out ReadOnlySpan<byte> text) && !TryParseCount(text, out limit))
            {
                KernelConsole.WriteLine("XTOSKRNL: MAXCPUS= takes a number from 1 to 256; ignored");
                limit = Capacity;
            }

            var ranges = new FirmwareRanges((LoaderMemoryDescriptor*)block->MemoryDescriptors, (int)block->MemoryDescriptorCount);
            var memory = MemoryManager<TMode>.Physical();
            AcpiProblem problem = Acpi.ReadRoot(ref memory, in ranges, block->AcpiRootPointer, out AcpiRoot root);
            AcpiTable madt = default;
            if (problem.IsOk)
                problem = Acpi.Find(ref memory, in ranges, in root, Acpi.MadtSignature, out madt);
            if (problem.IsOk)
                problem = Acpi.ReadMadt(ref memory, in madt, out s_madt);
            memory.Release();

            TextLine line = default;
            if (root.RootTable != 0 && (problem.IsOk || problem.Address != root.RootPointer))
            {
                line.Append("XTOSKRNL: ACPI: root pointer at ");
                line.AppendHexPrefixed(root.RootPointer, 8);
                line.Append(", revision ");
                line.AppendDecimal(root.Revision);
                line.Append(root.Extended ? ", XSDT at " : ", RSDT at ");
                line.AppendHexPrefixed(root.RootTable, 8);
                line.Append(" with ");
                line.AppendDecimal(root.TableCount);
                line.Append(" tables");
                KernelConsole.WriteLine(line.AsSpan());
                line.Clear();
            }
            if (!problem.IsOk)
            {
                s_madt = default;
                line.Append("XTOSKRNL: ACPI: ");
                line.Append(AcpiProblem.Describe(problem.Error));
                line.Append(" (at ");
                line.AppendHexPrefixed(problem.Address, 8);
                if (problem.Signature != 0)
                {
                    line.Append(", table ");
                    for (int i = 0; i < 4; i++)
                        line.Append(Printable((byte)(problem.Signature >> (8 * i))));
                }
                line.Append(", detail ");
                line.AppendHexPrefixed(problem.Detail, 1);
                line.Append("); starting on one processor");
                KernelConsole.WriteLine(line.AsSpan());
            }
            else
            {
                line.Append("XTOSKRNL: MADT at ");
                line.AppendHexPrefixed(madt.Address, 8);
                line.Append(": ");
                line.AppendDecimal(s_madt.Enabled);
                line.Append(" processors enabled (");
                line.Append(Processor.InterruptControllerIdName);
                for (int i = 0; i < s_madt.Recorded; i++)
                {
                    line.Append(' ');
                    line.AppendDecimal(s_madt.ApicId(i));
                }
                line.Append("), ");
                line.AppendDecimal(s_madt.OnlineCapable);
                line.Append(" online-capable, local APIC at ");
                line.AppendHexPrefixed(s_madt.LocalApicAddress, 8);
                if (s_madt.X2ApicEntries != 0)
                    line.Append(", x2APIC entries");
                KernelConsole.WriteLine(line.AsSpan());
                Choose(limit);
            }

            line.Clear();
            line.Append("XTOSKRNL: processors: 1 started (");
            line.Append(Processor.InterruptControllerIdName);
            line.Append(' ');
            line.AppendDecimal(s_bootId);
            line.Append(')');
            if (s_chosen > 1)
            {
                line.Append("; ");
                line.AppendDecimal((ulong)(s_chosen - 1));
                line.Append(" more chosen, not started: this kernel does not start application processors yet");
            }
            ulong leftOut = problem.IsOk && s_madt.Enabled > (uint)s_chosen ? s_madt.Enabled - (uint)s_chosen : 0;
            if (leftOut != 0)
            {
                line.Append("; ");
                line.AppendDecimal(leftOut);
                line.Append(" left out by MAXCPUS=");
                line.AppendDecimal(limit);
            }
            KernelConsole.WriteLine(line.AsSpan());
        }

        /// <summary>The boot processor, then the MADT's other enabled processors in its order, up to <paramref name="limit"/> in all.</summary>
        private static void Choose(uint limit)
        {
            for (int i = 0; i < s_madt.Recorded && (uint)s_chosen < limit; i++)
            {
                if (s_madt.ApicId(i) != s_bootId)
                    s_ids[s_chosen++] = s_madt.ApicId(i);
            }
        }

        /// <summary>A decimal processor count from 1 to <see cref="Capacity"/>.</summary>
        internal static bool TryParseCount(ReadOnlySpan<byte> text, out uint count)
        {
            count = 0;
            if (text.Length == 0 || text.Length > 3)
                return false;
            for (int i = 0; i < text.Length; i++)
            {
                if (text[i] < (byte)'0' || text[i] > (byte)'9')
                    return false;
                count = count * 10 + (uint)(text[i] - '0');
            }
            return count >= 1 && count <= Capacity;
        }

        private static char Printable(byte value) => value >= 0x20 && value < 0x7F ? (char)value : '?';
    }
}
