using System;

namespace ExectOS.Images
{
    /// <summary>COFF machine numbers we load.</summary>
    public enum PeMachine : ushort
    {
        I386 = 0x014C,
        Amd64 = 0x8664,
        Arm64 = 0xAA64,
    }

    /// <summary>The facts of a checked PE image that loading and mapping need.</summary>
    public struct PeImageInfo
    {
        public PeMachine Machine;
        public bool Is64Bit;
        public ulong ImageBase;
        public uint SizeOfImage;
        public uint SizeOfHeaders;
        public uint SectionAlignment;
        public uint EntryPointRva;
        public ushort Subsystem;
        public ushort SectionCount;
        public bool RelocationsStripped;
        public uint RelocationRva;
        public uint RelocationSize;
        internal int SectionTableOffset;
        /// <summary>Where the relocation directory's bytes lie in the file (when <see cref="Relocatable"/>).</summary>
        internal int RelocationFileOffset;

        /// <summary>Whether <see cref="PeImage.Load"/> can place the image away from <see cref="ImageBase"/>.</summary>
        public readonly bool Relocatable => !RelocationsStripped && RelocationSize != 0;
    }

    /// <summary>One section header, as far as loading and mapping care.</summary>
    public struct PeSection
    {
        public uint VirtualAddress;
        public uint VirtualSize;
        public uint RawOffset;
        public uint RawSize;
        public uint Characteristics;

        public const uint Code = 0x20, Executable = 0x20000000, Readable = 0x40000000, Writable = 0x80000000;

        /// <summary>Bytes the section occupies in memory (its virtual size, or the raw size when that is larger).</summary>
        public readonly uint MemorySize => VirtualSize > RawSize ? VirtualSize : RawSize;
    }

    /// <summary>Checks and loads PE/COFF images (the kernel, later drivers). Pure code over byte spans: no I/O, no allocation.</summary>
    public static class PeImage
    {
        private const ushort DosSignature = 0x5A4D;        // "MZ"
        private const uint PeSignature = 0x00004550;       // "PE\0\0"
        private const ushort Pe32Magic = 0x10B, Pe32PlusMagic = 0x20B;
        private const int SectionHeaderSize = 40, MaxSections = 96;
        private const ushort RelocsStrippedFlag = 0x0001;
        private const int BaseRelocationDirectory = 5;
        private const uint MaxImageSize = 1u << 30;

        /// <summary>
        /// Checks every header field loading relies on; on success every later read stays inside <paramref name="file"/>
        /// and <see cref="Load"/> of the image succeeds: Load fails only on its caller's mistakes (a destination smaller
        /// than SizeOfImage, a load base other than ImageBase for an image that is not <see cref="PeImageInfo.Relocatable"/>).
        /// </summary>
        public static ImageProblem Check(ReadOnlySpan<byte> file, PeMachine expected, out PeImageInfo info)
        {
            info = default;
            if (file.Length < 64)
                return ImageProblem.Of(ImageError.TooSmall, 64, (ulong)file.Length);
            if (Read16(file, 0) != DosSignature)
                return ImageProblem.Of(ImageError.NotExecutable, DosSignature, Read16(file, 0));

            uint ntOffset = Read32(file, 0x3C);
            if (ntOffset > (uint)file.Length || (uint)file.Length - ntOffset < 24)
                return ImageProblem.Of(ImageError.HeadersOutOfFile, (ulong)ntOffset + 24, (ulong)file.Length);
            int nt = (int)ntOffset;
            if (Read32(file, nt) != PeSignature)
                return ImageProblem.Of(ImageError.NotPortableExecutable, PeSignature, Read32(file, nt));

            ushort machine = Read16(file, nt + 4);
            if (machine != (ushort)expected)
                return ImageProblem.Of(ImageError.WrongMachine, (ushort)expected, machine);
            info.Machine = expected;
            info.SectionCount = Read16(file, nt + 6);
            ushort optionalSize = Read16(file, nt + 20);
            info.RelocationsStripped = (Read16(file, nt + 22) & RelocsStrippedFlag) != 0;

            int optional = nt + 24;
            ImageProblem problem = ReadOptionalHeader(file, optional, optionalSize, ref info);
            if (!problem.IsOk)
                return problem;

            if (info.SectionCount == 0 || info.SectionCount > MaxSections)
                return ImageProblem.Of(ImageError.BadSectionCount, MaxSections, info.SectionCount);
            info.SectionTableOffset = optional + optionalSize;
            long tableEnd = (long)info.SectionTableOffset + (long)info.SectionCount * SectionHeaderSize;
            if (tableEnd > file.Length)
                return ImageProblem.Of(ImageError.SectionTableOutOfFile, (ulong)tableEnd, (ulong)file.Length);
            if (info.SizeOfHeaders < tableEnd || info.SizeOfHeaders > (uint)file.Length || info.SizeOfHeaders > info.SizeOfImage)
                return ImageProblem.Of(ImageError.BadImageSize, (ulong)tableEnd, info.SizeOfHeaders);

            return CheckSections(file, ref info);
        }

