using ConsentGateway.Enforcement;
using static ConsentGateway.Tests.Enforcement.FilterHarness;

namespace ConsentGateway.Tests.Enforcement;

/// <summary>Which values each path form reaches, and what each action does to them.</summary>
public class JsonFieldFilterTests
{
    private const FieldAction Strip = FieldAction.Strip;

    [Fact]
    public void Leaves_non_personal_content_byte_identical()
    {
        const string json = """{"a":1,"b":"x y","c":[true,false,null,{}],"d":{"e":1.5e10,"f":[]},"g":"","h":-0.0}""";
        AssertOk(Run(json, Strip, "$.email", "$..phone"), json);
    }

    [Fact]
    public void Compacts_insignificant_whitespace()
    {
        AssertOk(Run(" {\n \"a\" : [ 1 , 2 ] ,\t\"email\" : \"x\" }\r\n", Strip, "$.email"), """{"a":[1,2]}""");
    }

    [Fact]
    public void Strips_a_top_level_property_and_reports_it()
    {
        var outcome = Run("""{"name":"Ann","email":"ann@example.com","age":3}""", Strip, "$.email");
        AssertOk(outcome, """{"name":"Ann","age":3}""");
        Assert.Equal(1UL, outcome.Mask);
    }

    [Fact]
    public void Child_path_does_not_reach_similar_or_nested_names()
    {
        const string json = """{"email":"x","emails":"y","e_mail":"z","mail":"w","profile":{"email":"k"},"list":[{"email":"l"}]}""";
        AssertOk(Run(json, Strip, "$.email"), """{"emails":"y","e_mail":"z","mail":"w","profile":{"email":"k"},"list":[{"email":"l"}]}""");
    }

    [Fact]
    public void Matches_names_not_values()
    {
        const string json = """{"note":"email","phone_kind":"phone","tags":["phone"]}""";
        var outcome = Run(json, Strip, "$.email", "$..phone");
        AssertOk(outcome, json);
        Assert.Equal(0UL, outcome.Mask);
    }

    [Fact]
    public void Nested_child_path()
    {
        AssertOk(Run("""{"a":{"b":1,"c":2},"b":3}""", Strip, "$.a.b"), """{"a":{"c":2},"b":3}""");
    }

    [Fact]
    public void Child_path_does_not_step_into_arrays_without_a_wildcard()
    {
        const string json = """{"a":[{"b":1}]}""";
        AssertOk(Run(json, Strip, "$.a.b"), json);
        AssertOk(Run(json, Strip, "$.a[*].b"), """{"a":[{}]}""");
    }

    [Fact]
    public void Wildcard_reaches_every_object_in_an_array()
    {
        const string json = """{"addresses":[{"street":"A 1","city":"X"},{"city":"Y"},{"street":"B 2"},7,"s"]}""";
        AssertOk(Run(json, Strip, "$.addresses[*].street"), """{"addresses":[{"city":"X"},{"city":"Y"},{},7,"s"]}""");
    }

    [Fact]
    public void Wildcard_does_not_apply_to_objects()
    {
        const string json = """{"addresses":{"home":{"street":"A"}}}""";
        AssertOk(Run(json, Strip, "$.addresses[*].street"), json);
    }

    [Fact]
    public void Wildcard_as_last_segment_removes_elements()
    {
        AssertOk(Run("""{"tags":["a",{"b":1},[2],3],"x":1}""", Strip, "$.tags[*]"), """{"tags":[],"x":1}""");
        AssertOk(Run("""{"tags":["a",3]}""", FieldAction.Redact, "$.tags[*]"), """{"tags":[null,null]}""");
        AssertOk(Run("""{"tags":["a"]}""", FieldAction.Hash, "$.tags[*]"), $$"""{"tags":["{{Hash("a")}}"]}""");
    }

