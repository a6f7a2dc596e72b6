using System.Text;
using ConsentGateway.Enforcement;

namespace Gateway.Tests.Enforcement;

/// <summary>
/// The probe must compare names exactly as <see cref="StringComparison.OrdinalIgnoreCase"/> does (what
/// the backend binds by): checked against it directly, for every one-character pair and for names
/// of every length around the folded comparison's word boundaries (1–3, 4–7, 8–16 bytes, longer).
/// </summary>
public sealed class JsonPropertyNameProbeTests
{
    // Letters, and the non-letters one case bit away from them ('@' '`', '[' '{', ']' '}', '^' '~').
    private const string Alphabet = "aAzZmMqQ09_-.@`[{]}^~ $\\/\"\u007f";

    private static readonly string[] NonAscii = ["\u00e9", "\u00c9", "\u212a", "\u0131", "\u017f", "\u0250", "\u2c6f", "\U0001F600"];

    [Fact]
    public void Every_pair_of_single_characters_compares_as_OrdinalIgnoreCase()
    {
        var mismatches = new List<string>();
        var names = new List<string>();
        for (var c = 0; c < 0x80; c++)
        {
            names.Add(((char)c).ToString());
        }

        names.AddRange(NonAscii);
        foreach (var rule in names)
        {
            foreach (var name in names)
            {
                if (Matches(rule, name) != string.Equals(rule, name, StringComparison.OrdinalIgnoreCase))
                {
                    mismatches.Add($"{Escape(rule)} / {Escape(name)}");
                }
            }
        }

        Assert.Empty(mismatches);
    }

    [Fact]
    public void Names_of_every_length_and_their_near_misses_compare_as_OrdinalIgnoreCase()
    {
        var random = new Random(20261129);
        var mismatches = new List<string>();
        var matched = 0;
        for (var length = 0; length <= 24; length++)
        {
            for (var trial = 0; trial < 400; trial++)
            {
                var rule = RandomName(random, length);
                foreach (var name in Variants(random, rule))
                {
                    var expected = string.Equals(rule, name, StringComparison.OrdinalIgnoreCase);
                    matched += expected ? 1 : 0;
                    if (Matches(rule, name) != expected)
                    {
                        mismatches.Add($"{Escape(rule)} / {Escape(name)}: expected {expected}");
                    }
                }
            }
        }

        Assert.Empty(mismatches);
        Assert.True(matched > 10_000, $"only {matched} equal pairs: the variants must exercise matches, not only misses");
    }

    [Fact]
    public void Case_sensitive_comparison_is_byte_equality()
    {
        Assert.True(Matches("Email", "Email", caseSensitive: true));
        Assert.False(Matches("Email", "email", caseSensitive: true));
        Assert.False(Matches("Email", "Emai", caseSensitive: true));
    }

    private static bool Matches(string rule, string name, bool caseSensitive = false)
    {
        var probe = new JsonPropertyNameProbe(Encoding.UTF8.GetBytes(name), new char[3 * Math.Max(1, name.Length) + 8]);
        return probe.Matches(new JsonRuleName(rule), caseSensitive);
    }

    private static string RandomName(Random random, int length)
    {
        var chars = new char[length];
        for (var i = 0; i < length; i++)
        {
            chars[i] = Alphabet[random.Next(Alphabet.Length)];
        }

        return new string(chars);
    }

    /// <summary>The name itself, case flips, one character a case bit away, one non-ASCII, one longer and shorter.</summary>
    private static IEnumerable<string> Variants(Random random, string rule)
    {
        yield return rule;
        yield return rule.ToUpperInvariant();
        yield return rule.ToLowerInvariant();
        yield return FlipCases(random, rule);
        yield return FlipCases(random, rule);
        if (rule.Length == 0)
        {
            yield return "a";
            yield break;
        }

        var at = random.Next(rule.Length);
        var chars = rule.ToCharArray();
        chars[at] = (char)(chars[at] ^ 0x20);
        yield return FlipCases(random, new string(chars));
        chars[at] = (char)(rule[at] ^ 0x01);
        yield return new string(chars);
        yield return string.Concat(rule.AsSpan(0, at), NonAscii[random.Next(NonAscii.Length)], rule.AsSpan(at + 1));
        yield return rule + Alphabet[random.Next(Alphabet.Length)];
        yield return rule[..^1];
    }

    private static string FlipCases(Random random, string s)
    {
        var chars = s.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (char.IsAsciiLetter(chars[i]) && random.Next(2) == 0)
            {
                chars[i] = (char)(chars[i] ^ 0x20);
            }
        }

        return new string(chars);
    }

    private static string Escape(string s)
    {
        var b = new StringBuilder();
        foreach (var c in s)
        {
            b.Append(c is >= ' ' and < '\u007f' ? c.ToString() : $"\\u{(int)c:x4}");
        }

        return b.ToString();
    }
}