        private static ImageProblem ReadOptionalHeader(ReadOnlySpan<byte> file, int optional, ushort optionalSize, ref PeImageInfo info)
        {
            if (optional + 2 > file.Length)
                return ImageProblem.Of(ImageError.HeadersOutOfFile, (ulong)optional + 2, (ulong)file.Length);
            ushort magic = Read16(file, optional);
            info.Is64Bit = magic == Pe32PlusMagic;
            ushort wanted = info.Machine is PeMachine.Amd64 or PeMachine.Arm64 ? Pe32PlusMagic : Pe32Magic;
            if (magic != wanted)
                return ImageProblem.Of(ImageError.WrongOptionalHeader, wanted, magic);

            int directories = info.Is64Bit ? 112 : 96;
            int minimumSize = directories + (BaseRelocationDirectory + 1) * 8;
            if (optionalSize < minimumSize)
                return ImageProblem.Of(ImageError.WrongOptionalHeader, (ulong)minimumSize, optionalSize);
            if (optional + optionalSize > file.Length)
                return ImageProblem.Of(ImageError.HeadersOutOfFile, (ulong)(optional + optionalSize), (ulong)file.Length);

            info.EntryPointRva = Read32(file, optional + 16);
            info.ImageBase = info.Is64Bit ? Read64(file, optional + 24) : Read32(file, optional + 28);
            info.SectionAlignment = Read32(file, optional + 32);
            uint fileAlignment = Read32(file, optional + 36);
            info.SizeOfImage = Read32(file, optional + 56);
            info.SizeOfHeaders = Read32(file, optional + 60);
            info.Subsystem = Read16(file, optional + 68);
            uint directoryCount = Read32(file, optional + directories - 4);
            if (directoryCount > BaseRelocationDirectory)
            {
                info.RelocationRva = Read32(file, optional + directories + BaseRelocationDirectory * 8);
                info.RelocationSize = Read32(file, optional + directories + BaseRelocationDirectory * 8 + 4);
            }

            if (!IsPowerOfTwo(info.SectionAlignment) || !IsPowerOfTwo(fileAlignment) || fileAlignment > info.SectionAlignment || fileAlignment < 512)
                return ImageProblem.Of(ImageError.BadAlignment, info.SectionAlignment, fileAlignment);
            if (info.SizeOfImage == 0 || info.SizeOfImage > MaxImageSize || (info.SizeOfImage & (info.SectionAlignment - 1)) != 0)
                return ImageProblem.Of(ImageError.BadImageSize, MaxImageSize, info.SizeOfImage);
            if ((info.ImageBase & 0xFFFF) != 0)
                return ImageProblem.Of(ImageError.BadAlignment, 0x10000, info.ImageBase);
            return ImageProblem.Ok;
        }

