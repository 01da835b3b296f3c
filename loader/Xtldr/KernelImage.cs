using System;
using ExectOS.Boot;
using ExectOS.Images;
using ExectOS.Loader.Efi;
using ExectOS.Memory;
using ExectOS.Text;

namespace ExectOS.Loader
{
    /// <summary>Where the kernel was placed, where it runs, and the parts of it to map with their protections.</summary>
    internal unsafe struct LoadedKernel
    {
        public const int MaxRanges = 24;

        /// <summary>The file as read, until <see cref="KernelImage.Place"/> has laid it out.</summary>
        public byte* File;
        public ulong FileSize;
        public PeImageInfo Info;

        public ulong PhysicalBase;
        public ulong VirtualBase;
        public ulong ImageSize;
        public ulong Entry;
        public int RangeCount;
        public RangeArray Ranges;

        // An inline array, not a fixed buffer: ilc guards fixed buffers with a security cookie the images lack.
        [System.Runtime.CompilerServices.InlineArray(MaxRanges)]
        public struct RangeArray
        {
            public ImageRange First;
        }
    }

    /// <summary>
    /// Reads the kernel from the boot volume, checks it and allocates its pages (<see cref="Load"/>); once the
    /// paging mode and layout are known, lays it out relocated to where the layout puts it (<see cref="Place"/>).
    /// </summary>
    internal static unsafe class KernelImage
    {
        private const ulong PageSize = FirmwarePage.Size;

        internal static nuint Load(void* imageHandle, EfiBootServices* bs, out LoadedKernel kernel)
        {
            kernel = default;
            FileReadError readError = BootVolume.ReadFile(imageHandle, bs, BootProtocol.KernelPath, out byte* file, out ulong fileSize, out nuint status);
            if (readError != FileReadError.None)
            {
                TextLine line = default;
                line.Append("kernel image ");
                line.Append(BootProtocol.KernelPath);
                line.Append(' ');
                line.Append(BootVolume.Describe(readError));
                line.Append(" (EFI status ");
                line.AppendDecimal(EfiStatus.Code(status));
                line.Append(')');
                LoaderConsole.Error(line.AsSpan());
                return readError == FileReadError.NotFound ? EfiStatus.NotFound : EfiStatus.LoadError;
            }
            if (fileSize > int.MaxValue)
                return Refuse(ImageProblem.Of(ImageError.BadImageSize, int.MaxValue, fileSize));

            var bytes = new ReadOnlySpan<byte>(file, (int)fileSize);
            ImageProblem problem = PeImage.Check(bytes, BuildInfo.ImageMachine, out PeImageInfo info);
            if (!problem.IsOk)
                return Refuse(problem);

            if (info.SectionCount + 1 > LoadedKernel.MaxRanges)
                return Refuse(ImageProblem.Of(ImageError.BadImageSize, LoadedKernel.MaxRanges - 1, info.SectionCount));
            // Aligned to every mode's page, as the kernel maps its sections (its SectionAlignment is at least that).
            ulong physical = 0;
            status = LoaderPages.Allocate(bs, EfiAllocateType.AnyPages, EfiMemoryType.LoaderCode, info.SizeOfImage, ref physical);
            if (EfiStatus.IsError(status))
                return Refuse(ImageProblem.Of(ImageError.DestinationTooSmall, info.SizeOfImage, 0));

            kernel.File = file;
            kernel.FileSize = fileSize;
            kernel.Info = info;
            kernel.PhysicalBase = physical;
            kernel.ImageSize = info.SizeOfImage;

            TextLine done = default;
            done.Append("XTLDR: loaded ");
            done.Append(BootProtocol.KernelPath);
            done.Append(": ");
            done.AppendDecimal(fileSize);
            done.Append(" bytes, ");
            done.AppendDecimal((ulong)info.SectionCount);
            done.Append(" sections, image ");
            done.AppendSize(info.SizeOfImage);
            done.Append(" at ");
            done.AppendHexPrefixed(physical, 8);
            done.Append(" (linked at ");
            done.AppendHexPrefixed(info.ImageBase, 8);
            done.Append(')');
            LoaderConsole.WriteLine(done.AsSpan());
            return EfiStatus.Success;
        }

        /// <summary>
        /// Copies the sections into the kernel's pages relocated to <paramref name="virtualBase"/> (the start of the
        /// layout's loader-mappings window: the layout, not the link base, says where the kernel runs), and lists
        /// the parts to map: headers read-only, each section with what its characteristics allow.
        /// </summary>
        internal static nuint Place(EfiBootServices* bs, ref LoadedKernel kernel, ulong virtualBase)
        {
            var bytes = new ReadOnlySpan<byte>(kernel.File, (int)kernel.FileSize);
            ImageProblem problem = PeImage.Load(bytes, in kernel.Info, new Span<byte>((void*)(nuint)kernel.PhysicalBase, (int)kernel.Info.SizeOfImage), virtualBase);
            if (!problem.IsOk)
                return Refuse(problem);
            kernel.VirtualBase = virtualBase;
            kernel.Entry = virtualBase + kernel.Info.EntryPointRva;
            // Headers read-only, then each section with what its characteristics allow (the planner refuses W+X).
            Span<ImageRange> ranges = System.Runtime.InteropServices.MemoryMarshal.CreateSpan(ref kernel.Ranges.First, LoadedKernel.MaxRanges);
            kernel.RangeCount = 0;
            ranges[kernel.RangeCount++] = new ImageRange(0, kernel.Info.SizeOfHeaders, PageProtection.Read);
            for (int i = 0; i < kernel.Info.SectionCount; i++)
            {
                PeSection section = PeImage.GetSection(bytes, in kernel.Info, i);
                if (section.MemorySize != 0)
                    ranges[kernel.RangeCount++] = new ImageRange(section.VirtualAddress, section.MemorySize, ImageRange.FromCharacteristics(section.Characteristics));
            }
            bs->FreePool(kernel.File);
            kernel.File = null;
            return EfiStatus.Success;
        }

        private static nuint Refuse(in ImageProblem problem)
        {
            TextLine line = default;
            line.Append("kernel image ");
            line.Append(BootProtocol.KernelPath);
            line.Append(' ');
            problem.AppendTo(ref line);
            LoaderConsole.Error(line.AsSpan());
            return EfiStatus.LoadError;
        }
    }
}
