using System.Text;

namespace ExectOS.Tool.Boot;

/// <summary>Removes terminal escape sequences from one line of serial text.</summary>
/// <remarks>OVMF's console driver writes ANSI colour, cursor and clear-screen sequences to COM1;
/// people and parsers want only the text. Sequences never contain a line feed, so a line at a time is enough.</remarks>
public static class AnsiStripper
{
    private const char Escape = '\u001B';
    private const char Bell = '\u0007';

    /// <summary>The C1 control that some terminals accept in place of ESC [.</summary>
    private const char SingleByteCsi = '\u009B';

    public static string Strip(string line)
    {
        if (line.IndexOf(Escape) < 0 && line.IndexOf(SingleByteCsi) < 0)
        {
            return line;
        }

        var text = new StringBuilder(line.Length);
        int i = 0;
        while (i < line.Length)
        {
            char c = line[i];
            if (c == SingleByteCsi)
            {
                i = SkipControlSequence(line, i + 1);
            }
            else if (c == Escape)
            {
                i = SkipEscape(line, i + 1);
            }
            else
            {
                text.Append(c);
                i++;
            }
        }

        return text.ToString();
    }

    /// <summary>Returns the index just past the sequence whose ESC was at <paramref name="i"/> - 1.</summary>
    private static int SkipEscape(string line, int i)
    {
        if (i >= line.Length)
        {
            return i;
        }

        char kind = line[i];
        switch (kind)
        {
            case '[':
                return SkipControlSequence(line, i + 1);
            case ']' or 'P' or 'X' or '^' or '_':
                // OSC, DCS, SOS, PM, APC: a string ended by BEL or ESC \.
                return SkipControlString(line, i + 1);
        }

        // nF sequences such as ESC ( B: intermediates 0x20-0x2F, then one final byte.
        while (i < line.Length && line[i] is >= ' ' and <= '/')
        {
            i++;
        }

        // Fp/Fe/Fs single-character sequences (ESC c, ESC 7, ESC =) or the nF final byte.
        return i < line.Length && line[i] is >= '0' and <= '~' ? i + 1 : i;
    }

    /// <summary>CSI: parameter bytes 0x30-0x3F, intermediates 0x20-0x2F, one final byte 0x40-0x7E.</summary>
    private static int SkipControlSequence(string line, int i)
    {
        while (i < line.Length && line[i] is >= '0' and <= '?')
        {
            i++;
        }

        while (i < line.Length && line[i] is >= ' ' and <= '/')
        {
            i++;
        }

        return i < line.Length && line[i] is >= '@' and <= '~' ? i + 1 : i;
    }

    private static int SkipControlString(string line, int i)
    {
        while (i < line.Length)
        {
            if (line[i] == Bell)
            {
                return i + 1;
            }

            if (line[i] == Escape && i + 1 < line.Length && line[i + 1] == '\\')
            {
                return i + 2;
            }

            i++;
        }

        return i;
    }
}
