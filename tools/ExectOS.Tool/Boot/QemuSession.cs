using System;
using System.Diagnostics;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace ExectOS.Tool.Boot;

/// <summary>Runs QEMU, streams its serial port line by line, and stops it on a verdict, a timeout or an interrupt.</summary>
public static class QemuSession
{
    /// <summary>How long to wait for the last output once QEMU is gone; its pipes close with it.</summary>
    private static readonly TimeSpan DrainGrace = TimeSpan.FromSeconds(5);

    /// <param name="onSerialLine">Gets each clean serial line; returning true stops QEMU (the run is decided).</param>
    /// <param name="onErrorLine">Gets each line QEMU writes to its stderr.</param>
    /// <param name="started">Called once QEMU runs (exectos debug starts gdb there).</param>
    public static SessionResult Run(
        ProcessInvocation invocation,
        TimeSpan? timeout,
        Func<string, bool> onSerialLine,
        Action<string> onErrorLine,
        CancellationToken interrupt,
        Action? started = null)
    {
        // Started on the calling thread, which waits here until QEMU is gone: the parent-death signal stays armed.
        using var process = new Process { StartInfo = HostProcess.CreateStartInfo(HostProcess.DiesWithParent(invocation)) };
        var stopwatch = Stopwatch.StartNew();
        process.Start();
        started?.Invoke();

        var decided = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task serialPump = Task.Run(() => PumpSerial(process.StandardOutput.BaseStream, onSerialLine, decided));
        Task errorPump = Task.Run(() => PumpLines(process.StandardError, onErrorLine));

        // Only the interrupt task listens to the caller's token, so whichever task finishes first names the cause.
        using var stopWaiting = new CancellationTokenSource();
        Task exited = process.WaitForExitAsync(stopWaiting.Token);
        Task expired = Task.Delay(timeout ?? Timeout.InfiniteTimeSpan, stopWaiting.Token);
        Task interrupted = Task.Delay(Timeout.InfiniteTimeSpan, interrupt);
        Task first = Task.WhenAny(exited, decided.Task, expired, interrupted).GetAwaiter().GetResult();
        stopWaiting.Cancel();

        SessionEnd end = first == exited ? SessionEnd.Exited
            : first == decided.Task ? SessionEnd.StoppedByVerdict
            : first == expired ? SessionEnd.TimedOut
            : SessionEnd.Interrupted;
        if (end != SessionEnd.Exited)
        {
            Stop(process);
        }

        process.WaitForExit();
        TimeSpan elapsed = stopwatch.Elapsed;
        process.StandardInput.Close();
        Task.WaitAll([serialPump, errorPump], DrainGrace);

        // A terminal's Ctrl-C reaches QEMU too, which may exit first and look like a plain exit.
        if (interrupt.IsCancellationRequested)
        {
            end = SessionEnd.Interrupted;
        }

        return new SessionResult(end, process.ExitCode, elapsed);
    }

    private static void Stop(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    private static void PumpSerial(Stream stream, Func<string, bool> onLine, TaskCompletionSource decided)
    {
        var reader = new SerialLineReader();
        var buffer = new byte[4096];
        int count;
        while ((count = stream.Read(buffer, 0, buffer.Length)) > 0)
        {
            foreach (string line in reader.Feed(buffer.AsSpan(0, count)))
            {
                Deliver(line, onLine, decided);
            }
        }

        if (reader.Finish() is { } last)
        {
            Deliver(last, onLine, decided);
        }
    }

    private static void Deliver(string line, Func<string, bool> onLine, TaskCompletionSource decided)
    {
        if (onLine(line))
        {
            decided.TrySetResult();
        }
    }

    private static void PumpLines(StreamReader reader, Action<string> onLine)
    {
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            onLine(line);
        }
    }
}
