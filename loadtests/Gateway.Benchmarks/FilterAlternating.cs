using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ConsentGateway.Enforcement;

namespace ConsentGateway.Benchmarks;

/// <summary>
/// Console mode --filter-alternating [doc] [seconds]: the raw reader, the filter and the JsonNode
/// version (as <see cref="JsonFilterBenchmarks"/> runs them) on one document,
/// alternating in short batches for the whole duration, reporting each side's minimum and median time
/// per document, and the filter's ratios to the other two: of the minimums, of the medians and the
/// median ratio of adjacent batch pairs. On a shared host whose load swings from minute to
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

        var nodeOptions = new JsonNodeOptions { PropertyNameCaseInsensitive = true };
        var pseudonym = new byte[Pseudonymizer.Length];
        var nodeWriter = new Utf8JsonWriter(output);
        string Hash(JsonNode node)
        {
            pseudonymizer.Write(subject, FilterCase.HashInput(node), pseudonym);
            return Encoding.ASCII.GetString(pseudonym);
        }

        // The JsonNode parse-edit-write version, as JsonFilterBenchmarks runs it.
        int ByJsonNode()
        {
            output.ResetWrittenCount();
            var root = JsonNode.Parse(c.Json, nodeOptions)!.AsObject();
            c.Edit(root, Hash);
            nodeWriter.Reset(output);
            root.WriteTo(nodeWriter);
            nodeWriter.Flush();
            return output.WrittenCount;
        }

        var reader = new List<double>();
        var filtered = new List<double>();
        var byNode = new List<double>();
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

            t = Stopwatch.GetTimestamp();
            for (var i = 0; i < perBatch; i++)
            {
                sink += (ulong)ByJsonNode();
            }

            byNode.Add(Stopwatch.GetElapsedTime(t).TotalMicroseconds / perBatch);
        }

        // The first quarter is JIT tiering and warm-up.
        reader.RemoveRange(0, reader.Count / 4);
        filtered.RemoveRange(0, filtered.Count / 4);
        byNode.RemoveRange(0, byNode.Count / 4);

        // Adjacent batches share the host's load of the moment, so their ratio is steadier than either time.
        var readerPairs = PairRatios(reader, filtered);
        var nodePairs = PairRatios(byNode, filtered);
        reader.Sort();
        filtered.Sort();
        byNode.Sort();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{doc} ({c.Json.Length:N0} B), {reader.Count} batches of {perBatch} each, load {LoadAverage()}, sink {sink % 10}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"reader    min {reader[0],8:F2} us  median {Median(reader),8:F2} us"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"filter    min {filtered[0],8:F2} us  median {Median(filtered),8:F2} us"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"JsonNode  min {byNode[0],8:F2} us  median {Median(byNode),8:F2} us"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"filter throughput vs reader: {reader[0] / filtered[0]:F3} (minimums), {Median(reader) / Median(filtered):F3} (medians), {Median(readerPairs):F3} (median of adjacent pairs)"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"filter vs JsonNode: {byNode[0] / filtered[0]:F2}x (minimums), {Median(byNode) / Median(filtered):F2}x (medians), {Median(nodePairs):F2}x (median of adjacent pairs)"));
        return 0;
    }

    private static List<double> PairRatios(List<double> numerator, List<double> denominator)
    {
        var ratios = new List<double>(numerator.Count);
        for (var i = 0; i < numerator.Count; i++)
        {
            ratios.Add(numerator[i] / denominator[i]);
        }

        ratios.Sort();
        return ratios;
    }

    private static double Median(List<double> sorted) => sorted[sorted.Count / 2];

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
