using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using ExectOS.Boot;
using ExectOS.Hardware;
using ExectOS.Memory;
using ExectOS.Tests.Memory;
using Xunit;

namespace ExectOS.Tests.Xtos;

/// <summary>The ACPI reader on tables built in emulated memory: what firmware gives, and every way it can be wrong.</summary>
public unsafe class AcpiTests
{
    /// <summary>Firmware tables as OVMF lays them out: root pointer, XSDT (or RSDT), a few tables, the MADT, in special memory.</summary>
    private sealed class Firmware
    {
        public const ulong Base = 0x1F770000, RootPointer = 0x1F77E014, Xsdt = 0x1F77D0E8, Rsdt = 0x1F77D000, Madt = 0x1F778000, Facp = 0x1F779000, Hpet = 0x1F77A000;

        public readonly SparseMemory Memory = new();
        public readonly LoaderMemoryDescriptor[] Map =
        [
            new(LoaderMemoryType.LoaderFree, 0x100, 0x1F670),
            new(LoaderMemoryType.LoaderSpecialMemory, Base >> 12, 0x10),
            new(LoaderMemoryType.LoaderFree, (Base >> 12) + 0x10, 0x100),
        ];

        public Firmware(int revision = 2, byte[]? madt = null)
        {
            Table(Facp, "FACP", new byte[80]);
            Table(Hpet, "HPET", new byte[20]);
            Table(Madt, "APIC", madt ?? MadtBody(
                LocalApic(0, 0, 1), LocalApic(1, 1, 1), LocalApic(2, 5, 0), LocalApic(3, 6, 2),
                [1, 12, 0, 0, 0, 0, 0xC0, 0xFE, 0, 0, 0, 0], // I/O APIC: not a processor
                [2, 10, 0, 0, 2, 0, 0, 0, 0, 0],             // interrupt source override
                X2Apic(300, 1), X2Apic(301, 0)));
            ulong[] tables = [Facp, Hpet, Madt];
            if (revision >= 2)
                Table(Xsdt, "XSDT", tables.SelectMany(t => BitConverter.GetBytes(t)).ToArray());
            Table(Rsdt, "RSDT", tables.SelectMany(t => BitConverter.GetBytes((uint)t)).ToArray());
            var root = new byte[36];
            Encoding.ASCII.GetBytes("RSD PTR ").CopyTo(root, 0);
            Encoding.ASCII.GetBytes("BOCHS ").CopyTo(root, 9);
            root[15] = (byte)revision;
            BitConverter.GetBytes((uint)Rsdt).CopyTo(root, 16);
            BitConverter.GetBytes(36u).CopyTo(root, 20);
            BitConverter.GetBytes(revision >= 2 ? Xsdt : 0UL).CopyTo(root, 24);
            root[8] = Checksum(root.AsSpan(0, 20));
            root[32] = Checksum(root);
            Write(RootPointer, revision >= 2 ? root : root[..20]);
        }

        public static byte[] LocalApic(byte uid, byte apicId, uint flags) => [0, 8, uid, apicId, .. BitConverter.GetBytes(flags)];

        public static byte[] X2Apic(uint apicId, uint flags) => [9, 16, 0, 0, .. BitConverter.GetBytes(apicId), .. BitConverter.GetBytes(flags), .. BitConverter.GetBytes(apicId)];

        public static byte[] MadtBody(params byte[][] entries) => [.. BitConverter.GetBytes(0xFEE00000u), .. BitConverter.GetBytes(1u), .. entries.SelectMany(e => e)];

        public void Table(ulong address, string signature, byte[] body)
        {
            var table = new byte[36 + body.Length];
            Encoding.ASCII.GetBytes(signature).CopyTo(table, 0);
            BitConverter.GetBytes((uint)table.Length).CopyTo(table, 4);
            table[8] = 1;
            Encoding.ASCII.GetBytes("BOCHS BXPC    ").CopyTo(table, 10);
            body.CopyTo(table, 36);
            table[9] = Checksum(table);
            Write(address, table);
        }

        public static byte Checksum(ReadOnlySpan<byte> bytes)
        {
            byte sum = 0;
            foreach (byte b in bytes)
                sum += b;
            return (byte)(0x100 - sum);
        }

        public void Write(ulong address, ReadOnlySpan<byte> bytes)
        {
            for (int i = 0; i < bytes.Length; i++)
                Memory.At(new PhysicalAddress(address + (ulong)i), 1)[0] = bytes[i];
        }

