namespace ExectOS.Memory
{
#pragma warning disable CS0660, CS0661 // equality by value; the core library's Object has no virtual Equals to override
    /// <summary>A physical address: never confused with a virtual one, always 64 bits (PAE reaches past 4 GiB).</summary>
    public readonly struct PhysicalAddress
    {
        public readonly ulong Value;

        public PhysicalAddress(ulong value) { Value = value; }

        /// <summary>True when the low <paramref name="shift"/> bits are zero.</summary>
        public bool IsAligned(int shift) => (Value & ((1UL << shift) - 1)) == 0;

        public static PhysicalAddress operator +(PhysicalAddress address, ulong offset) => new PhysicalAddress(address.Value + offset);

        public static bool operator ==(PhysicalAddress left, PhysicalAddress right) => left.Value == right.Value;

        public static bool operator !=(PhysicalAddress left, PhysicalAddress right) => left.Value != right.Value;
    }

    /// <summary>A virtual address.</summary>
    public readonly struct VirtualAddress
    {
        public readonly ulong Value;

        public VirtualAddress(ulong value) { Value = value; }

        public bool IsAligned(int shift) => (Value & ((1UL << shift) - 1)) == 0;

        public static VirtualAddress operator +(VirtualAddress address, ulong offset) => new VirtualAddress(address.Value + offset);

        public static bool operator ==(VirtualAddress left, VirtualAddress right) => left.Value == right.Value;

        public static bool operator !=(VirtualAddress left, VirtualAddress right) => left.Value != right.Value;
    }
    /// <summary>A page frame number: a physical page's index, never an address or a count of pages.</summary>
    public readonly struct PageFrameNumber
    {
        public readonly ulong Value;

        public PageFrameNumber(ulong value) { Value = value; }

        /// <summary>The frame that holds <paramref name="address"/>.</summary>
        public static PageFrameNumber Of(PhysicalAddress address, int pageShift) => new PageFrameNumber(address.Value >> pageShift);

        /// <summary>The physical address of the frame's first byte.</summary>
        public PhysicalAddress ToAddress(int pageShift) => new PhysicalAddress(Value << pageShift);

        public static PageFrameNumber operator +(PageFrameNumber frame, ulong count) => new PageFrameNumber(frame.Value + count);

        public static PageFrameNumber operator -(PageFrameNumber frame, ulong count) => new PageFrameNumber(frame.Value - count);

        /// <summary>Frames from <paramref name="first"/> up to <paramref name="end"/>: a count.</summary>
        public static ulong operator -(PageFrameNumber end, PageFrameNumber first) => end.Value - first.Value;

        public static bool operator ==(PageFrameNumber left, PageFrameNumber right) => left.Value == right.Value;

        public static bool operator !=(PageFrameNumber left, PageFrameNumber right) => left.Value != right.Value;

        public static bool operator <(PageFrameNumber left, PageFrameNumber right) => left.Value < right.Value;

        public static bool operator >(PageFrameNumber left, PageFrameNumber right) => left.Value > right.Value;

        public static bool operator <=(PageFrameNumber left, PageFrameNumber right) => left.Value <= right.Value;

        public static bool operator >=(PageFrameNumber left, PageFrameNumber right) => left.Value >= right.Value;
    }
#pragma warning restore CS0660, CS0661
}