    [Fact]
    public void Nested_wildcards_through_arrays_of_objects()
    {
        const string json = """{"orders":[{"id":1,"items":[{"sku":"a","q":1},{"sku":"b"}]},{"items":[]},{"id":3}]}""";
        AssertOk(Run(json, Strip, "$.orders[*].items[*].sku"), """{"orders":[{"id":1,"items":[{"q":1},{}]},{"items":[]},{"id":3}]}""");
    }

    [Fact]
    public void Nested_arrays()
    {
        AssertOk(Run("""{"m":[[1,2],[3],[]],"n":[[1]]}""", Strip, "$.m[*][*]"), """{"m":[[],[],[]],"n":[[1]]}""");
        AssertOk(Run("""{"m":[[{"phone":1,"k":2}],[[{"phone":3}]]]}""", Strip, "$..phone"), """{"m":[[{"k":2}],[[{}]]]}""");
        AssertOk(Run("""[[{"x":1}],[{"x":2,"y":3}]]""", Strip, "$[*][*].x"), """[[{}],[{"y":3}]]""");
    }

    [Fact]
    public void Descendant_reaches_every_depth_through_objects_and_arrays()
    {
        const string json = """{"phone":1,"a":{"phone":2,"b":{"c":[{"phone":3},{"d":{"phone":[4]}}]}},"z":"phone"}""";
        var outcome = Run(json, Strip, "$..phone");
        AssertOk(outcome, """{"a":{"b":{"c":[{},{"d":{}}]}},"z":"phone"}""");
        Assert.Equal(1UL, outcome.Mask);
    }

    [Fact]
    public void Descendant_followed_by_child()
    {
        const string json = """{"email":0,"contact":{"email":1,"x":2},"a":[{"contact":{"email":3,"phone":4}}],"b":{"email":5}}""";
        AssertOk(Run(json, Strip, "$..contact.email"), """{"email":0,"contact":{"x":2},"a":[{"contact":{"phone":4}}],"b":{"email":5}}""");
    }

    [Fact]
    public void Descendant_matches_nested_occurrences_of_its_own_name()
    {
        // Redact keeps the outer property, so the inner one shows the outer match won (subtree replaced).
        AssertOk(Run("""{"a":{"a":{"a":1}}}""", FieldAction.Redact, "$..a"), """{"a":null}""");
        AssertOk(Run("""{"x":{"a":{"b":{"a":1}}}}""", FieldAction.Redact, "$..a.b"), """{"x":{"a":{"b":null}}}""");
    }

    [Fact]
    public void Quoted_names_with_dots_and_spaces()
    {
        const string json = """{"first.name":"A","first":{"name":"B"},"x y":{"z":1,"w":2}}""";
        AssertOk(Run(json, Strip, "$['first.name']", "$[\"x y\"].z"), """{"first":{"name":"B"},"x y":{"w":2}}""");
        AssertOk(Run(json, Strip, "$.first.name"), """{"first.name":"A","first":{},"x y":{"z":1,"w":2}}""");
    }

    [Fact]
    public void Root_array_and_root_scalars()
    {
        AssertOk(Run("""[{"email":1,"k":2},{"email":3}]""", Strip, "$[*].email"), """[{"k":2},{}]""");
        AssertOk(Run("\"email\"", Strip, "$.email"), "\"email\"");
        AssertOk(Run("42", Strip, "$.email"), "42");
        AssertOk(Run("null", Strip, "$.email"), "null");
    }

    [Fact]
    public void Object_valued_personal_field_is_removed_whole()
    {
        const string json = """{"address":{"street":"A","geo":{"lat":1.5,"lng":[2]}},"k":1}""";
        AssertOk(Run(json, Strip, "$.address"), """{"k":1}""");
        AssertOk(Run(json, FieldAction.Redact, "$.address"), """{"address":null,"k":1}""");
        AssertOk(
            Run(json, FieldAction.Hash, "$.address"),
            $$"""{"address":"{{Hash("""{"street":"A","geo":{"lat":1.5,"lng":[2]}}""")}}","k":1}""");
    }

