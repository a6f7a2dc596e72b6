using ConsentGateway.Enforcement;
using static ConsentGateway.Tests.Enforcement.FilterHarness;

namespace ConsentGateway.Tests.Enforcement;

/// <summary>
/// The filter steps a deterministic automaton built from the paths. These pin the parts of that
/// construction the oracle property test reaches only by chance: rule names that compare equal, a
/// state that holds only the second spelling of such a name, names whose UTF-8 lengths differ although
/// they compare equal, and the cap on states.
/// </summary>
public class JsonPathAutomatonTests
{
    [Fact]
    public void Rule_names_equal_ignoring_case_are_one_edge_that_completes_both_paths()
    {
        var outcome = Run("""{"EMAIL":"a@x","Email":"b@x","other":1}""", FieldAction.Strip, "$.Email", "$.email");

        AssertOk(outcome, """{"other":1}""");
        Assert.True(outcome.Withheld(0));
        Assert.True(outcome.Withheld(1));
    }

    [Fact]
    public void Case_sensitive_rule_names_stay_apart()
    {
        var outcome = Run("""{"Email":"b@x","email":"a@x","EMAIL":"c@x"}""", ["$.Email", "$.email"], [FieldAction.Strip, FieldAction.Redact], caseSensitive: true);

        AssertOk(outcome, """{"email":null,"EMAIL":"c@x"}""");
        Assert.Equal(0b11UL, outcome.Mask);
    }

    [Fact]
    public void A_state_reached_only_through_the_second_spelling_of_a_name_still_matches_it()
    {
        // Names are grouped under the first spelling ("Email", from path 0); under "b" only path 1's
        // "email" is active, and the edge must be built for it.
        var outcome = Run("""{"b":{"EMAIL":"x","keep":1},"a":{"email":"y"}}""", FieldAction.Strip, "$.a.Email", "$.b.email");

        AssertOk(outcome, """{"b":{"keep":1},"a":{}}""");
        Assert.Equal(0b11UL, outcome.Mask);
    }

    [Fact]
    public void Rule_names_equal_ignoring_case_with_other_utf8_lengths_match()
    {
        // U+0250 (2 UTF-8 bytes) and its upper case U+2C6F (3 bytes) are equal under OrdinalIgnoreCase,
        // which the backend binds by: a shortcut on byte lengths must not decide this state.
        Assert.Equal("x\u0250", "x\u2C6F", StringComparer.OrdinalIgnoreCase);

        var outcome = Run("{\"x\u2C6F\":1,\"x\u0250\":2,\"xy\":3,\"xyz\":4}", FieldAction.Strip, "$.x\u0250", "$.other");

        AssertOk(outcome, """{"xy":3,"xyz":4}""");
        Assert.Equal(0b01UL, outcome.Mask);
    }

    [Fact]
    public void A_non_ascii_name_that_only_looks_like_an_ascii_one_is_not_matched()
    {
        // The Kelvin sign is not 'k' to OrdinalIgnoreCase, so the backend would not bind it to "key" either.
        Assert.NotEqual("key", "\u212Aey", StringComparer.OrdinalIgnoreCase);

        var outcome = Run("{\"\u212Aey\":1,\"KEY\":2}", FieldAction.Strip, "$.key");

        AssertOk(outcome, "{\"\u212Aey\":1}");
        Assert.True(outcome.Withheld(0));
    }

    [Fact]
    public void No_non_ascii_utf16_unit_equals_an_ascii_one_ignoring_case()
    {
        // The automaton rejects body names by byte length in states whose rule names are all ASCII.
        // That is sound only because OrdinalIgnoreCase never equates a non-ASCII code unit with an
        // ASCII one (.NET keeps U+0130, U+0131, U+017F and U+212A apart from i, s and k on purpose);
        // surrogate pairs upper-case to pairs. Checked here for every unit, so a runtime change shows.
        var offenders = new List<string>();
        Span<char> unit = stackalloc char[1];
        Span<char> ascii = stackalloc char[1];
        for (var c = 0x80; c <= 0xFFFF; c++)
        {
            unit[0] = (char)c;
            for (var a = 0; a < 0x80; a++)
            {
                ascii[0] = (char)a;
                if (MemoryExtensions.Equals(unit, ascii, StringComparison.OrdinalIgnoreCase))
                {
                    offenders.Add($"U+{c:X4} = U+{a:X4}");
                }
            }
        }

        Assert.Empty(offenders);
    }

    [Fact]
    public void Descendant_paths_keep_matching_below_names_that_match_other_paths()
    {
        var outcome = Run(
            """{"contact":{"email":"a","contact":{"email":"b","x":{"email":"c"}}},"email":"d"}""",
            ["$..contact.email", "$..email"],
            [FieldAction.Redact, FieldAction.Strip]);

        // Redact and strip both apply where both match; the stronger action (strip) wins.
        AssertOk(outcome, """{"contact":{"contact":{"x":{}}}}""");
        Assert.Equal(0b11UL, outcome.Mask);
    }

