using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using ConsentGateway.Enforcement;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace ConsentGateway.Tests.Enforcement;

/// <summary>Random documents and random consent against the oracle.</summary>
public class JsonFieldFilterPropertyTests
{
    private static readonly OraclePath[] Paths =
    [
        new("$.email", [(OracleStep.Child, "email")]),
        new("$..phone", [(OracleStep.Descendant, "phone")]),
        new("$.items[*].ssn", [(OracleStep.Child, "items"), (OracleStep.Any, ""), (OracleStep.Child, "ssn")]),
        new("$.profile.address", [(OracleStep.Child, "profile"), (OracleStep.Child, "address")]),
        new("$.tags[*]", [(OracleStep.Child, "tags"), (OracleStep.Any, "")]),
        new("$..contact.email", [(OracleStep.Descendant, "contact"), (OracleStep.Child, "email")]),
        new("$['e.mail']", [(OracleStep.Child, "e.mail")]),
        new("$.items[*][*].phone", [(OracleStep.Child, "items"), (OracleStep.Any, ""), (OracleStep.Any, ""), (OracleStep.Child, "phone")]),
        new("$..email", [(OracleStep.Descendant, "email")]),
        new("$.profile", [(OracleStep.Child, "profile")]),
    ];

    /// <summary>
    /// Child steps only: every name off these paths leads to the dead state, so objects the paths reach
    /// forward their other members through the tokeniser's plain-member run (and unreachable containers
    /// as one splice), which '..' paths above switch off everywhere.
    /// </summary>
    private static readonly OraclePath[] ChildPaths =
    [
        new("$.email", [(OracleStep.Child, "email")]),
        new("$.items[*].ssn", [(OracleStep.Child, "items"), (OracleStep.Any, ""), (OracleStep.Child, "ssn")]),
        new("$.profile.address", [(OracleStep.Child, "profile"), (OracleStep.Child, "address")]),
        new("$.tags[*]", [(OracleStep.Child, "tags"), (OracleStep.Any, "")]),
        new("$['e.mail']", [(OracleStep.Child, "e.mail")]),
        new("$.items[*][*].phone", [(OracleStep.Child, "items"), (OracleStep.Any, ""), (OracleStep.Any, ""), (OracleStep.Child, "phone")]),
        new("$.contact.email", [(OracleStep.Child, "contact"), (OracleStep.Child, "email")]),
        new("$.profile.contact.name", [(OracleStep.Child, "profile"), (OracleStep.Child, "contact"), (OracleStep.Child, "name")]),
        new("$['émail']", [(OracleStep.Child, "émail")]),
    ];

    private static readonly string[] Names =
        ["email", "phone", "ssn", "profile", "address", "items", "tags", "contact", "e.mail", "name", "id", "émail", "😀", "x\u007f"];

    private static readonly string[] Texts = ["v", "😀", "漢字", "a\"b", "x\\y", "t\tn\n", "é", "<&>", "\u2028"];

    private static readonly string[] Literals =
        ["0", "-1", "3.25", "1e400", "9007199254740993", "-0.0", "12E-3", "true", "false", "null"];

    [Property(MaxTest = 200)]
    public Property Filter_agrees_with_the_oracle() =>
        Prop.ForAll(Arb.From(CaseGen(Paths.Length)), (Action<FilterCase>)(c => Check(c, Paths)));

    [Property(MaxTest = 300)]
    public Property Filter_with_child_paths_agrees_with_the_oracle() =>
        Prop.ForAll(Arb.From(CaseGen(ChildPaths.Length)), (Action<FilterCase>)(c => Check(c, ChildPaths)));

