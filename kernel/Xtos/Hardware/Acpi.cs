using System.Runtime.CompilerServices;
using ExectOS.Memory;

namespace ExectOS.Hardware
{
    /// <summary>What is wrong with the firmware's ACPI tables; the kernel then starts on one processor.</summary>
    public enum AcpiError : uint
    {
        None = 0,
        /// <summary>The loader found no ACPI root pointer in the firmware's configuration table.</summary>
        NoRootPointer = 1,
        /// <summary>A table lies (partly) outside the firmware memory the loader described (detail: its length).</summary>
        NotInFirmwareMemory = 2,
        /// <summary>The root pointer does not start with "RSD PTR ".</summary>
        BadRootSignature = 3,
        /// <summary>A checksum does not sum to zero (detail: the byte sum).</summary>
        BadChecksum = 4,
        /// <summary>A length is shorter than its structure or longer than the tables may be (detail: the length).</summary>
        BadLength = 5,
        /// <summary>A root table (XSDT/RSDT) does not have the signature it was reached for.</summary>
        BadSignature = 6,
        /// <summary>No table with the signature wanted.</summary>
        NotFound = 7,
        /// <summary>A MADT entry is shorter than its type needs or runs past the table (detail: offset in the table).</summary>
        BadEntry = 8,
        /// <summary>Two processors have the same APIC id (detail: the id).</summary>
        DuplicateProcessor = 9,
    }

    /// <summary>An ACPI error and where: the table's physical address and signature.</summary>
    public struct AcpiProblem
    {
        public AcpiError Error;
        public ulong Address;
        public uint Signature;
        public ulong Detail;

        public readonly bool IsOk => Error == AcpiError.None;

        public static AcpiProblem Of(AcpiError error, ulong address, uint signature = 0, ulong detail = 0)
            => new AcpiProblem { Error = error, Address = address, Signature = signature, Detail = detail };

        public static string Describe(AcpiError error) => error switch
        {
            AcpiError.None => "no problem",
            AcpiError.NoRootPointer => "the firmware gave no ACPI root pointer",
            AcpiError.NotInFirmwareMemory => "a table lies outside the firmware memory the loader described",
            AcpiError.BadRootSignature => "the root pointer has no \"RSD PTR \" signature",
            AcpiError.BadChecksum => "a checksum is wrong",
            AcpiError.BadLength => "a length is too short for its structure or too long",
            AcpiError.BadSignature => "a root table has the wrong signature",
            AcpiError.NotFound => "there is no such table",
            AcpiError.BadEntry => "a MADT entry is too short or runs past the table",
            AcpiError.DuplicateProcessor => "two processors have the same APIC id",
            _ => "unknown problem",
        };
    }

    /// <summary>Which physical ranges the tables may be read from (the firmware memory the loader described).</summary>
    public interface IFirmwareRanges
    {
        bool Contains(ulong address, ulong length);
    }

    /// <summary>A table found: its physical address, length and revision.</summary>
    public struct AcpiTable
    {
        public ulong Address;
        public uint Length;
        public byte Revision;
    }

    /// <summary>The root the tables were reached from.</summary>
    public struct AcpiRoot
    {
        public ulong RootPointer;
        public byte Revision;
        /// <summary>The XSDT (64-bit entries) when the root pointer gives one, else the RSDT.</summary>
        public ulong RootTable;
        public bool Extended;
        public uint TableCount;
    }

    /// <summary>The processors and interrupt controller the MADT describes.</summary>
    public struct MadtInfo
    {
        /// <summary>Processors recorded at most (more are counted in <see cref="Enabled"/> but not recorded).</summary>
        public const int Capacity = 256;

