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
#pragma warning restore CS0660, CS0661
}
