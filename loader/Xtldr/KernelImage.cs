using System;
using ExectOS.Boot;
using ExectOS.Images;
using ExectOS.Loader.Efi;
using ExectOS.Text;

namespace ExectOS.Loader
{
    /// <summary>Where the kernel was placed and how to enter it.</summary>
    internal unsafe struct LoadedKernel
    {
        public ulong PhysicalBase;
        public ulong ImageSize;
        public void* Entry;
    }

    /// <summary>Reads the kernel from the boot volume, checks it, and lays it out in memory.</summary>
    internal static unsafe class KernelImage
    {
        private const ulong PageSize = 4096;

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
            ImageProblem problem = PeImage.Check(bytes, PeMachine.Amd64, out PeImageInfo info);
            if (!problem.IsOk)
                return Refuse(problem);

            // Loader code memory: the firmware maps loader data no-execute, and the kernel runs from here until paging is ours.
            ulong pages = (info.SizeOfImage + PageSize - 1) / PageSize;
            ulong physical;
            status = bs->AllocatePages(EfiAllocateType.AnyPages, EfiMemoryType.LoaderCode, (nuint)pages, &physical);
            if (EfiStatus.IsError(status))
                return Refuse(ImageProblem.Of(ImageError.DestinationTooSmall, info.SizeOfImage, 0));

            // Under the firmware's identity mapping the image runs where it lies, so it is relocated to its physical address.
            problem = PeImage.Load(bytes, in info, new Span<byte>((void*)physical, (int)info.SizeOfImage), physical);
            bs->FreePool(file);
            if (!problem.IsOk)
                return Refuse(problem);

            kernel.PhysicalBase = physical;
            kernel.ImageSize = info.SizeOfImage;
            kernel.Entry = (void*)(physical + info.EntryPointRva);

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
            done.AppendHexPrefixed(info.ImageBase, 16);
            done.Append(')');
            LoaderConsole.WriteLine(done.AsSpan());
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