        public ulong LocalApicAddress;
        /// <summary>Enabled processors found (what firmware started or may start).</summary>
        public uint Enabled;
        /// <summary>Processors that are not enabled but may be brought online later.</summary>
        public uint OnlineCapable;
        /// <summary>Entries given as x2APIC processors.</summary>
        public uint X2ApicEntries;
        /// <summary>Processors given as GIC CPU interfaces (Arm: GICC entries, their ids the MPIDR affinities).</summary>
        public uint GicEntries;
        /// <summary>The GIC distributor's registers (a GICD entry), 0 without one.</summary>
        public ulong GicDistributorAddress;
        /// <summary>Dual 8259 PICs present (the MADT's PCAT_COMPAT flag).</summary>
        public bool LegacyPics;
        private ApicIds _ids;

        public readonly int Recorded => (int)(Enabled < Capacity ? Enabled : Capacity);

        public readonly uint ApicId(int index) => _ids[index];

        internal void Record(uint apicId)
        {
            if (Enabled < Capacity)
                _ids[(int)Enabled] = apicId;
            Enabled++;
        }

        internal readonly bool Holds(uint apicId)
        {
            for (int i = 0; i < Recorded; i++)
            {
                if (_ids[i] == apicId)
                    return true;
            }
            return false;
        }

        [InlineArray(Capacity)]
        private struct ApicIds
        {
            private uint _element;
        }
    }

    /// <summary>
    /// The firmware's ACPI tables read from physical memory: the root pointer (RSDP), the XSDT or RSDT, a table by
    /// signature, the MADT's processors. Every length, checksum and entry is checked before it is used, and nothing
    /// is read outside the firmware memory the loader described; any fault is a problem returned, never a fault
    /// taken. Same code in the kernel (through hyperspace) and in hosted tests (emulated memory).
    /// </summary>
    public static class Acpi
    {
        /// <summary>The longest table read (checksums walk every byte).</summary>
        public const uint MaximumTableLength = 1 << 20;
        public const int HeaderLength = 36;

        public const uint MadtSignature = 'A' | 'P' << 8 | 'I' << 16 | 'C' << 24;
        public const uint XsdtSignature = 'X' | 'S' << 8 | 'D' << 16 | 'T' << 24;
        public const uint RsdtSignature = 'R' | 'S' << 8 | 'D' << 16 | 'T' << 24;
        private const ulong RootSignature = 0x2052545020445352; // "RSD PTR "

        /// <summary>The root pointer and the root table it leads to, both checked.</summary>
        public static AcpiProblem ReadRoot<TMemory, TRanges>(ref TMemory memory, in TRanges ranges, ulong rootPointer, out AcpiRoot root)
            where TMemory : struct, IPhysicalMemory
            where TRanges : struct, IFirmwareRanges
        {
            root = new AcpiRoot { RootPointer = rootPointer };
            if (rootPointer == 0)
                return AcpiProblem.Of(AcpiError.NoRootPointer, 0);
            if (!ranges.Contains(rootPointer, 20))
                return AcpiProblem.Of(AcpiError.NotInFirmwareMemory, rootPointer, 0, 20);
            if (Read64(ref memory, rootPointer) != RootSignature)
                return AcpiProblem.Of(AcpiError.BadRootSignature, rootPointer);
            byte sum = Sum(ref memory, rootPointer, 20);
            if (sum != 0)
                return AcpiProblem.Of(AcpiError.BadChecksum, rootPointer, 0, sum);
            root.Revision = Read8(ref memory, rootPointer + 15);
            root.RootTable = Read32(ref memory, rootPointer + 16);
            if (root.Revision >= 2)
            {
                // ACPI 2.0 and later: a 36-byte structure with its own length and checksum, and the XSDT.
                if (!ranges.Contains(rootPointer, 36))
                    return AcpiProblem.Of(AcpiError.NotInFirmwareMemory, rootPointer, 0, 36);
                uint length = Read32(ref memory, rootPointer + 20);
                if (length < 36 || length > 4096 || !ranges.Contains(rootPointer, length))
                    return AcpiProblem.Of(length < 36 || length > 4096 ? AcpiError.BadLength : AcpiError.NotInFirmwareMemory, rootPointer, 0, length);
                sum = Sum(ref memory, rootPointer, length);
                if (sum != 0)
                    return AcpiProblem.Of(AcpiError.BadChecksum, rootPointer, 0, sum);
                ulong xsdt = Read64(ref memory, rootPointer + 24);
                if (xsdt != 0)
                {
                    root.RootTable = xsdt;
                    root.Extended = true;
                }
            }
            uint signature = root.Extended ? XsdtSignature : RsdtSignature;
            AcpiProblem problem = CheckTable(ref memory, in ranges, root.RootTable, out AcpiTable table);
            if (!problem.IsOk)
                return problem;
            if (Read32(ref memory, root.RootTable) != signature)
                return AcpiProblem.Of(AcpiError.BadSignature, root.RootTable, Read32(ref memory, root.RootTable));
            root.TableCount = (table.Length - HeaderLength) / (root.Extended ? 8u : 4u);
            return default;
        }

