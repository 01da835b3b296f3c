namespace ExectOS.Descriptors.Model;

/// <summary>Operators and operands of a layout formula.</summary>
internal enum ExpressionKind
{
    Number,
    Pages,
    Let,
    Add,
    Subtract,
    Multiply,
    Divide,
    Minimum,
    Maximum,
    /// <summary>above(a, b): 1 when a > b, else 0 (thresholds without conditionals).</summary>
    Above,
}

/// <summary>A formula over the physical page count: a number, `pages`, a `let`, or an operation on operands.</summary>
internal sealed record ExpressionModel(ExpressionKind Kind, long Value, string? Name, EquatableArray<ExpressionModel> Operands)
{
    /// <summary>Operations above the deepest leaf: what every recursive walk of the formula pays in stack.</summary>
    public int Depth { get; } = Operands.Count == 0 ? 0 : 1 + System.Math.Max(Operands[0].Depth, Operands[Operands.Count - 1].Depth);
}

/// <summary>`let NAME = EXPRESSION`.</summary>
internal sealed record LetModel(string Name, ExpressionModel Value);

/// <summary>How a region's start is found.</summary>
internal enum Placement
{
    /// <summary>Starts at a fixed address.</summary>
    At,
    /// <summary>Starts at the aligned end of another region.</summary>
    After,
    /// <summary>Ends at a fixed address.</summary>
    Below,
}

/// <summary>A region of the kernel's address space: where it goes and how big it is for a page count.</summary>
internal sealed record RegionModel(
    string Name,
    int Line,
    Placement Placement,
    ulong Address,
    string? After,
    ExpressionModel Size,
    ExpressionModel? Minimum,
    ExpressionModel? Maximum,
    ulong Align);

/// <summary>A layout for one mode, valid for page counts MinimumPages..MaximumPages.</summary>
internal sealed record LayoutModel(
    string Name,
    string Mode,
    int Line,
    ulong MinimumPages,
    ulong MaximumPages,
    EquatableArray<LetModel> Lets,
    EquatableArray<RegionModel> Regions);
