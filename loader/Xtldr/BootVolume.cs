using ExectOS.Loader.Efi;

namespace ExectOS.Loader
{
    /// <summary>Why a file could not be read from the boot volume.</summary>
    internal enum FileReadError
    {
        None,
        NoLoadedImage,
        NoFileSystem,
        CannotOpenVolume,
        NotFound,
        NoFileInfo,
        OutOfMemory,
        ReadFailed,
        ShortRead,
    }

    /// <summary>Reads whole files from the volume the loader itself was loaded from.</summary>
    internal static unsafe class BootVolume
    {
        /// <summary>Reads <paramref name="path"/> into a pool buffer owned by the caller.</summary>
        internal static FileReadError ReadFile(void* imageHandle, EfiBootServices* bs, string path, out byte* data, out ulong size, out nuint status)
        {
            data = null;
            size = 0;
            EfiGuid loadedImageGuid = EfiGuid.LoadedImageProtocol;
            EfiLoadedImageProtocol* loadedImage;
            status = bs->HandleProtocol(imageHandle, &loadedImageGuid, (void**)&loadedImage);
            if (EfiStatus.IsError(status))
                return FileReadError.NoLoadedImage;

            EfiGuid fileSystemGuid = EfiGuid.SimpleFileSystemProtocol;
            EfiSimpleFileSystemProtocol* fileSystem;
            status = bs->HandleProtocol(loadedImage->DeviceHandle, &fileSystemGuid, (void**)&fileSystem);
            if (EfiStatus.IsError(status))
                return FileReadError.NoFileSystem;

            EfiFileProtocol* root;
            status = fileSystem->OpenVolume(fileSystem, &root);
            if (EfiStatus.IsError(status))
                return FileReadError.CannotOpenVolume;

            EfiFileProtocol* file;
            fixed (char* name = path)
                status = root->Open(root, &file, name, EfiFileProtocol.ModeRead, 0);
            root->Close(root);
            if (EfiStatus.IsError(status))
                return FileReadError.NotFound;

            FileReadError error = ReadAll(bs, file, out data, out size, out status);
            file->Close(file);
            return error;
        }

        private static FileReadError ReadAll(EfiBootServices* bs, EfiFileProtocol* file, out byte* data, out ulong size, out nuint status)
        {
            data = null;
            size = 0;
            // EFI_FILE_INFO is followed by the file name; ask again with the size the firmware reports if ours is short.
            nuint infoSize = 512;
            void* info;
            status = bs->AllocatePool(EfiMemoryType.LoaderData, infoSize, &info);
            if (EfiStatus.IsError(status))
                return FileReadError.OutOfMemory;
            EfiGuid infoGuid = EfiGuid.FileInfo;
            status = file->GetInfo(file, &infoGuid, &infoSize, info);
            if (status == EfiStatus.BufferTooSmall)
            {
                bs->FreePool(info);
                status = bs->AllocatePool(EfiMemoryType.LoaderData, infoSize, &info);
                if (EfiStatus.IsError(status))
                    return FileReadError.OutOfMemory;
                status = file->GetInfo(file, &infoGuid, &infoSize, info);
            }
            ulong fileSize = ((EfiFileInfo*)info)->FileSize;
            bs->FreePool(info);
            if (EfiStatus.IsError(status))
                return FileReadError.NoFileInfo;

            void* buffer;
            status = bs->AllocatePool(EfiMemoryType.LoaderData, (nuint)(fileSize == 0 ? 1 : fileSize), &buffer);
            if (EfiStatus.IsError(status))
                return FileReadError.OutOfMemory;

            ulong done = 0;
            while (done < fileSize)
            {
                nuint chunk = (nuint)(fileSize - done);
                status = file->Read(file, &chunk, (byte*)buffer + done);
                if (EfiStatus.IsError(status))
                {
                    bs->FreePool(buffer);
                    return FileReadError.ReadFailed;
                }
                if (chunk == 0)
                {
                    bs->FreePool(buffer);
                    return FileReadError.ShortRead;
                }
                done += chunk;
            }
            data = (byte*)buffer;
            size = fileSize;
            return FileReadError.None;
        }

        internal static string Describe(FileReadError error) => error switch
        {
            FileReadError.NoLoadedImage => "the firmware gave no loaded-image protocol for the loader",
            FileReadError.NoFileSystem => "the loader's boot device has no file system the firmware can read",
            FileReadError.CannotOpenVolume => "the boot volume could not be opened",
            FileReadError.NotFound => "was not found on the boot volume",
            FileReadError.NoFileInfo => "has no file information",
            FileReadError.OutOfMemory => "does not fit in the memory the firmware can give",
            FileReadError.ReadFailed => "could not be read",
            FileReadError.ShortRead => "ended before its declared size",
            _ => "could not be read",
        };
    }
}
