using System;
using System.IO;

namespace ExectOS.Tool.Boot;

/// <summary>A throw-away folder holding the FAT volume QEMU presents and a writable copy of the firmware variables.</summary>
/// <remarks>Fresh per run so no state (boot order, NVRAM, a half-written file) leaks from one boot into the next.</remarks>
public sealed class BootVolume : IDisposable
{
    private BootVolume(string root, bool keep)
    {
        Root = root;
        Keep = keep;
        VolumeDirectory = Path.Combine(root, "volume");
        FirmwareVars = Path.Combine(root, "vars.fd");
    }

    /// <summary>The temporary folder that holds everything else.</summary>
    public string Root { get; }

    /// <summary>The folder QEMU turns into a FAT disk.</summary>
    public string VolumeDirectory { get; }

    /// <summary>The writable copy of the firmware's variable store.</summary>
    public string FirmwareVars { get; }

    /// <summary>True when the folder survives <see cref="Dispose"/> (EXECTOS_KEEP_TEMP=1), for post-mortems.</summary>
    public bool Keep { get; }

    public static BootVolume Create(ArchitectureProfile profile, string loader, string? kernel, bool keep, string? kernelParameters = null)
    {
        var volume = new BootVolume(Directory.CreateTempSubdirectory("exectos-").FullName, keep);
        try
        {
            volume.Place(loader, "EFI/BOOT/" + profile.BootFileName);
            if (kernel is not null)
                volume.Place(kernel, BootProtocol.KernelVolumePath);
            if (kernelParameters is not null)
                File.WriteAllText(Path.Combine(volume.VolumeDirectory, BootProtocol.ParametersVolumePath), kernelParameters + "\n");
            File.Copy(profile.FirmwareVars, volume.FirmwareVars);
            EnsureWritable(volume.FirmwareVars);
            return volume;
        }
        catch
        {
            volume.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        if (!Keep && Directory.Exists(Root))
        {
            Directory.Delete(Root, recursive: true);
        }
    }

    private void Place(string source, string volumePath)
    {
        string target = Path.Combine(VolumeDirectory, volumePath);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        File.Copy(source, target);
    }

    /// <summary>The packaged variable store may be read-only for the user; QEMU needs to write the copy.</summary>
    private static void EnsureWritable(string path)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, File.GetUnixFileMode(path) | UnixFileMode.UserWrite | UnixFileMode.UserRead);
        }
    }
}