        private static ImageProblem CheckSections(ReadOnlySpan<byte> file, ref PeImageInfo info)
        {
            ulong previousEnd = info.SizeOfHeaders;
            bool entryInSection = false;
            for (int i = 0; i < info.SectionCount; i++)
            {
                PeSection section = GetSection(file, in info, i);
                // SizeOfRawData 0 means the section has no data in the file (uninitialised data, loaded as zeros) and its
                // PointerToRawData means nothing: the PE specification says both "should be zero" for such a section, not
                // must, and the Windows loader ignores the pointer then. Load copies nothing for it, so nothing to check.
                ulong rawEnd = (ulong)section.RawOffset + section.RawSize;
                if (section.RawSize != 0 && rawEnd > (ulong)file.Length)
                    return ImageProblem.Of(ImageError.SectionDataOutOfFile, rawEnd, (ulong)file.Length, i);
                ulong memoryEnd = (ulong)section.VirtualAddress + section.MemorySize;
                if ((section.VirtualAddress & (info.SectionAlignment - 1)) != 0)
                    return ImageProblem.Of(ImageError.BadAlignment, info.SectionAlignment, section.VirtualAddress, i);
                if (memoryEnd > info.SizeOfImage)
                    return ImageProblem.Of(ImageError.SectionOutsideImage, info.SizeOfImage, memoryEnd, i);
                if (section.VirtualAddress < previousEnd)
                    return ImageProblem.Of(ImageError.SectionsOverlap, previousEnd, section.VirtualAddress, i);
                previousEnd = memoryEnd;
                if ((section.Characteristics & PeSection.Executable) != 0 && info.EntryPointRva >= section.VirtualAddress && info.EntryPointRva < memoryEnd)
                    entryInSection = true;
            }
            if (!entryInSection)
                return ImageProblem.Of(ImageError.EntryPointOutsideImage, info.SizeOfImage, info.EntryPointRva);
            ulong relocationEnd = (ulong)info.RelocationRva + info.RelocationSize;
            if (info.RelocationSize != 0 && relocationEnd > info.SizeOfImage)
                return ImageProblem.Of(ImageError.RelocationsOutsideImage, info.SizeOfImage, relocationEnd);
            return CheckRelocations(file, ref info);
        }

        // Load applies the relocation blocks only when moving the image, but they are checked whenever it could move, so
        // Load never meets a block it cannot apply. Load reads the blocks from the file, as here, not from the image it
        // is patching: a relocation that patches the table itself cannot change what was checked.
        private static ImageProblem CheckRelocations(ReadOnlySpan<byte> file, ref PeImageInfo info)
        {
            if (!info.Relocatable)
                return ImageProblem.Ok;
            for (int i = 0; i < info.SectionCount; i++)
            {
                // The directory must lie in the file-backed part of one section: what Load copies there from the file.
                PeSection section = GetSection(file, in info, i);
                if (info.RelocationRva < section.VirtualAddress || (ulong)info.RelocationRva + info.RelocationSize > (ulong)section.VirtualAddress + section.RawSize)
                    continue;
                info.RelocationFileOffset = (int)(section.RawOffset + (info.RelocationRva - section.VirtualAddress));
                return ApplyRelocations(file.Slice(info.RelocationFileOffset, (int)info.RelocationSize), in info, default, 0, apply: false);
            }
            return ImageProblem.Of(ImageError.RelocationsNotInSectionData, info.RelocationRva, (ulong)info.RelocationRva + info.RelocationSize);
        }

        /// <summary>Section <paramref name="index"/> of an image that passed <see cref="Check"/>.</summary>
        public static PeSection GetSection(ReadOnlySpan<byte> file, in PeImageInfo info, int index)
        {
            int header = info.SectionTableOffset + index * SectionHeaderSize;
            return new PeSection
            {
                VirtualSize = Read32(file, header + 8),
                VirtualAddress = Read32(file, header + 12),
                RawSize = Read32(file, header + 16),
                RawOffset = Read32(file, header + 20),
                Characteristics = Read32(file, header + 36),
            };
        }

