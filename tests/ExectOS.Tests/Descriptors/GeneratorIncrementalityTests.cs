using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using ExectOS.Descriptors;
using ExectOS.Descriptors.Binding;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace ExectOS.Tests.Descriptors;

/// <summary>The generator does no work it need not do, and its pipeline values hold no compiler objects.</summary>
public class GeneratorIncrementalityTests
{
    private static readonly string X86 = GeneratorHarness.RepositoryDescriptors().First(p => p.Contains("x86"));
    private static readonly string RiscV = GeneratorHarness.RepositoryDescriptors().First(p => p.Contains("riscv"));

    private static (GeneratorDriver Driver, Compilation Compilation, InMemoryText X86Text, InMemoryText RiscVText) FirstRun()
    {
        var x86 = new InMemoryText(X86, File.ReadAllText(X86));
        var riscV = new InMemoryText(RiscV, File.ReadAllText(RiscV));
        Compilation compilation = GeneratorHarness.EmptyCompilation();
        GeneratorDriver driver = GeneratorHarness.Driver(x86, riscV).RunGenerators(compilation);
        return (driver, compilation, x86, riscV);
    }

    private static IEnumerable<IncrementalStepRunReason> CompileStepReasons(GeneratorDriver driver)
        => driver.GetRunResult().Results.Single().TrackedSteps[DescriptorGenerator.StepNames.Compile]
            .SelectMany(step => step.Outputs).Select(output => output.Reason);

    [Fact]
    public void AnUnrelatedCodeEditLeavesEveryStepCached()
    {
        var (driver, compilation, _, _) = FirstRun();

        driver = driver.RunGenerators(compilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText("class Unrelated { }")));

        Assert.All(CompileStepReasons(driver), reason => Assert.Equal(IncrementalStepRunReason.Cached, reason));
        Assert.All(driver.GetRunResult().Results.Single().TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs),
            output => Assert.Equal(IncrementalStepRunReason.Cached, output.Reason));
    }

    [Fact]
    public void EditingOneDescriptorRecompilesOnlyThatOne()
    {
        var (driver, compilation, _, riscV) = FirstRun();
        var edited = new InMemoryText(RiscV, File.ReadAllText(RiscV).Replace("software Available [9:8]", "software Spare [9:8]"));

        driver = driver.ReplaceAdditionalText(riscV, edited).RunGenerators(compilation);

        var steps = driver.GetRunResult().Results.Single().TrackedSteps[DescriptorGenerator.StepNames.Compile];
        Assert.Contains((RiscV, IncrementalStepRunReason.Modified), steps.Select(s => (PathOf(s), s.Outputs.Single().Reason)));
        Assert.Contains((X86, IncrementalStepRunReason.Cached), steps.Select(s => (PathOf(s), s.Outputs.Single().Reason)));
        Assert.Contains(driver.GetRunResult().GeneratedTrees, t => t.ToString().Contains("Spare"));
    }

    [Fact]
    public void AnEditThatChangesNothingMeaningfulLeavesTheOutputUnchanged()
    {
        var (driver, compilation, x86, _) = FirstRun();
        // A longer comment on an existing line: new text, same model, so nothing downstream reruns.
        var edited = new InMemoryText(X86, File.ReadAllText(X86).Replace("# Bits 5:0 mean the same", "# Bits 5:0 (P, R/W, U/S, PWT, PCD, A) mean the same"));

        driver = driver.ReplaceAdditionalText(x86, edited).RunGenerators(compilation);

        var steps = driver.GetRunResult().Results.Single().TrackedSteps[DescriptorGenerator.StepNames.Compile];
        Assert.Contains((X86, IncrementalStepRunReason.Unchanged), steps.Select(s => (PathOf(s), s.Outputs.Single().Reason)));
    }

    [Fact]
    public void TheModelHoldsNoCompilerObjects()
    {
        var forbidden = new[] { typeof(ISymbol), typeof(SyntaxNode), typeof(SyntaxTree), typeof(Compilation), typeof(Location), typeof(AdditionalText) };
        var seen = new HashSet<Type>();
        var pending = new Queue<Type>(new[] { typeof(DescriptorResult) });
        while (pending.Count > 0)
        {
            Type type = pending.Dequeue();
            if (!seen.Add(type) || type.IsPrimitive || type == typeof(string))
                continue;
            Assert.DoesNotContain(forbidden, f => f.IsAssignableFrom(type));
            foreach (Type argument in type.GetGenericArguments())
                pending.Enqueue(argument);
            if (type.Namespace?.StartsWith("ExectOS.Descriptors", StringComparison.Ordinal) != true)
                continue;
            foreach (FieldInfo field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
                pending.Enqueue(field.FieldType);
        }
        Assert.Contains(seen, t => t.Name == "FieldModel");
    }

    private static string PathOf(IncrementalGeneratorRunStep step)
    {
        // The compile step's input is the AdditionalText the pipeline filtered.
        var (source, index) = step.Inputs[0];
        return source.Outputs[index].Value is AdditionalText text ? text.Path : "";
    }
}