        /// <summary>The first table with <paramref name="signature"/> the root table lists, checked.</summary>
        public static AcpiProblem Find<TMemory, TRanges>(ref TMemory memory, in TRanges ranges, in AcpiRoot root, uint signature, out AcpiTable table)
            where TMemory : struct, IPhysicalMemory
            where TRanges : struct, IFirmwareRanges
        {
            table = default;
            uint width = root.Extended ? 8u : 4u;
            for (uint i = 0; i < root.TableCount; i++)
            {
                ulong at = root.RootTable + HeaderLength + i * width;
                ulong address = root.Extended ? Read64(ref memory, at) : Read32(ref memory, at);
                if (address == 0 || !ranges.Contains(address, 4) || Read32(ref memory, address) != signature)
                    continue;
                return CheckTable(ref memory, in ranges, address, out table);
            }
            return AcpiProblem.Of(AcpiError.NotFound, root.RootTable, signature);
        }

        /// <summary>
        /// The processors of a checked MADT (see <see cref="Find"/>): local APIC and x2APIC entries, the address override;
        /// on Arm, GIC CPU interface entries (GICC, ACPI 6.0 and later: flags at 12, MPIDR at 68), whose ids are the
        /// MPIDR's affinity fields packed as Aff3:Aff2:Aff1:Aff0, and the GIC distributor (GICD, base at 8).
        /// </summary>
        public static AcpiProblem ReadMadt<TMemory>(ref TMemory memory, in AcpiTable madt, out MadtInfo info)
            where TMemory : struct, IPhysicalMemory
        {
            info = default;
            if (madt.Length < HeaderLength + 8)
                return AcpiProblem.Of(AcpiError.BadLength, madt.Address, MadtSignature, madt.Length);
            info.LocalApicAddress = Read32(ref memory, madt.Address + 36);
            info.LegacyPics = (Read32(ref memory, madt.Address + 40) & 1) != 0;
            for (uint offset = HeaderLength + 8; offset < madt.Length;)
            {
                if (madt.Length - offset < 2)
                    return AcpiProblem.Of(AcpiError.BadEntry, madt.Address, MadtSignature, offset);
                byte type = Read8(ref memory, madt.Address + offset);
                byte length = Read8(ref memory, madt.Address + offset + 1);
                byte needed = type switch { 0 => 8, 5 => 12, 9 => 16, 0x0B => 76, 0x0C => 16, _ => 2 };
                if (length < needed || length > madt.Length - offset)
                    return AcpiProblem.Of(AcpiError.BadEntry, madt.Address, MadtSignature, offset);
                ulong entry = madt.Address + offset;
                if (type is 0 or 9 or 0x0B)
                {
                    uint apicId = type switch { 0 => Read8(ref memory, entry + 3), 9 => Read32(ref memory, entry + 4), _ => Affinity(Read64(ref memory, entry + 68)) };
                    uint flags = Read32(ref memory, entry + type switch { 0 => 4UL, 9 => 8UL, _ => 12UL });
                    if (type == 9)
                        info.X2ApicEntries++;
                    if (type == 0x0B)
                    {
                        info.GicEntries++;
                        // GICC's online-capable flag is bit 3 (ACPI 6.5); bit 1 is its performance-interrupt mode.
                        flags = (flags & 1) | ((flags >> 2) & 2);
                    }
                    if ((flags & 1) != 0)
                    {
                        if (info.Holds(apicId))
                            return AcpiProblem.Of(AcpiError.DuplicateProcessor, madt.Address, MadtSignature, apicId);
                        info.Record(apicId);
                    }
                    else if ((flags & 2) != 0)
                    {
                        info.OnlineCapable++;
                    }
                }
                else if (type == 5)
                {
                    info.LocalApicAddress = Read64(ref memory, entry + 4);
                }
                else if (type == 0x0C)
                {
                    info.GicDistributorAddress = Read64(ref memory, entry + 8);
                }
                offset += length;
            }
            return default;
        }