        public byte Read(ulong address) => Memory.At(new PhysicalAddress(address), 1)[0];

        /// <summary>Root pointer, root table, the MADT found and read: the first problem of the three steps.</summary>
        public AcpiProblem Parse(out AcpiRoot root, out MadtInfo madt, ulong rootPointer = RootPointer)
        {
            madt = default;
            var memory = new EmulatedMemory(Memory);
            fixed (LoaderMemoryDescriptor* map = Map)
            {
                var ranges = new FirmwareRanges(map, Map.Length);
                AcpiProblem problem = Acpi.ReadRoot(ref memory, in ranges, rootPointer, out root);
                if (!problem.IsOk)
                    return problem;
                problem = Acpi.Find(ref memory, in ranges, in root, Acpi.MadtSignature, out AcpiTable table);
                return problem.IsOk ? Acpi.ReadMadt(ref memory, in table, out madt) : problem;
            }
        }
    }

    private static uint[] Ids(in MadtInfo madt)
    {
        var ids = new uint[madt.Recorded];
        for (int i = 0; i < ids.Length; i++)
            ids[i] = madt.ApicId(i);
        return ids;
    }

    [Fact]
    public void Acpi2TablesGiveTheEnabledProcessorsThroughTheXsdt()
    {
        var firmware = new Firmware();
        AcpiProblem problem = firmware.Parse(out AcpiRoot root, out MadtInfo madt);

        Assert.True(problem.IsOk, $"{problem.Error} at {problem.Address:X}");
        Assert.Equal((2, true, Firmware.Xsdt, 3u), (root.Revision, root.Extended, root.RootTable, root.TableCount));
        // Enabled local APICs and x2APICs, in the MADT's order; a disabled one left out, an online-capable one counted.
        Assert.Equal([0u, 1u, 300u], Ids(madt));
        Assert.Equal((3u, 1u, 2u), (madt.Enabled, madt.OnlineCapable, madt.X2ApicEntries));
        Assert.Equal(0xFEE00000UL, madt.LocalApicAddress);
        Assert.True(madt.LegacyPics);
    }

    [Fact]
    public void Acpi1TablesAreReadThroughTheRsdt()
    {
        var firmware = new Firmware(revision: 0);
        AcpiProblem problem = firmware.Parse(out AcpiRoot root, out MadtInfo madt);

        Assert.True(problem.IsOk, $"{problem.Error} at {problem.Address:X}");
        Assert.Equal((0, false, Firmware.Rsdt, 3u), (root.Revision, root.Extended, root.RootTable, root.TableCount));
        Assert.Equal([0u, 1u, 300u], Ids(madt));
    }

    /// <summary>A GICC entry (ACPI 6.0, 80 bytes): flags at 12, MPIDR at 68.</summary>
    private static byte[] Gicc(ulong mpidr, uint flags)
    {
        var entry = new byte[80];
        entry[0] = 0x0B;
        entry[1] = 80;
        BitConverter.GetBytes(flags).CopyTo(entry, 12);
        BitConverter.GetBytes(mpidr).CopyTo(entry, 68);
        return entry;
    }

    [Fact]
    public void ArmProcessorsAreTheGicCpuInterfacesByTheirAffinities()
    {
        byte[] distributor = [0x0C, 24, 0, 0, 0, 0, 0, 0, .. BitConverter.GetBytes(0x0800_0000UL), 0, 0, 0, 0, 3, 0, 0, 0];
        // QEMU virt's layout: MPIDR 0x80000000 (the U bit clear, bit 31 RES1) for processor 0; Aff1 and Aff3 used further on.
        var firmware = new Firmware(madt: Firmware.MadtBody(Gicc(0x8000_0000, 1), Gicc(0x8000_0001, 1), Gicc(0x01_8000_0100, 1), Gicc(0x8000_0002, 0), Gicc(0x8000_0003, 8), distributor));
        AcpiProblem problem = firmware.Parse(out _, out MadtInfo madt);

        Assert.True(problem.IsOk, $"{problem.Error} at {problem.Address:X}");
        Assert.Equal([0u, 1u, 0x0100_0100u], Ids(madt));
        // A disabled one left out; online-capable is GICC's bit 3.
        Assert.Equal((3u, 1u, 5u, 0u), (madt.Enabled, madt.OnlineCapable, madt.GicEntries, madt.X2ApicEntries));
        Assert.Equal(0x0800_0000UL, madt.GicDistributorAddress);
        Assert.Equal(0x0100_0100u, Acpi.Affinity(0x01_8000_0100));
    }

