using System.Buffers;
using System.Text.Json;
using System.Text.Unicode;

namespace ConsentGateway.Enforcement;

internal enum JsonFilterStatus : byte
{
    Ok,
    Malformed,
    TooDeep,
    InvalidUtf8,
    Blocked,
}

/// <summary>Bit i of <see cref="WithheldMask"/> is set when path i withheld at least one value.</summary>
internal readonly record struct JsonFilterResult(JsonFilterStatus Status, ulong WithheldMask);

/// <summary>
/// Removes, redacts or pseudonymises the values addressed by a fixed set of <see cref="JsonPath"/>s in
/// one streaming pass (reader → output, no DOM). What it forwards is in canonical compact form, so the
/// receiver sees exactly the names that were checked; tokens already in that form are copied from the
/// input (see JsonFieldFilter.Output.cs). Thread-safe: all per-call state lives on the stack or in
/// per-thread scratch.
/// </summary>
internal sealed partial class JsonFieldFilter
{
    public const int MaxPaths = 64;
    public const int MaxSupportedDepth = 4096;

    private const int StackLevels = 512;
    private const int StackNameChars = 256;

    private readonly JsonPathAutomaton _automaton;
    private readonly int _maxNameLength;
    private readonly bool _caseSensitive;
    private readonly int _maxDepth;

    public JsonFieldFilter(IReadOnlyList<JsonPath> paths, bool caseSensitive, int maxDepth)
    {
        ArgumentNullException.ThrowIfNull(paths);
        if (paths.Count > MaxPaths)
        {
            throw new ArgumentException($"A body filter supports at most {MaxPaths} paths (got {paths.Count}).", nameof(paths));
        }

        for (int i = 0; i < paths.Count; i++)
        {
            if (paths[i] is null || paths[i].Segments.Count == 0)
            {
                throw new ArgumentException($"Path {i} is missing or was not created by JsonPath.TryParse.", nameof(paths));
            }
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(maxDepth, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxDepth, MaxSupportedDepth);

        var nfa = new JsonPathMatcher(paths);
        _automaton = new JsonPathAutomaton(nfa, caseSensitive);
        _maxNameLength = nfa.MaxNameLength;
        _caseSensitive = caseSensitive;
        _maxDepth = maxDepth;
        PathCount = paths.Count;
    }

    public int PathCount { get; }

    public JsonFilterResult Filter(ReadOnlySpan<byte> utf8Json, ReadOnlySpan<FieldAction> actions, IBufferWriter<byte> output, Pseudonymizer? pseudonymizer, ReadOnlySpan<byte> subjectUtf8)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (actions.Length < PathCount)
        {
            throw new ArgumentException($"Expected an action for each of the {PathCount} paths.", nameof(actions));
        }

        // A BOM is accepted by some stacks and rejected by others; refusing it keeps both sides agreeing.
        if (utf8Json.IsEmpty || utf8Json.StartsWith("\uFEFF"u8))
        {
            return new JsonFilterResult(JsonFilterStatus.Malformed, 0);
        }

        // The reader only validates UTF-8 when a string is materialised, and skipped values never are.
        if (!Utf8.IsValid(utf8Json))
        {
            return new JsonFilterResult(JsonFilterStatus.InvalidUtf8, 0);
        }

        ulong denied = 0;
        for (int i = 0; i < PathCount; i++)
        {
            if (actions[i] != FieldAction.Allow)
            {
                denied |= 1UL << i;
            }
        }

        // One automaton state per nesting level plus one for the pending child, one element mask and one set of
        // names to read per level.
        // Sized to what this filter needs (not the stack limit): stackalloc zero-fills, and for
        // small documents that fill was a measurable share of the call.
        int levels = _maxDepth + 2;
        int[]? rentedStates = null;
        Span<int> states = levels <= StackLevels
            ? stackalloc int[levels]
            : (rentedStates = ArrayPool<int>.Shared.Rent(levels));
        ulong[]? rentedElements = null;
        Span<ulong> elementMatches = levels <= StackLevels
            ? stackalloc ulong[levels]
            : (rentedElements = ArrayPool<ulong>.Shared.Rent(levels));
        NamesToRead[]? rentedNames = null;
        Span<NamesToRead> namesToRead = levels <= StackLevels
            ? stackalloc NamesToRead[levels]
            : (rentedNames = ArrayPool<NamesToRead>.Shared.Rent(levels));
        byte[]? rentedContainers = null;
        Span<byte> containers = levels <= StackLevels
            ? stackalloc byte[levels]
            : (rentedContainers = ArrayPool<byte>.Shared.Rent(levels));
        int nameChars = 3 * _maxNameLength;
        char[]? rentedChars = null;
        Span<char> nameBuffer = nameChars <= StackNameChars
            ? stackalloc char[nameChars]
            : (rentedChars = ArrayPool<char>.Shared.Rent(nameChars));

        var scratch = JsonFilterScratch.Rent();
        try
        {
            var run = new Run
            {
                // Room for one level past the limit: the walk sees the too-deep container and reports TooDeep.
                Reader = new JsonTokenizer(utf8Json, containers[..(_maxDepth + 1)]),
                Output = output,
                Buffer = FirstBuffer(output, utf8Json.Length),
                RawEnd = NoRaw,
                NamesState = -1,
                Scratch = scratch,
                Input = utf8Json,
                Actions = actions,
                Denied = denied,
                States = states[..levels],
                ElementMatches = elementMatches[..levels],
                NamesToRead = namesToRead[..levels],
                NameBuffer = nameBuffer,
                Pseudonymizer = pseudonymizer,
                Subject = subjectUtf8,
            };

            JsonFilterStatus status;
            try
            {
                status = Walk(ref run);
            }
            catch (JsonException)
            {
                status = JsonFilterStatus.Malformed;
            }
            catch (InvalidOperationException)
            {
                // CopyString throws this for escapes that do not decode (a lone "\ud800").
                status = JsonFilterStatus.Malformed;
            }

            if (status == JsonFilterStatus.Ok && run.Blocked)
            {
                status = JsonFilterStatus.Blocked;
            }

            if (status == JsonFilterStatus.Ok)
            {
                Complete(ref run);
            }

            return new JsonFilterResult(status, status is JsonFilterStatus.Ok or JsonFilterStatus.Blocked ? run.Withheld : 0);
        }
        finally
        {
            scratch.Return();
            if (rentedStates is not null)
            {
                ArrayPool<int>.Shared.Return(rentedStates);
            }

            if (rentedElements is not null)
            {
                ArrayPool<ulong>.Shared.Return(rentedElements);
            }

            if (rentedNames is not null)
            {
                ArrayPool<NamesToRead>.Shared.Return(rentedNames);
            }

            if (rentedContainers is not null)
            {
                ArrayPool<byte>.Shared.Return(rentedContainers);
            }

            if (rentedChars is not null)
            {
                ArrayPool<char>.Shared.Return(rentedChars);
            }
        }
    }

