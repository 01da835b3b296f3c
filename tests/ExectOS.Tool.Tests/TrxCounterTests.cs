using System;
using System.IO;
using ExectOS.Tool.Testing;
using Xunit;

namespace ExectOS.Tool.Tests;

public sealed class TrxCounterTests
{
    [Fact]
    public void CountsARealXunitResultFile()
    {
        // Written by xunit.runner.visualstudio 3.1.5: a theory with two rows, one failure, one skip.
        // Its own summary counters claim notExecuted="0", which is why the results are counted instead.
        string path = Path.Combine(AppContext.BaseDirectory, "Samples", "xunit-results.trx");

        TestCounts counts = TrxCounter.CountFile(path, out string? problem);

        Assert.Null(problem);
        Assert.Equal(new TestCounts(Passed: 4, Failed: 1, Skipped: 1), counts);
    }

    [Fact]
    public void CountsADataDrivenParentOnceAndMapsEveryOutcome()
    {
        const string trx = """
            <?xml version="1.0" encoding="utf-8"?>
            <TestRun xmlns="http://microsoft.com/schemas/VisualStudio/TeamTest/2010">
              <Results>
                <UnitTestResult testName="Rows" outcome="Passed" resultType="DataDrivenTest">
                  <InnerResults>
                    <UnitTestResult testName="Rows (1)" outcome="Passed" resultType="DataDrivenDataRow" />
                    <UnitTestResult testName="Rows (2)" outcome="Passed" resultType="DataDrivenDataRow" />
                  </InnerResults>
                </UnitTestResult>
                <UnitTestResult testName="A" outcome="Failed" />
                <UnitTestResult testName="B" outcome="Timeout" />
                <UnitTestResult testName="C" outcome="Error" />
                <UnitTestResult testName="D" outcome="Aborted" />
                <UnitTestResult testName="E" outcome="NotExecuted" />
                <UnitTestResult testName="F" outcome="Inconclusive" />
                <UnitTestResult testName="G" />
              </Results>
            </TestRun>
            """;

        Assert.Equal(new TestCounts(Passed: 1, Failed: 5, Skipped: 2), TrxCounter.Count(trx));
    }

    [Fact]
    public void AFileWithoutResultsCountsNothing()
    {
        const string trx = """<TestRun xmlns="http://microsoft.com/schemas/VisualStudio/TeamTest/2010"><ResultSummary outcome="Completed" /></TestRun>""";

        TestCounts counts = TrxCounter.Count(trx);

        Assert.Equal(default, counts);
        Assert.False(counts.AnyRan);
    }

    [Fact]
    public void AnUnreadableFileCountsAsAFailure()
    {
        string path = Path.Combine(Path.GetTempPath(), $"exectos-broken-{Guid.NewGuid():N}.trx");
        File.WriteAllText(path, "<TestRun><Results>");
        try
        {
            TestCounts counts = TrxCounter.CountFile(path, out string? problem);

            Assert.Equal(new TestCounts(0, 1, 0), counts);
            Assert.StartsWith("cannot read " + path, problem);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void CountsAdd()
    {
        Assert.Equal(new TestCounts(5, 1, 2), new TestCounts(4, 1, 0) + new TestCounts(1, 0, 2));
    }
}
