using System;
using System.Collections.Generic;
using System.Text;

namespace ExectOS.Tool.Boot;

/// <summary>Turns the raw byte stream from QEMU's serial port into clean lines.</summary>
/// <remarks>Firmware and loader write CRLF; OVMF also writes bare CRs and escape sequences. A line
/// ends at LF only; every CR and escape sequence is removed and nothing else is touched.</remarks>
public sealed class SerialLineReader
{
    /// <summary>A guest that never sends a line feed still gets its output shown, in pieces this long.</summary>
    public const int MaxLineBytes = 64 * 1024;

    private readonly List<byte> _pending = new();

    /// <summary>Adds bytes and returns the lines they complete.</summary>
    public IReadOnlyList<string> Feed(ReadOnlySpan<byte> bytes)
    {
        var lines = new List<string>();
        foreach (byte b in bytes)
        {
            if (b == (byte)'\n')
            {
                lines.Add(TakePending());
                continue;
            }

            _pending.Add(b);
            if (_pending.Count >= MaxLineBytes)
            {
                lines.Add(TakePending());
            }
        }

        return lines;
    }

    /// <summary>The unfinished last line, if the stream ended without a line feed.</summary>
    public string? Finish() => _pending.Count == 0 ? null : TakePending();

    /// <summary>Cleans one line of already decoded text.</summary>
    public static string Clean(string raw) => AnsiStripper.Strip(raw).Replace("\r", string.Empty, StringComparison.Ordinal);

    private string TakePending()
    {
        // UTF-8 decoding replaces invalid bytes, so binary noise cannot break the stream.
        string raw = Encoding.UTF8.GetString(_pending.ToArray());
        _pending.Clear();
        return Clean(raw);
    }
}