    private JsonFilterStatus Walk(ref Run run)
    {
        ref var reader = ref run.Reader;
        if (!reader.Read())
        {
            return JsonFilterStatus.Malformed;
        }

        // The root can never be matched ('$' alone is not a valid path); its state is every path's start.
        run.States[1] = _automaton.Initial;
        int level = 0;
        var status = HandleValue(ref run, FieldAction.Allow, level);
        level += Opened(ref reader);
        while (status == JsonFilterStatus.Ok && level > 0)
        {
            // In an object, the members no withheld path can reach are forwarded as they are, read in one tight loop.
            var namesToRead = run.NamesToRead[level];
            if (!namesToRead.ReadsEveryName)
            {
                int plain = reader.TrySkipPlainMembers(namesToRead, _maxDepth, out int plainEnd);
                if (plain >= 0)
                {
                    Raw(ref run, plain, plainEnd, (byte)',');
                }
            }

            // Read, unless the skip stopped on a name it had read.
            if (reader.TokenType != JsonTokenType.PropertyName && !reader.Read())
            {
                return JsonFilterStatus.Malformed;
            }

            switch (reader.TokenType)
            {
                case JsonTokenType.EndObject:
                case JsonTokenType.EndArray:
                    RawEnd(ref run);
                    level--;
                    break;
                case JsonTokenType.PropertyName:
                    {
                        var name = Unescaped(ref run);
                        run.States[level + 1] = _automaton.StepProperty(run.States[level], name, run.NameBuffer, out ulong matched);
                        var action = Resolve(ref run, matched);
                        if (action is FieldAction.Allow or FieldAction.Redact or FieldAction.Hash)
                        {
                            WriteName(ref run, name);
                        }

                        if (!reader.Read())
                        {
                            return JsonFilterStatus.Malformed;
                        }

                        if (action != FieldAction.Allow || !TryForwardPlainScalar(ref run))
                        {
                            status = HandleValue(ref run, action, level);
                            level += Opened(ref reader);
                        }

                        break;
                    }

                default:
                    {
                        // A value not preceded by a name is an array element; the array's element state already
                        // sits in the slot above it (see HandleValue), and survives nested containers.
                        var action = Resolve(ref run, run.ElementMatches[level]);
                        if (action != FieldAction.Allow || !TryForwardPlainScalar(ref run))
                        {
                            status = HandleValue(ref run, action, level);
                            level += Opened(ref reader);
                        }

                        break;
                    }
            }
        }

        if (status != JsonFilterStatus.Ok)
        {
            return status;
        }

        // Throws on trailing content (multiple values are not allowed); only whitespace may follow.
        return reader.Read() ? JsonFilterStatus.Malformed : JsonFilterStatus.Ok;
    }