    [Fact]
    public void Array_valued_personal_field_is_removed_whole()
    {
        AssertOk(Run("""{"phones":["1","2"],"k":1}""", Strip, "$.phones"), """{"k":1}""");
        AssertOk(Run("""{"phones":["1","2"]}""", FieldAction.Hash, "$.phones"), $$"""{"phones":"{{Hash("""["1","2"]""")}}"}""");
    }

    [Fact]
    public void Number_and_literal_valued_personal_fields()
    {
        const string json = """{"age":42,"score":1e400,"vip":true,"ref":null}""";
        AssertOk(Run(json, Strip, "$.age", "$.score", "$.vip", "$.ref"), "{}");
        AssertOk(Run(json, FieldAction.Redact, "$.age", "$.vip"), """{"age":null,"score":1e400,"vip":null,"ref":null}""");
        AssertOk(
            Run(json, FieldAction.Hash, "$.age", "$.score", "$.vip", "$.ref"),
            $$"""{"age":"{{Hash("42")}}","score":"{{Hash("1e400")}}","vip":"{{Hash("true")}}","ref":"{{Hash("null")}}"}""");
    }

    [Fact]
    public void Every_duplicate_of_a_key_is_filtered()
    {
        const string json = """{"email":"a","k":1,"email":"b","email":{"x":1}}""";
        var stripped = Run(json, Strip, "$.email");
        AssertOk(stripped, """{"k":1}""");
        Assert.Equal(1UL, stripped.Mask);
        AssertOk(Run(json, FieldAction.Redact, "$.email"), """{"email":null,"k":1,"email":null,"email":null}""");
    }

    [Fact]
    public void Escaped_names_are_matched_after_unescaping()
    {
        AssertOk(Run("""{"\u0065mail":"a","em\u0061il":"b","k":1}""", Strip, "$.email"), """{"k":1}""");
        AssertOk(Run("""{"\u0065\u006D\u0061\u0069\u006C":"a"}""", FieldAction.Redact, "$.email"), """{"email":null}""");
        AssertOk(Run("""{"a\/b":"x"}""", Strip, "$['a/b']"), "{}");
    }

    [Fact]
    public void Escaped_names_that_are_forwarded_are_rewritten_canonically()
    {
        AssertOk(Run("""{"n\u0061me":"x","\u00e9":1,"q\"t":2}""", Strip, "$.email"), """{"name":"x","é":1,"q\"t":2}""");
    }

    [Fact]
    public void Case_variants_are_matched_by_default()
    {
        const string json = """{"EMAIL":"a","Email":"b","eMaIl":"c","k":1,"Profile":{"PHONE":2}}""";
        AssertOk(Run(json, Strip, "$.email", "$.profile.phone"), """{"k":1,"Profile":{}}""");
        AssertOk(Run("""{"\u0045MAIL":"a"}""", Strip, "$.email"), "{}");
    }

    [Fact]
    public void Case_sensitive_mode_matches_exact_names_only()
    {
        const string json = """{"EMAIL":"a","Email":"b","email":"c","\u0065mail":"d"}""";
        var outcome = Run(json, ["$.email"], [Strip], caseSensitive: true);
        AssertOk(outcome, """{"EMAIL":"a","Email":"b"}""");
    }

    [Fact]
    public void Non_ascii_names_match_case_insensitively_like_the_serializer()
    {
        AssertOk(Run("""{"ÉMAIL":1,"émail":2,"EMAIL":3}""", Strip, "$.émail"), """{"EMAIL":3}""");
        AssertOk(Run("""{"STRASSE":1,"Straße":2}""", Strip, "$.straße"), """{"STRASSE":1}""");

        // OrdinalIgnoreCase does not fold the dotless i or the Kelvin sign onto ASCII: neither does binding.
        const string lookalikes = "{\"emaıl\":1,\"\u212Aey\":2}";
        AssertOk(Run(lookalikes, Strip, "$.email", "$.key"), lookalikes);
        AssertOk(Run("""{"ÉMAIL":1}""", ["$.émail"], [Strip], caseSensitive: true), """{"ÉMAIL":1}""");
    }