    [Fact]
    public void Paths_needing_too_many_states_are_refused_when_the_filter_is_built()
    {
        // Each '$..aN..z' carries its own position once aN is seen, so every subset of the 13 names is a
        // reachable state: 2^13 > MaxStates.
        var paths = Enumerable.Range(0, 13).Select(i => Path($"$..a{i}..z")).ToArray();

        var ex = Assert.Throws<ArgumentException>(() => new JsonFieldFilter(paths, caseSensitive: false, maxDepth: 64));
        Assert.Contains(JsonPathAutomaton.MaxStates.ToString(System.Globalization.CultureInfo.InvariantCulture), ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Eleven_such_paths_fit_and_filter_correctly()
    {
        var paths = Enumerable.Range(0, 11).Select(i => $"$..a{i}..z").ToArray();
        var outcome = Run("""{"a3":{"q":{"z":1,"a7":{"z":2}}},"z":3}""", FieldAction.Strip, paths);

        AssertOk(outcome, """{"a3":{"q":{"a7":{}}},"z":3}""");
        Assert.Equal((1UL << 3) | (1UL << 7), outcome.Mask);
    }

    [Fact]
    public void Reach_is_the_paths_that_can_still_complete_below_a_state()
    {
        var automaton = Automaton("$.contact.name", "$.contact.card", "$.items[*].sku", "$.id");
        int contact = automaton.StepProperty(automaton.Initial, "contact"u8, new char[32], out ulong matched);
        int other = automaton.StepProperty(automaton.Initial, "other"u8, new char[32], out _);

        Assert.Equal(0b1111UL, automaton.Reach(automaton.Initial));
        Assert.Equal(0UL, matched);
        Assert.Equal(0b0011UL, automaton.Reach(contact));
        Assert.Equal(JsonPathAutomaton.Dead, other);
        Assert.Equal(0UL, automaton.Reach(other));
    }

    [Theory]
    // Nothing withheld: no name needs reading.
    [InlineData(0b0000UL, 0UL, "")]
    // Only the card: "contact" (7 bytes) leads to it; "items" and "id" lead nowhere withheld.
    [InlineData(0b0010UL, 1UL << 7, "c")]
    [InlineData(0b0100UL, 1UL << 5, "i")]
    [InlineData(0b1000UL, 1UL << 2, "i")]
    [InlineData(0b1111UL, (1UL << 7) | (1UL << 5) | (1UL << 2), "ci")]
    public void The_names_to_read_follow_what_the_request_withholds(ulong denied, ulong lengths, string firstBytes)
    {
        var automaton = Automaton("$.contact.name", "$.contact.card", "$.items[*].sku", "$.id");

        var names = automaton.NamesToRead(automaton.Initial, denied);

        Assert.Equal(lengths, names.Lengths);
        Assert.Equal(firstBytes.Aggregate(0UL, (bits, c) => bits | NamesToRead.FirstByteBit((byte)c)), names.FirstBytes);
    }

    [Theory]
    [InlineData("contact", true)]
    [InlineData("CONTACT", true)]
    [InlineData("cOthers", true)]
    // Same length, other first letter; same first letter, other length.
    [InlineData("payment", false)]
    [InlineData("cc", false)]
    public void A_name_is_read_when_its_length_and_its_first_byte_may_match(string name, bool read)
    {
        var automaton = Automaton("$.contact.card", "$.id");

        var names = automaton.NamesToRead(automaton.Initial, 0b01);

        Assert.Equal(read, names.Includes(name.Length, (byte)name[0]));
    }

    [Fact]
    public void An_empty_rule_name_makes_every_first_byte_matter()
    {
        var automaton = Automaton("$['']", "$.id");

        var names = automaton.NamesToRead(automaton.Initial, 0b01);

        Assert.Equal(1UL, names.Lengths);
        Assert.Equal(ulong.MaxValue, names.FirstBytes);
        Assert.True(names.Includes(0, (byte)'"'));
        Assert.False(names.Includes(1, (byte)'x'));
    }

    [Fact]
    public void A_withheld_descendant_path_makes_every_name_matter_and_an_allowed_one_none()
    {
        var automaton = Automaton("$.contact.name", "$..email");

        Assert.True(automaton.NamesToRead(automaton.Initial, 0b10).ReadsEveryName);
        Assert.Equal(1UL << 7, automaton.NamesToRead(automaton.Initial, 0b01).Lengths);
    }

    [Fact]
    public void A_non_ascii_rule_name_makes_every_name_matter_while_any_path_is_withheld()
    {
        var automaton = Automaton("$.caf\u00e9", "$.id");

        Assert.True(automaton.NamesToRead(automaton.Initial, 0b01).ReadsEveryName);
        Assert.True(automaton.NamesToRead(automaton.Initial, 0b10).ReadsEveryName);
        Assert.Equal(default, automaton.NamesToRead(automaton.Initial, 0));
    }

    private static JsonPathAutomaton Automaton(params string[] paths) =>
        new(new JsonPathMatcher(paths.Select(Path).ToArray()), caseSensitive: false);
}