    /// <summary>
    /// The fast paths (plain-member runs, unreachable containers as one splice) must write exactly the
    /// bytes the token-by-token walk writes. One '..' path that matches nothing switches them off (no
    /// state is dead below it, and every name may matter), which gives that walk on the same document.
    /// </summary>
    [Property(MaxTest = 300)]
    public Property Fast_paths_write_the_same_bytes_as_the_token_by_token_walk() =>
        Prop.ForAll(Arb.From(CaseGen(ChildPaths.Length)), (Action<FilterCase>)(c =>
        {
            var json = Encoding.UTF8.GetBytes(c.Render());
            var paths = ChildPaths.Select(p => FilterHarness.Path(p.Text)).ToList();
            var fast = new JsonFieldFilter(paths, c.CaseSensitive, 64);
            var walk = new JsonFieldFilter([.. paths, FilterHarness.Path("$..matchesNothing")], c.CaseSensitive, 64);
            var fastOutput = new ArrayBufferWriter<byte>();
            var walkOutput = new ArrayBufferWriter<byte>();
            var subject = Encoding.UTF8.GetBytes(FilterHarness.Subject);
            var fastResult = fast.Filter(json, c.Actions, fastOutput, FilterHarness.Pseudonymizer, subject);
            var walkResult = walk.Filter(json, [.. c.Actions, FieldAction.Strip], walkOutput, FilterHarness.Pseudonymizer, subject);

            Assert.Equal(walkResult, fastResult);
            Assert.Equal(Encoding.UTF8.GetString(walkOutput.WrittenSpan), Encoding.UTF8.GetString(fastOutput.WrittenSpan));
        }));

    private static void Check(FilterCase c, OraclePath[] paths)
    {
        var json = c.Render();
        var filter = new JsonFieldFilter(paths.Select(p => FilterHarness.Path(p.Text)).ToArray(), c.CaseSensitive, 64);
        var output = new ArrayBufferWriter<byte>();
        var result = filter.Filter(Encoding.UTF8.GetBytes(json), c.Actions, output, FilterHarness.Pseudonymizer, Encoding.UTF8.GetBytes(FilterHarness.Subject));

        using var input = JsonDocument.Parse(json);
        var oracle = new FilterOracle(paths, c.Actions, c.CaseSensitive, FilterHarness.Pseudonymizer, FilterHarness.Subject);
        var expected = oracle.Expected(input.RootElement);

        Assert.Equal(oracle.Withheld, result.WithheldMask);
        if (oracle.Blocked)
        {
            Assert.Equal(JsonFilterStatus.Blocked, result.Status);
            return;
        }

        Assert.Equal(JsonFilterStatus.Ok, result.Status);
        var text = Encoding.UTF8.GetString(output.WrittenSpan);
        using var actual = JsonDocument.Parse(text); // throws if the output is not valid JSON
        Assert.Equal(expected, FilterOracle.Canonical(actual.RootElement));

        var forwarded = new List<string>();
        FilterOracle.CollectAllStrings(actual.RootElement, forwarded);
        foreach (var value in forwarded)
        {
            Assert.DoesNotContain(value, oracle.DeniedStrings);
        }
    }

    private static Gen<FilterCase> CaseGen(int pathCount) =>
        from root in ObjectGen(4)
        from actions in Gen.ArrayOf(
            Gen.Frequency(
                (4, Gen.Constant(FieldAction.Allow)),
                (2, Gen.Constant(FieldAction.Hash)),
                (2, Gen.Constant(FieldAction.Redact)),
                (3, Gen.Constant(FieldAction.Strip)),
                (1, Gen.Constant(FieldAction.Block))),
            pathCount)
        from caseSensitive in Gen.Frequency((4, Gen.Constant(false)), (1, Gen.Constant(true)))
        from spaced in Gen.Elements(false, true)
        select new FilterCase(root, actions, caseSensitive, spaced);

    private static Gen<TNode> NodeGen(int depth) => depth <= 0
        ? ScalarGen()
        : Gen.Frequency(
            (3, ScalarGen()),
            (2, ObjectGen(depth - 1).Select(o => (TNode)o)),
            (2, ArrayGen(depth - 1)));

    private static Gen<TNode> ScalarGen() => Gen.OneOf(
        from text in Gen.Elements(Texts)
        from escapes in EscapeMaskGen()
        select (TNode)new TString(text, escapes),
        Gen.Elements(Literals).Select(l => (TNode)new TLiteral(l)));