    /// <summary>The effective action for a value matched by <paramref name="matched"/>, recording what it withholds.</summary>
    private static FieldAction Resolve(ref Run run, ulong matched)
    {
        ulong denied = matched & run.Denied;
        if (denied == 0)
        {
            return FieldAction.Allow;
        }

        run.Withheld |= denied;
        var action = FieldAction.Allow;
        while (denied != 0)
        {
            int i = System.Numerics.BitOperations.TrailingZeroCount(denied);
            denied &= denied - 1;
            if (run.Actions[i] > action)
            {
                action = run.Actions[i];
            }
        }

        // Without a key there is no safe pseudonym; removing the value is the closest fail-closed outcome.
        return action == FieldAction.Hash && run.Pseudonymizer is null ? FieldAction.Strip : action;
    }

    /// <summary>
    /// Handles the value whose first token the reader is on, inside a container at <paramref name="level"/>.
    /// An allowed container is opened: the caller's loop walks its content one level deeper, where the
    /// container's state already sits (slot level + 1, and an array's element state in level + 2).
    /// Anything else is consumed whole.
    /// </summary>
    private JsonFilterStatus HandleValue(ref Run run, FieldAction action, int level)
    {
        ref var reader = ref run.Reader;
        switch (action)
        {
            case FieldAction.Block:
                run.Blocked = true;
                Skipped(ref run);
                return Consume(ref run, null);
            case FieldAction.Strip:
                Skipped(ref run);
                return Consume(ref run, null);
            case FieldAction.Redact:
                Canonical(ref run, "null"u8, (byte)',');
                return Consume(ref run, null);
            case FieldAction.Hash:
                return WritePseudonym(ref run);
        }

        // No path this request withholds can match anywhere below this container: copy it through without
        // re-writing every token, when it is plain (see TryCopyUnreachable); otherwise walk it as usual.
        if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray
            && (_automaton.Reach(run.States[level + 1]) & run.Denied) == 0
            && TryCopyUnreachable(ref run))
        {
            return JsonFilterStatus.Ok;
        }

        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject:
                if (reader.CurrentDepth >= _maxDepth)
                {
                    return JsonFilterStatus.TooDeep;
                }

                Raw(ref run, (int)reader.TokenStartIndex, (int)reader.TokenStartIndex + 1, 0);
                run.NamesToRead[level + 1] = NamesToReadIn(ref run, run.States[level + 1]);
                return JsonFilterStatus.Ok;
            case JsonTokenType.StartArray:
                if (reader.CurrentDepth >= _maxDepth)
                {
                    return JsonFilterStatus.TooDeep;
                }

                Raw(ref run, (int)reader.TokenStartIndex, (int)reader.TokenStartIndex + 1, 0);
                run.NamesToRead[level + 1] = NamesToRead.All;

                // Every element steps alike, so step once; nested containers only write to higher slots.
                run.States[level + 2] = _automaton.StepElement(run.States[level + 1], out run.ElementMatches[level + 1]);
                return JsonFilterStatus.Ok;
            case JsonTokenType.String:
                if (reader.ValueIsEscaped)
                {
                    Canonical(ref run, run.Scratch.CanonicalString(Unescaped(ref run)), (byte)',');
                }
                else
                {
                    // Nothing to normalise: the token, quotes included, as it is.
                    int start = (int)reader.TokenStartIndex;
                    Raw(ref run, start, start + reader.ValueSpan.Length + 2, (byte)',');
                }

                return JsonFilterStatus.Ok;
            default:
                {
                    // Numbers keep their original text (1e400 or 2^53+1 would not survive a round trip
                    // through double); true, false and null are already canonical.
                    int start = (int)reader.TokenStartIndex;
                    Raw(ref run, start, start + reader.ValueSpan.Length, (byte)',');
                    return JsonFilterStatus.Ok;
                }
        }
    }

    /// <summary>
    /// The names to read in an object in <paramref name="state"/>, under this call's consent. The last
    /// state's answer is kept: the objects of an array are all in one state, and a state with many rule
    /// names would otherwise cost a pass over its edges per element.
    /// </summary>
    private NamesToRead NamesToReadIn(ref Run run, int state)
    {
        if (state != run.NamesState)
        {
            run.NamesState = state;
            run.Names = _automaton.NamesToRead(state, run.Denied);
        }

        return run.Names;
    }

    /// <summary>
    /// 1 when the value just handled was a container left open for the walk (the reader is still on its
    /// first token: every other outcome leaves the reader on the value's last token), else 0. Kept out of
    /// <see cref="HandleValue"/> so the walk's level never has its address taken and stays in a register.
    /// </summary>
    private static int Opened(ref JsonTokenizer reader) =>
        reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray ? 1 : 0;
}