        /// <summary>
        /// Lays a checked image out in <paramref name="destination"/> (SizeOfImage bytes) and applies base
        /// relocations for <paramref name="loadBase"/>, the address the image will run at.
        /// </summary>
        public static ImageProblem Load(ReadOnlySpan<byte> file, in PeImageInfo info, Span<byte> destination, ulong loadBase)
        {
            // The caller's mistakes, refused before the destination is touched; nothing about the image can fail below.
            if ((uint)destination.Length < info.SizeOfImage)
                return ImageProblem.Of(ImageError.DestinationTooSmall, info.SizeOfImage, (ulong)destination.Length);
            ulong delta = loadBase - info.ImageBase;
            if (delta != 0 && !info.Relocatable)
                return ImageProblem.Of(ImageError.RelocationsStripped, info.ImageBase, loadBase);

            Span<byte> image = destination.Slice(0, (int)info.SizeOfImage);
            image.Clear();
            Copy(file.Slice(0, (int)info.SizeOfHeaders), image);
            for (int i = 0; i < info.SectionCount; i++)
            {
                // RawSize never exceeds MemorySize; a section without raw data (RawSize 0) stays zeros, whatever its pointer.
                PeSection section = GetSection(file, in info, i);
                if (section.RawSize != 0)
                    Copy(file.Slice((int)section.RawOffset, (int)section.RawSize), image.Slice((int)section.VirtualAddress));
            }
            if (delta == 0)
                return ImageProblem.Ok;
            return ApplyRelocations(file.Slice(info.RelocationFileOffset, (int)info.RelocationSize), in info, image, delta, apply: true);
        }

        // Walks the base relocation blocks of <paramref name="table"/> (the directory's bytes in the file): Check walks
        // them without applying, Load applies them to <paramref name="image"/>, so both meet the same blocks and verdicts.
        private static ImageProblem ApplyRelocations(ReadOnlySpan<byte> table, in PeImageInfo info, Span<byte> image, ulong delta, bool apply)
        {
            int offset = 0;
            int end = table.Length;
            while (offset + 8 <= end)
            {
                uint pageRva = Read32(table, offset);
                uint blockSize = Read32(table, offset + 4);
                if (blockSize < 8 || (blockSize & 1) != 0 || blockSize > (uint)(end - offset))
                    return ImageProblem.Of(ImageError.BadRelocationBlock, (ulong)(end - offset), blockSize);
                for (int entry = offset + 8; entry < offset + (int)blockSize; entry += 2)
                {
                    ushort value = Read16(table, entry);
                    int type = value >> 12;
                    ulong target = (ulong)pageRva + (uint)(value & 0xFFF);
                    int width = type == 10 ? 8 : type == 3 ? 4 : 0; // DIR64, HIGHLOW
                    if (type == 0)
                        continue; // ABSOLUTE: padding
                    if (width == 0 || (width == 8) != info.Is64Bit)
                        return ImageProblem.Of(ImageError.UnsupportedRelocation, info.Is64Bit ? 10UL : 3UL, (ulong)type);
                    if (target + (ulong)width > info.SizeOfImage)
                        return ImageProblem.Of(ImageError.RelocationsOutsideImage, info.SizeOfImage, target + (ulong)width);
                    if (!apply)
                        continue;
                    if (width == 8)
                        Write64(image, (int)target, Read64(image, (int)target) + delta);
                    else
                        Write32(image, (int)target, Read32(image, (int)target) + (uint)delta);
                }
                offset += (int)blockSize;
            }
            return ImageProblem.Ok;
        }

        private static bool IsPowerOfTwo(uint value) => value != 0 && (value & (value - 1)) == 0;

        private static void Copy(ReadOnlySpan<byte> source, Span<byte> destination)
        {
            for (int i = 0; i < source.Length; i++)
                destination[i] = source[i];
        }

        private static ushort Read16(ReadOnlySpan<byte> data, int offset) => (ushort)(data[offset] | data[offset + 1] << 8);

        private static uint Read32(ReadOnlySpan<byte> data, int offset) => Read16(data, offset) | (uint)Read16(data, offset + 2) << 16;

        private static ulong Read64(ReadOnlySpan<byte> data, int offset) => Read32(data, offset) | (ulong)Read32(data, offset + 4) << 32;

        private static void Write32(Span<byte> data, int offset, uint value)
        {
            for (int i = 0; i < 4; i++)
                data[offset + i] = (byte)(value >> (8 * i));
        }

        private static void Write64(Span<byte> data, int offset, ulong value)
        {
            Write32(data, offset, (uint)value);
            Write32(data, offset + 4, (uint)(value >> 32));
        }
    }
}
