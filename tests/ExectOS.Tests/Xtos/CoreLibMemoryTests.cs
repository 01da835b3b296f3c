using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Xunit;
using CoreSpanHelpers = System.SpanHelpers;

namespace ExectOS.Tests.Xtos;

/// <summary>The core library's block copy and fill (what ilc calls for struct copies and zeroing), run hosted.</summary>
public class CoreLibMemoryTests
{
    [Fact]
    public void MemmoveMatchesAReferenceForEveryOverlap()
    {
        var random = new Random(7);
        for (int round = 0; round < 5000; round++)
        {
            byte[] buffer = new byte[96];
            random.NextBytes(buffer);
            int length = random.Next(0, 40);
            int source = random.Next(0, buffer.Length - length + 1);
            int destination = random.Next(0, buffer.Length - length + 1);
            byte[] expected = (byte[])buffer.Clone();
            Array.Copy(buffer, source, expected, destination, length); // Array.Copy handles overlap as memmove does

            ref byte data = ref MemoryMarshal.GetArrayDataReference(buffer);
            CoreSpanHelpers.Memmove(ref Unsafe.Add(ref data, destination), ref Unsafe.Add(ref data, source), (nuint)length);

            Assert.True(expected.AsSpan().SequenceEqual(buffer), $"round {round}: {length} bytes from {source} to {destination}");
        }
    }

    [Fact]
    public void FillWritesExactlyTheRange()
    {
        for (int length = 0; length < 40; length++)
        {
            byte[] buffer = new byte[48];
            buffer.AsSpan().Fill(0x11);
            CoreSpanHelpers.Fill(ref buffer[3], 0xA5, (nuint)length);
            for (int i = 0; i < buffer.Length; i++)
                Assert.Equal(i >= 3 && i < 3 + length ? 0xA5 : 0x11, buffer[i]);
        }
    }
}
