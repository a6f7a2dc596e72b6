using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using ConsentGateway.Enforcement;

namespace ConsentGateway.Tests.Enforcement;

internal enum OracleStep : byte
{
    Child,
    Any,
    Descendant,
}

/// <summary>A path written out by hand, so the oracle does not share the production parser.</summary>
internal sealed record OraclePath(string Text, (OracleStep Kind, string Name)[] Steps);

/// <summary>
/// An independent, slow, DOM-based statement of what the filter must produce. It walks the input as a
/// JsonDocument (a JsonObject cannot hold the duplicate keys the generator produces on purpose), decides
/// for every node by matching its full location against each path recursively, and writes the expected
/// document in a canonical form that the actual output is also reduced to.
/// </summary>
internal sealed class FilterOracle
{
    private static readonly JsonWriterOptions CanonicalOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly OraclePath[] _paths;
    private readonly FieldAction[] _actions;
    private readonly StringComparison _comparison;
    private readonly Pseudonymizer _pseudonymizer;
    private readonly byte[] _subject;
    private readonly List<(bool IsIndex, string Name)> _location = [];

    public FilterOracle(OraclePath[] paths, FieldAction[] actions, bool caseSensitive, Pseudonymizer pseudonymizer, string subject)
    {
        _paths = paths;
        _actions = actions;
        _comparison = caseSensitive ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase;
        _pseudonymizer = pseudonymizer;
        _subject = Encoding.UTF8.GetBytes(subject);
    }

    public bool Blocked { get; private set; }

    public ulong Withheld { get; private set; }

    /// <summary>Every string value inside something withheld: none of them may appear in the output.</summary>
    public HashSet<string> DeniedStrings { get; } = new(StringComparer.Ordinal);

    public string Expected(JsonElement root)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, CanonicalOptions))
        {
            Emit(root, writer);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>The canonical form of a document, with nothing withheld.</summary>
    public static string Canonical(JsonElement element)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, CanonicalOptions))
        {
            Copy(element, writer);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void Copy(JsonElement element, Utf8JsonWriter writer)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                writer.WriteStartObject();
                foreach (var property in element.EnumerateObject())
                {
                    writer.WritePropertyName(property.Name);
                    Copy(property.Value, writer);
                }

                writer.WriteEndObject();
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (var item in element.EnumerateArray())
                {
                    Copy(item, writer);
                }

                writer.WriteEndArray();
                break;
            case JsonValueKind.String:
                writer.WriteStringValue(element.GetString());
                break;
            default:
                writer.WriteRawValue(element.GetRawText(), skipInputValidation: true);
                break;
        }
    }

    private void Emit(JsonElement element, Utf8JsonWriter writer)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                writer.WriteStartObject();
                foreach (var property in element.EnumerateObject())
                {
                    _location.Add((false, property.Name));
                    var action = Decide();
                    if (action is FieldAction.Allow or FieldAction.Redact or FieldAction.Hash)
                    {
                        writer.WritePropertyName(property.Name);
                    }

                    Apply(action, property.Value, writer);
                    _location.RemoveAt(_location.Count - 1);
                }

                writer.WriteEndObject();
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (var item in element.EnumerateArray())
                {
                    _location.Add((true, string.Empty));
                    Apply(Decide(), item, writer);
                    _location.RemoveAt(_location.Count - 1);
                }

                writer.WriteEndArray();
                break;
            default:
                Copy(element, writer);
                break;
        }
    }

    private void Apply(FieldAction action, JsonElement value, Utf8JsonWriter writer)
    {
        if (action == FieldAction.Allow)
        {
            Emit(value, writer);
            return;
        }

        CollectStrings(value);
        switch (action)
        {
            case FieldAction.Redact:
                writer.WriteNullValue();
                break;
            case FieldAction.Hash:
                writer.WriteStringValue(Pseudonym(value));
                break;
            case FieldAction.Block:
                Blocked = true;
                break;
        }
    }

    private FieldAction Decide()
    {
        var action = FieldAction.Allow;
        for (int i = 0; i < _paths.Length; i++)
        {
            if (_actions[i] != FieldAction.Allow && Matches(_paths[i].Steps, 0, 0))
            {
                Withheld |= 1UL << i;
                action = (FieldAction)Math.Max((int)action, (int)_actions[i]);
            }
        }

        return action;
    }

    private bool Matches((OracleStep Kind, string Name)[] steps, int s, int l)
    {
        if (s == steps.Length)
        {
            return l == _location.Count;
        }

        var (kind, name) = steps[s];
        switch (kind)
        {
            case OracleStep.Child:
                return l < _location.Count && !_location[l].IsIndex && string.Equals(_location[l].Name, name, _comparison) && Matches(steps, s + 1, l + 1);
            case OracleStep.Any:
                return l < _location.Count && _location[l].IsIndex && Matches(steps, s + 1, l + 1);
            default:
                for (int k = l; k < _location.Count; k++)
                {
                    if (!_location[k].IsIndex && string.Equals(_location[k].Name, name, _comparison) && Matches(steps, s + 1, k + 1))
                    {
                        return true;
                    }
                }

                return false;
        }
    }

    private string Pseudonym(JsonElement value)
    {
        byte[] bytes = value.ValueKind switch
        {
            JsonValueKind.String => Encoding.UTF8.GetBytes(value.GetString()!),
            JsonValueKind.Object or JsonValueKind.Array => Encoding.UTF8.GetBytes(Canonical(value)),
            _ => Encoding.UTF8.GetBytes(value.GetRawText()),
        };
        var destination = new byte[Pseudonymizer.Length];
        _pseudonymizer.Write(_subject, bytes, destination);
        return Encoding.ASCII.GetString(destination);
    }

    private void CollectStrings(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                DeniedStrings.Add(element.GetString()!);
                break;
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    CollectStrings(property.Value);
                }

                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    CollectStrings(item);
                }

                break;
        }
    }

    public static void CollectAllStrings(JsonElement element, List<string> into)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                into.Add(element.GetString()!);
                break;
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    CollectAllStrings(property.Value, into);
                }

                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    CollectAllStrings(item, into);
                }

                break;
        }
    }
}