    [Fact]
    public void ACutShortGicEntryIsABadEntry()
    {
        byte[] shortEntry = Gicc(0x8000_0000, 1)[..40];
        shortEntry[1] = 40;
        var firmware = new Firmware(madt: Firmware.MadtBody(shortEntry));
        Assert.Equal(AcpiError.BadEntry, firmware.Parse(out _, out _).Error);
    }

    [Fact]
    public void TheLocalApicAddressOverrideWins()
    {
        var firmware = new Firmware(madt: Firmware.MadtBody(Firmware.LocalApic(0, 0, 1), [5, 12, 0, 0, .. BitConverter.GetBytes(0x1_0000_0000UL)]));
        Assert.True(firmware.Parse(out _, out MadtInfo madt).IsOk);
        Assert.Equal(0x1_0000_0000UL, madt.LocalApicAddress);
    }

    [Fact]
    public void MoreProcessorsThanRecordedAreCountedNotStored()
    {
        byte[][] entries = Enumerable.Range(0, MadtInfo.Capacity + 10).Select(i => Firmware.X2Apic((uint)i, 1)).ToArray();
        var firmware = new Firmware(madt: Firmware.MadtBody(entries));
        Assert.True(firmware.Parse(out _, out MadtInfo madt).IsOk);
        Assert.Equal((uint)MadtInfo.Capacity + 10, madt.Enabled);
        Assert.Equal(MadtInfo.Capacity, madt.Recorded);
        Assert.Equal((uint)MadtInfo.Capacity - 1, madt.ApicId(MadtInfo.Capacity - 1));
    }

    public static IEnumerable<object[]> Breakages() =>
    [
        ["no root pointer", AcpiError.NoRootPointer],
        ["root pointer in free RAM", AcpiError.NotInFirmwareMemory],
        ["root pointer signature", AcpiError.BadRootSignature],
        ["root pointer checksum", AcpiError.BadChecksum],
        ["extended checksum", AcpiError.BadChecksum],
        ["extended length short", AcpiError.BadLength],
        ["XSDT outside firmware memory", AcpiError.NotInFirmwareMemory],
        ["XSDT signature", AcpiError.BadSignature],
        ["XSDT checksum", AcpiError.BadChecksum],
        ["XSDT length short", AcpiError.BadLength],
        ["XSDT length huge", AcpiError.BadLength],
        ["XSDT runs past firmware memory", AcpiError.NotInFirmwareMemory],
        ["no MADT", AcpiError.NotFound],
        ["MADT checksum", AcpiError.BadChecksum],
        ["MADT too short for its fields", AcpiError.BadLength],
        ["MADT entry of length 0", AcpiError.BadEntry],
        ["MADT entry past the end", AcpiError.BadEntry],
        ["MADT local APIC entry short", AcpiError.BadEntry],
        ["MADT x2APIC entry short", AcpiError.BadEntry],
        ["MADT odd byte at the end", AcpiError.BadEntry],
        ["two processors with one APIC id", AcpiError.DuplicateProcessor],
    ];

