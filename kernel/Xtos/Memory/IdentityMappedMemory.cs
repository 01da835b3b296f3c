namespace ExectOS.Memory
{
    /// <summary>
    /// Physical memory where every page is mapped at its own address: the loader under the firmware's
    /// tables, building the kernel's. The kernel has no such mapping (see the hyperspace window).
    /// </summary>
    public unsafe struct IdentityMappedMemory : IPhysicalMemory
    {
        public ulong Read64(PhysicalAddress address) => *(ulong*)address.Value;
        public void Write64(PhysicalAddress address, ulong value) => *(ulong*)address.Value = value;
        public uint Read32(PhysicalAddress address) => *(uint*)address.Value;
        public void Write32(PhysicalAddress address, uint value) => *(uint*)address.Value = value;
        public void Zero(PhysicalAddress address, ulong bytes) => new System.Span<byte>((void*)address.Value, (int)bytes).Clear();
    }

    /// <summary>Hands out the pages of one run in order (the loader's page-table pool); counts what it gave.</summary>
    public struct RunAllocator : IFrameAllocator
    {
        private readonly ulong _end;
        private readonly int _pageShift;
        private ulong _next;

        public RunAllocator(PhysicalAddress start, ulong pages, int pageShift)
        {
            _next = start.Value;
            _end = start.Value + (pages << pageShift);
            _pageShift = pageShift;
            Returned = 0;
        }

        /// <summary>Pages given out so far.</summary>
        public readonly ulong Next => _next;

        /// <summary>Pages given back; the run is not reused, so the caller treats any as an error.</summary>
        public ulong Returned;

        public bool TryAllocate(out PhysicalAddress frame)
        {
            frame = new PhysicalAddress(_next);
            if (_next >= _end)
                return false;
            _next += 1UL << _pageShift;
            return true;
        }

        public void Free(PhysicalAddress frame) => Returned++;
    }
}
