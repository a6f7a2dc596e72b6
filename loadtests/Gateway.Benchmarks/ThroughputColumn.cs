using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace ConsentGateway.Benchmarks;

/// <summary>MB/s (10^6 bytes per second) of input document processed, from the mean time and the size of the Doc parameter.</summary>
internal sealed class ThroughputColumn : IColumn
{
    public string Id => nameof(ThroughputColumn);

    public string ColumnName => "MB/s";

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => 0;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => "Input megabytes (10^6 B) processed per second, from Mean";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var stats = summary[benchmarkCase]?.ResultStatistics;
        var doc = benchmarkCase.Parameters.Items.FirstOrDefault(p => p.Name == "Doc")?.Value as string;
        if (stats is null || doc is null)
        {
            return "-";
        }

        var bytes = FilterCase.For(doc).Json.Length;
        return (bytes / stats.Mean * 1e9 / 1e6).ToString("F0", CultureInfo.InvariantCulture);
    }

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public bool IsAvailable(Summary summary) => true;
}