    private static Gen<TObject> ObjectGen(int depth) =>
        from count in Gen.Choose(0, 5)
        from properties in Gen.ArrayOf(PropertyGen(depth), count)
        select new TObject(properties);

    private static Gen<TNode> ArrayGen(int depth) =>
        from count in Gen.Choose(0, 4)
        from items in Gen.ArrayOf(NodeGen(depth), count)
        select (TNode)new TArray(items);

    private static Gen<TProperty> PropertyGen(int depth) =>
        from name in Gen.Elements(Names)
        from casing in Gen.Frequency((3, Gen.Constant(0)), (2, Gen.Choose(0, 255)))
        from escapes in EscapeMaskGen()
        from value in NodeGen(depth)
        select new TProperty(ApplyCasing(name, casing), escapes, value);

    private static Gen<int> EscapeMaskGen() => Gen.Frequency((3, Gen.Constant(0)), (2, Gen.Choose(1, 255)));

    private static string ApplyCasing(string name, int mask)
    {
        var chars = name.ToCharArray();
        for (int i = 0; i < chars.Length; i++)
        {
            if ((mask & (1 << (i % 8))) != 0)
            {
                chars[i] = char.ToUpperInvariant(chars[i]);
            }
        }

        return new string(chars);
    }
}

internal abstract record TNode;

internal sealed record TObject(TProperty[] Properties) : TNode;

internal sealed record TProperty(string Name, int EscapeMask, TNode Value);

internal sealed record TArray(TNode[] Items) : TNode;

internal sealed record TString(string Text, int EscapeMask) : TNode;

internal sealed record TLiteral(string Raw) : TNode;

internal sealed record FilterCase(TObject Root, FieldAction[] Actions, bool CaseSensitive, bool Spaced)
{
    public override string ToString() =>
        $"{Render()}  actions=[{string.Join(',', Actions)}] caseSensitive={CaseSensitive}";

    /// <summary>JSON text; string values get a unique suffix so a leak can be traced to one value.</summary>
    public string Render()
    {
        var sb = new StringBuilder();
        int counter = 0;
        Write(Root, sb, ref counter);
        return sb.ToString();
    }

    private void Write(TNode node, StringBuilder sb, ref int counter)
    {
        string gap = Spaced ? " \n" : string.Empty;
        switch (node)
        {
            case TObject o:
                sb.Append('{').Append(gap);
                for (int i = 0; i < o.Properties.Length; i++)
                {
                    if (i > 0)
                    {
                        sb.Append(',').Append(gap);
                    }

                    WriteString(o.Properties[i].Name, o.Properties[i].EscapeMask, sb);
                    sb.Append(gap).Append(':').Append(gap);
                    Write(o.Properties[i].Value, sb, ref counter);
                }

                sb.Append(gap).Append('}');
                break;
            case TArray a:
                sb.Append('[').Append(gap);
                for (int i = 0; i < a.Items.Length; i++)
                {
                    if (i > 0)
                    {
                        sb.Append(',').Append(gap);
                    }

                    Write(a.Items[i], sb, ref counter);
                }

                sb.Append(gap).Append(']');
                break;
            case TString s:
                WriteString(s.Text + "#" + (counter++).ToString(CultureInfo.InvariantCulture), s.EscapeMask, sb);
                break;
            case TLiteral l:
                sb.Append(l.Raw);
                break;
        }
    }

    private static void WriteString(string text, int escapeMask, StringBuilder sb)
    {
        sb.Append('"');
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            bool mustEscape = c is '"' or '\\' || c < 0x20;
            bool pair = char.IsHighSurrogate(c) && i + 1 < text.Length;
            if (mustEscape || (escapeMask & (1 << (i % 8))) != 0)
            {
                // A surrogate pair is escaped as a pair: half an escape would be a lone surrogate.
                sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                if (pair)
                {
                    sb.Append("\\u").Append(((int)text[++i]).ToString("x4", CultureInfo.InvariantCulture));
                }
            }
            else
            {
                sb.Append(c);
                if (pair)
                {
                    sb.Append(text[++i]);
                }
            }
        }

        sb.Append('"');
    }
}
