using ExectOS.Boot;
using ExectOS.Hardware;
using ExectOS.Memory;
using ExectOS.Paging.X86;
using ExectOS.Text;

namespace ExectOS.Kernel
{
    /// <summary>
    /// Reads physical memory through the identity mapping the loader hands over (the firmware's,
    /// until the loader builds the kernel's own tables).
    /// </summary>
    internal unsafe struct IdentityMappedMemory : IPhysicalMemory
    {
        public ulong Read64(PhysicalAddress address) => *(ulong*)address.Value;
        public void Write64(PhysicalAddress address, ulong value) => *(ulong*)address.Value = value;
        public uint Read32(PhysicalAddress address) => *(uint*)address.Value;
        public void Write32(PhysicalAddress address, uint value) => *(uint*)address.Value = value;
        public void Zero(PhysicalAddress address, ulong bytes) => new System.Span<byte>((void*)address.Value, (int)bytes).Clear();
    }

    /// <summary>Which paging mode the processor runs now.</summary>
    internal static class ActivePaging
    {
        private const int Cr4La57 = 1 << 12;

        internal static bool FiveLevel => (Cpu.ReadCr4() & Cr4La57) != 0;
    }

    /// <summary>Walks the live page tables with the generated paging code and checks what it finds.</summary>
    internal static unsafe class PagingCheck
    {
        internal static void Run(LoaderBlock* block)
        {
            if (ActivePaging.FiveLevel)
                Check<Amd64La57>(block);
            else
                Check<Amd64>(block);
        }

        private static void Check<TMode>(LoaderBlock* block) where TMode : struct, IPagingMode
        {
            ulong root = Cpu.ReadCr3() & ~0xFFFUL;
            if (root != (block->PageTableRoot & ~0xFFFUL))
                BugCheck.Raise(BugCheckCode.MemoryManagement, 0x100, root, block->PageTableRoot, 0);

            var table = new PageTable<TMode>(new PhysicalAddress(root));
            var memory = new IdentityMappedMemory();
            ulong stackLocal = 0;
            ulong code = (ulong)(delegate*<LoaderBlock*, void>)&Run;
            ulong stack = (ulong)&stackLocal;
            ulong data = (ulong)block;

            TextLine line = default;
            line.Append("XTOSKRNL: paging ");
            line.Append(TMode.Name);
            line.Append(" (");
            line.AppendDecimal((ulong)TMode.LevelCount);
            line.Append(" levels), root ");
            line.AppendHexPrefixed(root, 8);
            line.Append(": code in a ");
            CheckIdentity(ref table, ref memory, code, ref line);
            line.Append(" page, stack in a ");
            CheckIdentity(ref table, ref memory, stack, ref line);
            line.Append(" page, loader block in a ");
            CheckIdentity(ref table, ref memory, data, ref line);
            line.Append(" page, all identity-mapped");
            KernelConsole.WriteLine(line.AsSpan());
        }

        private static void CheckIdentity<TMode>(ref PageTable<TMode> table, ref IdentityMappedMemory memory, ulong address, ref TextLine line)
            where TMode : struct, IPagingMode
        {
            if (!table.Translate(ref memory, new VirtualAddress(address), out Translation translation) || translation.Address.Value != address)
                BugCheck.Raise(BugCheckCode.MemoryManagement, 0x101, address, translation.Address.Value, (ulong)translation.Level);
            line.AppendSize(1UL << TMode.LevelShift(translation.Level));
        }
    }
}