    [Fact]
    public void Allowed_paths_keep_values_and_descend()
    {
        const string json = """{"profile":{"email":"e","name":"n"},"email":"top"}""";
        var outcome = Run(json, ["$.profile", "$..email"], [FieldAction.Allow, Strip]);
        AssertOk(outcome, """{"profile":{"name":"n"}}""");
        Assert.Equal(0b10UL, outcome.Mask);

        var allAllowed = Run(json, ["$.profile", "$..email"], [FieldAction.Allow, FieldAction.Allow]);
        AssertOk(allAllowed, json);
        Assert.Equal(0UL, allAllowed.Mask);
    }

    [Theory]
    [InlineData("Allow", "Strip", """{"k":1}""")]
    [InlineData("Strip", "Allow", """{"k":1}""")]
    [InlineData("Hash", "Redact", """{"email":null,"k":1}""")]
    [InlineData("Redact", "Hash", """{"email":null,"k":1}""")]
    [InlineData("Redact", "Strip", """{"k":1}""")]
    [InlineData("Allow", "Allow", """{"email":"e","k":1}""")]
    public void Most_severe_action_wins_when_paths_overlap(string firstName, string secondName, string expected)
    {
        var first = Enum.Parse<FieldAction>(firstName);
        var second = Enum.Parse<FieldAction>(secondName);
        var outcome = Run("""{"email":"e","k":1}""", ["$.email", "$..email"], [first, second]);
        AssertOk(outcome, expected);
        ulong expectedMask = (first != FieldAction.Allow ? 1UL : 0) | (second != FieldAction.Allow ? 2UL : 0);
        Assert.Equal(expectedMask, outcome.Mask);
    }

    [Fact]
    public void Denied_container_hides_inner_matches()
    {
        const string json = """{"profile":{"email":"e"},"k":1}""";
        var outcome = Run(json, ["$.profile", "$..email"], [FieldAction.Redact, FieldAction.Strip]);
        AssertOk(outcome, """{"profile":null,"k":1}""");
        Assert.Equal(0b01UL, outcome.Mask);
    }

    [Fact]
    public void Redact_replaces_with_null()
    {
        AssertOk(Run("""{"email":"a@b","k":"v"}""", FieldAction.Redact, "$.email"), """{"email":null,"k":"v"}""");
    }

    [Fact]
    public void Hash_replaces_strings_with_the_pseudonym_of_the_unescaped_value()
    {
        var plain = Run("""{"email":"ann@example.com"}""", FieldAction.Hash, "$.email");
        AssertOk(plain, $$"""{"email":"{{Hash("ann@example.com")}}"}""");
        Assert.Equal(1UL, plain.Mask);

        // Same value written with escapes: same pseudonym.
        AssertOk(Run("""{"email":"\u0061nn@example.com"}""", FieldAction.Hash, "$.email"), plain.Output);
        AssertOk(Run("""{"email":"é😀"}""", FieldAction.Hash, "$.email"), $$"""{"email":"{{Hash("é😀")}}"}""");
    }

    [Fact]
    public void Hash_of_a_container_uses_its_compact_canonical_form()
    {
        var spaced = Run("""{"a":{ "n\u0061me" : "x\u0079", "k" : [ 1 , 2e3 ] }}""", FieldAction.Hash, "$.a");
        AssertOk(spaced, $$"""{"a":"{{Hash("""{"name":"xy","k":[1,2e3]}""")}}"}""");
    }

    [Fact]
    public void Hash_is_per_subject()
    {
        var a = Run("""{"email":"same"}""", ["$.email"], [FieldAction.Hash], subject: "alice");
        var b = Run("""{"email":"same"}""", ["$.email"], [FieldAction.Hash], subject: "bob");
        var a2 = Run("""{"email":"same"}""", ["$.email"], [FieldAction.Hash], subject: "alice");
        Assert.NotEqual(a.Output, b.Output);
        Assert.Equal(a.Output, a2.Output);
    }

