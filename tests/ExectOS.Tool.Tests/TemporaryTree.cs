using System;
using System.IO;

namespace ExectOS.Tool.Tests;

/// <summary>A test class's own folder of files, deleted after each test.</summary>
public abstract class TemporaryTree(string prefix) : IDisposable
{
    protected string Root { get; } = Directory.CreateTempSubdirectory(prefix).FullName;

    public void Dispose()
    {
        Directory.Delete(Root, recursive: true);
        GC.SuppressFinalize(this);
    }

    protected void Write(string path, string text)
    {
        string full = Path.Combine(Root, path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.WriteAllText(full, text);
    }
}
