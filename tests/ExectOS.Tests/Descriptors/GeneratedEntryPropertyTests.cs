using System;
using System.Linq;
using System.Reflection;
using CsCheck;
using ExectOS.Memory;
using Xunit;

namespace ExectOS.Tests.Descriptors;

/// <summary>
/// Properties every generated entry format must have, checked on random raw entries: a setter changes
/// its field and nothing else, a getter returns what was set, masks tile the entry exactly.
/// </summary>
public class GeneratedEntryPropertyTests
{
    private static readonly string[] NotFields = ["Value", "HasReservedBits", "MatchesFixedBits"];

    [Fact]
    public void EveryDescriptorFormatIsGenerated()
    {
        var declared = GeneratorHarness.RepositoryDescriptors()
            .SelectMany(path => System.Text.RegularExpressions.Regex.Matches(System.IO.File.ReadAllText(path), @"^entry (\w+) bits", System.Text.RegularExpressions.RegexOptions.Multiline))
            .Select(match => match.Groups[1].Value).OrderBy(n => n, StringComparer.Ordinal);
        Assert.Equal(declared, GeneratedTypes.EntryFormats().Select(t => t.Name).OrderBy(n => n, StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(GeneratedTypes.EntryFormatData), MemberType = typeof(GeneratedTypes))]
    public void FieldMasksTileTheEntryExactly(string formatName)
    {
        Type format = GeneratedTypes.Named(formatName);
        int width = (int)format.GetField("Width")!.GetValue(null)!;
        ulong union = Constant(format, "ReservedMask");
        foreach (string field in Fields(format))
        {
            ulong mask = Constant(format, field + "Mask");
            Assert.True((union & mask) == 0, $"{formatName}.{field} overlaps another field");
            union |= mask;
        }
        ulong all = width == 64 ? ulong.MaxValue : (1UL << width) - 1;
        Assert.True(union == all, $"{formatName} leaves bits {all & ~union:X} undescribed");
        Assert.Equal(Constant(format, "FixedValue"), Constant(format, "FixedValue") & Constant(format, "FixedMask"));
        Assert.Equal(0UL, Constant(format, "SoftwareMask") & Constant(format, "ReservedMask"));
    }

    [Theory]
    [MemberData(nameof(GeneratedTypes.EntryFormatData), MemberType = typeof(GeneratedTypes))]
    public void SettersChangeOnlyTheirFieldAndGettersReadItBack(string formatName)
    {
        Type format = GeneratedTypes.Named(formatName);
        bool wide = (int)format.GetField("Width")!.GetValue(null)! == 64;
        ulong reserved = Constant(format, "ReservedMask");
        foreach (string field in Fields(format).Where(f => format.GetMethod("With" + f) is not null))
        {
            ulong mask = Constant(format, field + "Mask");
            MethodInfo with = format.GetMethod("With" + field)!;
            PropertyInfo get = format.GetProperty(field)!;
            Gen.Select(Gen.ULong, Gen.ULong).Sample((raw, value) =>
            {
                raw &= ~reserved & (wide ? ulong.MaxValue : uint.MaxValue);
                object entry = Create(format, raw, wide);
                (object argument, object expected) = Argument(format, field, get.PropertyType, value, wide);
                object updated = with.Invoke(entry, [argument])!;
                ulong after = Raw(updated);
                return Equals(get.GetValue(updated), expected)          // reads back
                    && ((after ^ raw) & ~mask) == 0                      // nothing else moved
                    && (after & reserved) == 0;                          // reserved bits untouched
            }, iter: 300);
        }
    }

    [Theory]
    [MemberData(nameof(GeneratedTypes.EntryFormatData), MemberType = typeof(GeneratedTypes))]
    public void FramesHoldExactlyTheirAddressRange(string formatName)
    {
        Type format = GeneratedTypes.Named(formatName);
        string frame = Fields(format).Single(f => format.GetProperty(f)!.PropertyType == typeof(PhysicalAddress));
        ulong addressMask = (ulong)format.GetField(frame + "AddressMask")!.GetValue(null)!;
        MethodInfo canHold = format.GetMethod("CanHold" + frame)!;
        Gen.ULong.Sample(value =>
        {
            var inside = new PhysicalAddress(value & addressMask);
            bool outsideRejected = (value & ~addressMask) == 0 || !(bool)canHold.Invoke(null, [new PhysicalAddress(value)])!;
            return (bool)canHold.Invoke(null, [inside])! && outsideRejected;
        }, iter: 300);
        // The top address bit survives a round trip: no truncation (ExectOS bug #23).
        ulong top = 1UL << (63 - System.Numerics.BitOperations.LeadingZeroCount(addressMask));
        object entry = format.GetMethod("With" + frame)!.Invoke(Activator.CreateInstance(format), [new PhysicalAddress(top)])!;
        Assert.Equal(new PhysicalAddress(top), format.GetProperty(frame)!.GetValue(entry));
    }

    [Theory]
    [MemberData(nameof(GeneratedTypes.EntryFormatData), MemberType = typeof(GeneratedTypes))]
    public void EmptyEntriesCarryOnlyTheirFixedBits(string formatName)
    {
        Type format = GeneratedTypes.Named(formatName);
        object empty = format.GetProperty("Empty")!.GetValue(null)!;
        // Fixed flags, and the fixed numbers and enums (PresetValue) where the format has them.
        ulong preset = format.GetField("PresetValue") is null ? 0 : Constant(format, "PresetValue");
        Assert.Equal(Constant(format, "FixedValue") | preset, Raw(empty));
        Assert.True((bool)format.GetProperty("MatchesFixedBits")!.GetValue(empty)!);
        Assert.False((bool)format.GetProperty("HasReservedBits")!.GetValue(empty)!);
    }

    private static (object Argument, object Expected) Argument(Type format, string field, Type type, ulong value, bool wide)
    {
        if (type == typeof(bool))
            return ((value & 1) != 0, (value & 1) != 0);
        if (type == typeof(PhysicalAddress))
        {
            var address = new PhysicalAddress(value & (ulong)format.GetField(field + "AddressMask")!.GetValue(null)!);
            return (address, address);
        }
        if (type.IsEnum)
        {
            Array members = Enum.GetValues(type);
            object member = members.GetValue((int)(value % (ulong)members.Length))!;
            return (member, member);
        }
        ulong maximum = Constant(format, field + "Maximum");
        return wide ? ((object)value, (object)(value & maximum)) : ((object)(uint)value, (object)(uint)(value & maximum));
    }

    private static string[] Fields(Type format)
        => format.GetProperties(BindingFlags.Public | BindingFlags.Instance).Select(p => p.Name).Where(n => !NotFields.Contains(n)).ToArray();

    private static ulong Constant(Type format, string name) => Convert.ToUInt64(format.GetField(name)!.GetValue(null));

    private static object Create(Type format, ulong raw, bool wide) => Activator.CreateInstance(format, wide ? raw : (object)(uint)raw)!;

    private static ulong Raw(object entry) => Convert.ToUInt64(entry.GetType().GetField("Value")!.GetValue(entry));
}
