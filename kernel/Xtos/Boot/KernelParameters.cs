using System;
using ExectOS.Diagnostics;

namespace ExectOS.Boot
{
    /// <summary>Why a kernel parameter file was refused.</summary>
    public enum ParameterError
    {
        None = 0,
        TooLong,
        NotPrintable,
    }

    /// <summary>
    /// The kernel's boot parameters: one line of printable ASCII, tokens separated by spaces
    /// (e.g. "TEST=BUGCHECK"), read by the loader from <see cref="BootProtocol.ParametersPath"/>.
    /// </summary>
    public static class KernelParameters
    {
        /// <summary>Bytes the loader block holds for parameters, including the terminating zero.</summary>
        public const int Capacity = 256;

        /// <summary>Asks the kernel to fail on purpose in one named way (its names: the kernel's RequestedTests.Names).</summary>
        public const string TestPrefix = "TEST=";

        /// <summary>Sends one pool tag's allocations (or every tag's, with *) to the special pool.</summary>
        public const string SpecialPoolPrefix = "SPECIAL-POOL=";

        /// <summary>Caps the processors the kernel starts: a decimal count from 1 to <see cref="MaxProcessorCount"/>.</summary>
        public const string MaxProcessorsPrefix = "MAXCPUS=";
        public const uint MaxProcessorCount = 256;

        /// <summary>The loader's switches (XTLDR-NO-&lt;FEATURE&gt;, XTLDR-DUMP-MAP): the loader reads them, the kernel leaves them be.</summary>
        public const string LoaderPrefix = "XTLDR-";

        /// <summary>
        /// The first parameter the kernel reads whose value is wrong: a TEST= naming none of <paramref name="knownTests"/>
        /// (names separated by spaces or line ends), a SPECIAL-POOL= that is no pool tag, or a MAXCPUS= that is no count from 1 to 256; its offset and length in the line.
        /// </summary>
        public static BootParameterError FindProblem(ReadOnlySpan<byte> parameters, ReadOnlySpan<char> knownTests, out int offset, out int length)
        {
            int position = 0;
            while (NextToken(parameters, ref position, out ReadOnlySpan<byte> word))
            {
                offset = position - word.Length;
                length = word.Length;
                if (StartsWith(word, TestPrefix) && !IsOneOf(word.Slice(TestPrefix.Length), knownTests))
                    return BootParameterError.UnknownTest;
                if (StartsWith(word, SpecialPoolPrefix) && word.Length - SpecialPoolPrefix.Length is < 1 or > 4)
                    return BootParameterError.NotAPoolTag;
                if (StartsWith(word, MaxProcessorsPrefix) && !TryParseProcessorCount(word.Slice(MaxProcessorsPrefix.Length), out _))
                    return BootParameterError.NotAProcessorCount;
            }
            offset = 0;
            length = 0;
            return BootParameterError.None;
        }

        /// <summary>Whether the kernel or the loader reads <paramref name="word"/>; the kernel lists the others as ignored.</summary>
        public static bool IsRead(ReadOnlySpan<byte> word) =>
            StartsWith(word, TestPrefix) || StartsWith(word, SpecialPoolPrefix) || StartsWith(word, MaxProcessorsPrefix) || StartsWith(word, LoaderPrefix);

        /// <summary>A decimal processor count from 1 to <see cref="MaxProcessorCount"/>, digits only.</summary>
        public static bool TryParseProcessorCount(ReadOnlySpan<byte> text, out uint count)
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
            return count >= 1 && count <= MaxProcessorCount;
        }

        /// <summary>Whether <paramref name="word"/> is one of <paramref name="names"/>, separated by spaces or line ends.</summary>
        private static bool IsOneOf(ReadOnlySpan<byte> word, ReadOnlySpan<char> names)
        {
            int start = 0;
            while (start < names.Length)
            {
                int end = start;
                while (end < names.Length && names[end] is not (' ' or '\n' or '\r'))
                    end++;
                if (end - start == word.Length && word.Length != 0 && Matches(word, names.Slice(start, end - start)))
                    return true;
                start = end + 1;
            }
            return false;
        }

        private static bool StartsWith(ReadOnlySpan<byte> word, ReadOnlySpan<char> prefix) =>
            word.Length >= prefix.Length && Matches(word.Slice(0, prefix.Length), prefix);

        /// <summary>Copies the first line of <paramref name="file"/> (without CR/LF) into <paramref name="destination"/>, zero-terminated.</summary>
        public static ParameterError Copy(ReadOnlySpan<byte> file, Span<byte> destination, out int length, out int badOffset)
        {
            length = 0;
            badOffset = -1;
            int end = 0;
            while (end < file.Length && file[end] != (byte)'\n' && file[end] != (byte)'\r')
                end++;
            if (end >= destination.Length)
            {
                badOffset = destination.Length - 1;
                return ParameterError.TooLong;
            }
            for (int i = 0; i < end; i++)
            {
                byte b = file[i];
                if (b < 0x20 || b > 0x7E)
                {
                    badOffset = i;
                    return ParameterError.NotPrintable;
                }
                destination[i] = b;
            }
            destination[end] = 0;
            length = end;
            return ParameterError.None;
        }

        /// <summary>True when <paramref name="token"/> appears as a whole space-separated token.</summary>
        public static bool Contains(ReadOnlySpan<byte> parameters, ReadOnlySpan<char> token)
        {
            int position = 0;
            while (NextToken(parameters, ref position, out ReadOnlySpan<byte> word))
            {
                if (word.Length == token.Length && Matches(word, token))
                    return true;
            }
            return false;
        }

        /// <summary>The rest of the first token that starts with <paramref name="prefix"/> (say "SPECIAL-POOL="); false when there is none.</summary>
        public static bool TryGetValue(ReadOnlySpan<byte> parameters, ReadOnlySpan<char> prefix, out ReadOnlySpan<byte> value)
        {
            int position = 0;
            while (NextToken(parameters, ref position, out ReadOnlySpan<byte> word))
            {
                if (StartsWith(word, prefix))
                {
                    value = word.Slice(prefix.Length);
                    return true;
                }
            }
            value = default;
            return false;
        }

        /// <summary>The next space-separated token from <paramref name="position"/>, up to the terminating zero; it ends at <paramref name="position"/>.</summary>
        public static bool NextToken(ReadOnlySpan<byte> parameters, scoped ref int position, out ReadOnlySpan<byte> word)
        {
            while (position < parameters.Length && parameters[position] == (byte)' ')
                position++;
            int start = position;
            while (position < parameters.Length && parameters[position] != (byte)' ' && parameters[position] != 0)
                position++;
            word = parameters.Slice(start, position - start);
            return word.Length != 0;
        }

        private static bool Matches(ReadOnlySpan<byte> word, ReadOnlySpan<char> token)
        {
            for (int i = 0; i < word.Length; i++)
            {
                if (word[i] != token[i])
                    return false;
            }
            return true;
        }
    }
}
