using System;
using ExectOS.Boot;
using ExectOS.Loader.Efi;
using ExectOS.Text;

namespace ExectOS.Loader
{
    /// <summary>Reads the optional kernel parameter file into the loader block.</summary>
    internal static unsafe class BootParameters
    {
        /// <summary>An absent file means no parameters; an unreadable or malformed one is a loader error.</summary>
        internal static nuint Read(void* imageHandle, EfiBootServices* bs, LoaderBlock* block)
        {
            FileReadError error = BootVolume.ReadFile(imageHandle, bs, BootProtocol.ParametersPath, out byte* data, out ulong size, out nuint status);
            if (error == FileReadError.NotFound)
                return EfiStatus.Success;
            TextLine line = default;
            line.Append("kernel parameters ");
            line.Append(BootProtocol.ParametersPath);
            line.Append(' ');
            if (error != FileReadError.None)
            {
                line.Append(BootVolume.Describe(error));
                LoaderConsole.Error(line.AsSpan());
                return EfiStatus.LoadError;
            }

            int length = size > KernelParameters.Capacity ? KernelParameters.Capacity : (int)size;
            ParameterError problem = KernelParameters.Copy(new ReadOnlySpan<byte>(data, length), new Span<byte>(block->Parameters, KernelParameters.Capacity), out _, out int badOffset);
            bs->FreePool(data);
            if (problem == ParameterError.None)
                return EfiStatus.Success;

            line.Append(problem == ParameterError.TooLong ? "are longer than " : "contain a byte that is not printable ASCII at offset ");
            line.AppendDecimal((ulong)(problem == ParameterError.TooLong ? KernelParameters.Capacity - 1 : badOffset));
            if (problem == ParameterError.TooLong)
                line.Append(" characters");
            LoaderConsole.Error(line.AsSpan());
            return EfiStatus.LoadError;
        }
    }
}
