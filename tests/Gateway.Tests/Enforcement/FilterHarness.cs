using System.Buffers;
using System.Text;
using ConsentGateway.Enforcement;

namespace ConsentGateway.Tests.Enforcement;

internal sealed record FilterOutcome(JsonFilterStatus Status, ulong Mask, string Output)
{
    public bool Withheld(int pathIndex) => (Mask & (1UL << pathIndex)) != 0;
}

internal static class FilterHarness
{
    public const string Subject = "subject-42";

    public static readonly byte[] Key = Enumerable.Range(1, 32).Select(i => (byte)(i * 7)).ToArray();

    public static readonly Pseudonymizer Pseudonymizer = new(Key);

    public static JsonPath Path(string text)
    {
        Assert.True(JsonPath.TryParse(text, out var path, out var error), $"{text}: {error}");
        return path;
    }

    public static JsonFieldFilter Filter(bool caseSensitive, int maxDepth, params string[] paths) =>
        new(paths.Select(Path).ToArray(), caseSensitive, maxDepth);

    /// <summary>Every path gets <paramref name="action"/>.</summary>
    public static FilterOutcome Run(string json, FieldAction action, params string[] paths) =>
        Run(json, paths, Enumerable.Repeat(action, paths.Length).ToArray());

    public static FilterOutcome Run(
        string json,
        string[] paths,
        FieldAction[] actions,
        bool caseSensitive = false,
        int maxDepth = 64,
        bool withPseudonymizer = true,
        string subject = Subject) =>
        Run(Encoding.UTF8.GetBytes(json), paths, actions, caseSensitive, maxDepth, withPseudonymizer, subject);

    public static FilterOutcome Run(
        byte[] json,
        string[] paths,
        FieldAction[] actions,
        bool caseSensitive = false,
        int maxDepth = 64,
        bool withPseudonymizer = true,
        string subject = Subject)
    {
        var filter = Filter(caseSensitive, maxDepth, paths);
        var output = new ArrayBufferWriter<byte>();
        var result = filter.Filter(json, actions, output, withPseudonymizer ? Pseudonymizer : null, Encoding.UTF8.GetBytes(subject));
        return new FilterOutcome(result.Status, result.WithheldMask, Encoding.UTF8.GetString(output.WrittenSpan));
    }

    public static string Hash(string value, string subject = Subject) => Pseudonymizer.Pseudonymise(subject, value);

    /// <summary>Asserts an Ok result with exactly this output.</summary>
    public static void AssertOk(FilterOutcome outcome, string expected)
    {
        Assert.Equal(JsonFilterStatus.Ok, outcome.Status);
        Assert.Equal(expected, outcome.Output);
    }
}