    [Theory]
    [MemberData(nameof(Breakages))]
    public void EveryBrokenTableIsAProblemNamedNeverAFault(string breakage, AcpiError expected)
    {
        var firmware = new Firmware();
        ulong rootPointer = Firmware.RootPointer;
        void Patch(ulong address, params byte[] bytes) => firmware.Write(address, bytes);
        void Resum(ulong table, int checksumOffset, int length)
        {
            firmware.Write(table + (ulong)checksumOffset, [0]);
            var bytes = Enumerable.Range(0, length).Select(i => firmware.Read(table + (ulong)i)).ToArray();
            firmware.Write(table + (ulong)checksumOffset, [Firmware.Checksum(bytes)]);
        }
        switch (breakage)
        {
            case "no root pointer": rootPointer = 0; break;
            case "root pointer in free RAM": rootPointer = 0x200000; break;
            case "root pointer signature": Patch(Firmware.RootPointer, (byte)'X'); break;
            case "root pointer checksum": Patch(Firmware.RootPointer + 8, (byte)(firmware.Read(Firmware.RootPointer + 8) + 1)); break;
            case "extended checksum": Patch(Firmware.RootPointer + 32, (byte)(firmware.Read(Firmware.RootPointer + 32) + 1)); break;
            case "extended length short": Patch(Firmware.RootPointer + 20, 20); Resum(Firmware.RootPointer, 32, 36); break;
            case "XSDT outside firmware memory": Patch(Firmware.RootPointer + 24, BitConverter.GetBytes(0x300000UL)); Resum(Firmware.RootPointer, 32, 36); break;
            case "XSDT signature": Patch(Firmware.Xsdt, (byte)'Y'); Resum(Firmware.Xsdt, 9, 36 + 24); break;
            case "XSDT checksum": Patch(Firmware.Xsdt + 9, (byte)(firmware.Read(Firmware.Xsdt + 9) + 1)); break;
            case "XSDT length short": Patch(Firmware.Xsdt + 4, BitConverter.GetBytes(35u)); break;
            case "XSDT length huge": Patch(Firmware.Xsdt + 4, BitConverter.GetBytes(0xFFFFFFF0u)); break;
            case "XSDT runs past firmware memory": Patch(Firmware.Xsdt + 4, BitConverter.GetBytes(0x10000u)); break;
            case "no MADT": Patch(Firmware.Madt, (byte)'B'); Resum(Firmware.Madt, 9, (int)BitConverter.ToUInt32([.. Enumerable.Range(4, 4).Select(i => firmware.Read(Firmware.Madt + (ulong)i))])); break;
            case "MADT checksum": Patch(Firmware.Madt + 50, 0x7F); break;
            case "MADT too short for its fields": Patch(Firmware.Madt + 4, BitConverter.GetBytes(40u)); Resum(Firmware.Madt, 9, 40); break;
            default:
                byte[] madt = breakage switch
                {
                    "MADT entry of length 0" => Firmware.MadtBody(Firmware.LocalApic(0, 0, 1), [0, 0, 0, 0]),
                    "MADT entry past the end" => Firmware.MadtBody(Firmware.LocalApic(0, 0, 1), [0, 8, 1, 1]),
                    "MADT local APIC entry short" => Firmware.MadtBody([0, 6, 0, 0, 1, 0]),
                    "MADT x2APIC entry short" => Firmware.MadtBody([9, 12, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0]),
                    "MADT odd byte at the end" => Firmware.MadtBody(Firmware.LocalApic(0, 0, 1), [7]),
                    "two processors with one APIC id" => Firmware.MadtBody(Firmware.LocalApic(0, 4, 1), Firmware.X2Apic(4, 1)),
                    _ => throw new ArgumentException(breakage),
                };
                firmware = new Firmware(madt: madt);
                break;
        }
        AcpiProblem problem = firmware.Parse(out _, out _, rootPointer);
        Assert.Equal(expected, problem.Error);
        Assert.NotEqual("unknown problem", AcpiProblem.Describe(problem.Error));
    }

    [Fact]
    public void RandomlyCorruptedTablesNeverFaultOrHang()
    {
        var random = new Random(23);
        var good = new Firmware();
        ulong[] tables = [Firmware.RootPointer, Firmware.Xsdt, Firmware.Madt];
        int[] lengths = [36, 36 + 24, 36 + 8 + 4 * 8 + 12 + 10 + 2 * 16];
        var seen = new HashSet<AcpiError>();
        for (int round = 0; round < 20000; round++)
        {
            var firmware = new Firmware();
            for (int flips = random.Next(1, 6); flips > 0; flips--)
            {
                int which = random.Next(tables.Length);
                ulong at = tables[which] + (ulong)random.Next(lengths[which]);
                firmware.Write(at, [(byte)random.Next(256)]);
            }
            // Sometimes the checksums are fixed, so the corruption reaches the checks behind them.
            if (random.Next(2) == 0)
            {
                foreach ((ulong table, int offset, int length) in new[] { (Firmware.RootPointer, 8, 20), (Firmware.RootPointer, 32, 36), (Firmware.Xsdt, 9, lengths[1]), (Firmware.Madt, 9, lengths[2]) })
                {
                    firmware.Write(table + (ulong)offset, [0]);
                    firmware.Write(table + (ulong)offset, [Firmware.Checksum(Enumerable.Range(0, length).Select(i => firmware.Read(table + (ulong)i)).ToArray())]);
                }
            }
            AcpiProblem problem = firmware.Parse(out _, out MadtInfo madt);
            seen.Add(problem.Error);
            if (problem.IsOk)
                Assert.InRange(madt.Enabled, 0u, 64u);
        }
        // The corruption reached most checks, not only the first.
        Assert.Superset(new HashSet<AcpiError> { AcpiError.None, AcpiError.BadChecksum, AcpiError.BadRootSignature, AcpiError.BadEntry, AcpiError.BadLength }, seen);
        Assert.True(good.Parse(out _, out _).IsOk);
    }
}