    [Fact]
    public void Hash_without_a_pseudonymizer_strips()
    {
        var outcome = Run("""{"email":"e","tags":["t"],"k":1}""", ["$.email", "$.tags[*]"], [FieldAction.Hash, FieldAction.Hash], withPseudonymizer: false);
        AssertOk(outcome, """{"tags":[],"k":1}""");
        Assert.Equal(0b11UL, outcome.Mask);
    }

    [Fact]
    public void Block_reports_every_withheld_path()
    {
        const string json = """{"ssn":"1","email":"e","phone":"p","x":{"ssn":2}}""";
        var outcome = Run(json, ["$.ssn", "$.email", "$.phone", "$.none"], [FieldAction.Block, FieldAction.Strip, FieldAction.Allow, FieldAction.Block]);
        Assert.Equal(JsonFilterStatus.Blocked, outcome.Status);
        Assert.Equal(0b011UL, outcome.Mask);
    }

    [Fact]
    public void Block_that_does_not_match_leaves_the_document_ok()
    {
        var outcome = Run("""{"email":"e"}""", ["$.ssn", "$.email"], [FieldAction.Block, FieldAction.Redact]);
        AssertOk(outcome, """{"email":null}""");
        Assert.Equal(0b10UL, outcome.Mask);
    }

    [Fact]
    public void Unmatched_and_allowed_paths_are_not_reported()
    {
        var outcome = Run("""{"a":1,"b":2}""", ["$.a", "$.c"], [FieldAction.Allow, FieldAction.Strip]);
        AssertOk(outcome, """{"a":1,"b":2}""");
        Assert.Equal(0UL, outcome.Mask);
    }

    [Fact]
    public void Sixty_four_paths_are_supported_and_the_last_bit_is_reported()
    {
        var paths = Enumerable.Range(0, 64).Select(i => $"$.f{i}.g.h").ToArray();
        var actions = Enumerable.Repeat(FieldAction.Strip, 64).ToArray();
        var outcome = Run("""{"f63":{"g":{"h":1,"i":2}},"f0":{"g":{"x":1}}}""", paths, actions);
        AssertOk(outcome, """{"f63":{"g":{"i":2}},"f0":{"g":{"x":1}}}""");
        Assert.Equal(1UL << 63, outcome.Mask);
    }

    [Fact]
    public void More_than_sixty_four_paths_are_rejected()
    {
        var paths = Enumerable.Range(0, 65).Select(i => Path($"$.f{i}")).ToArray();
        Assert.Throws<ArgumentException>(() => new JsonFieldFilter(paths, false, 64));
    }

    [Fact]
    public void Too_few_actions_are_rejected()
    {
        var filter = Filter(false, 64, "$.a", "$.b");
        Assert.Throws<ArgumentException>(() => filter.Filter("{}"u8, [FieldAction.Strip], new System.Buffers.ArrayBufferWriter<byte>(), null, default));
    }

    [Fact]
    public void Filter_is_thread_safe()
    {
        var filter = Filter(false, 64, "$..email", "$.items[*].sku");
        const string json = """{"email":"e","items":[{"sku":"s","n":1},{"sku":{"deep":[1,2]},"n":2}],"p":{"email":"x","q":"\u0041"}}""";
        const string expected = """{"items":[{"n":1},{"n":2}],"p":{"q":"A"}}""";
        var bytes = System.Text.Encoding.UTF8.GetBytes(json);
        Parallel.For(0, 2000, _ =>
        {
            var output = new System.Buffers.ArrayBufferWriter<byte>();
            var result = filter.Filter(bytes, [FieldAction.Strip, FieldAction.Strip], output, null, default);
            Assert.Equal(JsonFilterStatus.Ok, result.Status);
            Assert.Equal(expected, System.Text.Encoding.UTF8.GetString(output.WrittenSpan));
        });
    }
}
