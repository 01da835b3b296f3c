using ExectOS.Text;

namespace ExectOS.Boot
{
    /// <summary>The first line the loader and the kernel print: who they are and what build they are.</summary>
    public static class Banner
    {
        /// <summary>Appends "&lt;component&gt; &lt;version&gt; (&lt;arch&gt;, &lt;configuration&gt;, commit &lt;commit&gt;".</summary>
        public static void Append(ref TextLine line, string component, string version, string architecture, string configuration, string commit)
        {
            line.Append(component);
            line.Append(' ');
            line.Append(version);
            line.Append(" (");
            line.Append(architecture);
            line.Append(", ");
            line.Append(configuration);
            line.Append(", commit ");
            line.Append(commit);
        }
    }
}