        /// <summary>MPIDR_EL1's affinity fields as one id: Aff3 (bits 39:32) above Aff2:Aff1:Aff0 (bits 23:0).</summary>
        public static uint Affinity(ulong mpidr) => (uint)(mpidr & 0xFF_FFFF) | (uint)((mpidr >> 32) & 0xFF) << 24;

        /// <summary>A table's header checked: in firmware memory, a sane length, a zero checksum.</summary>
        private static AcpiProblem CheckTable<TMemory, TRanges>(ref TMemory memory, in TRanges ranges, ulong address, out AcpiTable table)
            where TMemory : struct, IPhysicalMemory
            where TRanges : struct, IFirmwareRanges
        {
            table = new AcpiTable { Address = address };
            if (address == 0 || !ranges.Contains(address, HeaderLength))
                return AcpiProblem.Of(AcpiError.NotInFirmwareMemory, address, 0, HeaderLength);
            uint signature = Read32(ref memory, address);
            uint length = Read32(ref memory, address + 4);
            if (length < HeaderLength || length > MaximumTableLength)
                return AcpiProblem.Of(AcpiError.BadLength, address, signature, length);
            if (!ranges.Contains(address, length))
                return AcpiProblem.Of(AcpiError.NotInFirmwareMemory, address, signature, length);
            byte sum = Sum(ref memory, address, length);
            if (sum != 0)
                return AcpiProblem.Of(AcpiError.BadChecksum, address, signature, sum);
            table.Length = length;
            table.Revision = Read8(ref memory, address + 8);
            return default;
        }

        private static byte Sum<TMemory>(ref TMemory memory, ulong address, uint length) where TMemory : struct, IPhysicalMemory
        {
            uint sum = 0;
            for (uint i = 0; i < length; i++)
                sum += Read8(ref memory, address + i);
            return (byte)sum;
        }

        // Tables are byte-packed: every read is assembled from aligned 32-bit reads.
        public static byte Read8<TMemory>(ref TMemory memory, ulong address) where TMemory : struct, IPhysicalMemory
            => (byte)(memory.Read32(new PhysicalAddress(address & ~3UL)) >> (int)((address & 3) * 8));

        public static uint Read32<TMemory>(ref TMemory memory, ulong address) where TMemory : struct, IPhysicalMemory
        {
            if ((address & 3) == 0)
                return memory.Read32(new PhysicalAddress(address));
            return Read8(ref memory, address) | (uint)Read8(ref memory, address + 1) << 8 | (uint)Read8(ref memory, address + 2) << 16 | (uint)Read8(ref memory, address + 3) << 24;
        }

        public static ulong Read64<TMemory>(ref TMemory memory, ulong address) where TMemory : struct, IPhysicalMemory
            => Read32(ref memory, address) | (ulong)Read32(ref memory, address + 4) << 32;
    }
}
