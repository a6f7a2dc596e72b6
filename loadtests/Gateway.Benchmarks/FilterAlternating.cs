using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using ConsentGateway.Enforcement;

namespace ConsentGateway.Benchmarks;

/// <summary>
/// Console mode --filter-alternating [doc] [seconds]: the raw reader and the filter on one document,
/// alternating in short batches for the whole duration, reporting each side's minimum and median time
/// per document, the ratio of the minimums and the median ratio of adjacent batch pairs. On a shared host whose load swings from minute to
/// minute, BenchmarkDotNet's consecutive runs of each method can land in different load regimes; here
/// both sides see the same regimes, and the minimum over hundreds of batches is the figure least
/// disturbed by other tenants. Used to judge small changes to the filter; the committed table still
/// comes from BenchmarkDotNet.
/// </summary>
internal static class FilterAlternating
{
    private const int BatchTarget = 500_000; // bytes of input per batch: about a millisecond

    public static int Run(string[] args)
    {
        var doc = args.Length > 0 ? args[0] : FilterCase.Profile;
        var seconds = args.Length > 1 ? double.Parse(args[1], CultureInfo.InvariantCulture) : 20;
        var c = FilterCase.For(doc);
        var paths = c.Paths.Select(p => JsonPath.TryParse(p, out var path, out var error) ? path : throw new InvalidOperationException(error)).ToList();
        var filter = new JsonFieldFilter(paths, caseSensitive: false, maxDepth: 64);
        var pseudonymizer = Setup.Pseudonymizer();
        var subject = "3b1f0c52-7d7e-4f3a-9a66-0c1f2d3e4b5a"u8.ToArray();
        var output = new ArrayBufferWriter<byte>(c.Json.Length * 2);
        var perBatch = Math.Max(1, BatchTarget / c.Json.Length);

        var sink = 0UL;
        var check = filter.Filter(c.Json, c.Actions, output, pseudonymizer, subject);
        if (check.Status != JsonFilterStatus.Ok || check.WithheldMask != c.ExpectedMask)
        {
            throw new InvalidOperationException($"filter: {check}");
        }

        var reader = new List<double>();
        var filtered = new List<double>();
        var total = Stopwatch.StartNew();
        while (total.Elapsed.TotalSeconds < seconds)
        {
            var t = Stopwatch.GetTimestamp();
            for (var i = 0; i < perBatch; i++)
            {
                sink += (ulong)ReadAll(c.Json);
            }

            reader.Add(Stopwatch.GetElapsedTime(t).TotalMicroseconds / perBatch);

            t = Stopwatch.GetTimestamp();
            for (var i = 0; i < perBatch; i++)
            {
                output.ResetWrittenCount();
                sink += filter.Filter(c.Json, c.Actions, output, pseudonymizer, subject).WithheldMask;
            }

            filtered.Add(Stopwatch.GetElapsedTime(t).TotalMicroseconds / perBatch);
        }

        // The first quarter is JIT tiering and warm-up.
        reader.RemoveRange(0, reader.Count / 4);
        filtered.RemoveRange(0, filtered.Count / 4);

        // Adjacent batches share the host's load of the moment, so their ratio is steadier than either time.
        var pairRatios = new List<double>(reader.Count);
        for (var i = 0; i < reader.Count; i++)
        {
            pairRatios.Add(reader[i] / filtered[i]);
        }

        pairRatios.Sort();
        reader.Sort();
        filtered.Sort();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{doc} ({c.Json.Length:N0} B), {reader.Count} batches of {perBatch} each, load {LoadAverage()}, sink {sink % 10}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"reader  min {reader[0],8:F2} us  median {reader[reader.Count / 2],8:F2} us"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"filter  min {filtered[0],8:F2} us  median {filtered[filtered.Count / 2],8:F2} us"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"filter throughput vs reader: {reader[0] / filtered[0]:F3} (minimums), {reader[reader.Count / 2] / filtered[filtered.Count / 2]:F3} (medians), {pairRatios[pairRatios.Count / 2]:F3} (median of adjacent pairs)"));
        return 0;
    }

    private static int ReadAll(byte[] json)
    {
        var reader = new System.Text.Json.Utf8JsonReader(json);
        var tokens = 0;
        while (reader.Read())
        {
            tokens++;
        }

        return tokens;
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "n/a";
}
