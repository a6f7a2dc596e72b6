using System.Numerics;

namespace ConsentGateway.Enforcement;

/// <summary>
/// All paths of one filter compiled into a single NFA, from which <see cref="JsonPathAutomaton"/> is
/// built (the filter itself steps the automaton). A position is (path, segment): "the node seen
/// so far matched the path's segments before this one". The active set of a container is a bitmask of
/// positions to try on its children; stepping to a child yields the child's active set and the paths
/// whose last segment the child completed. Sets are spans of <see cref="Words"/> ulongs owned by the
/// caller, so a walk keeps one set per depth on a small stack and allocates nothing.
/// </summary>
internal sealed class JsonPathMatcher
{
    private readonly JsonPathSegmentKind[] _kind;
    private readonly int[] _nameId;
    private readonly int[] _pathIndex;
    private readonly bool[] _isLast;
    private readonly JsonRuleName[] _names;
    private readonly ulong[] _initial;

    public JsonPathMatcher(IReadOnlyList<JsonPath> paths)
    {
        int positions = 0;
        for (int i = 0; i < paths.Count; i++)
        {
            positions += paths[i].Segments.Count;
        }

        _kind = new JsonPathSegmentKind[positions];
        _nameId = new int[positions];
        _pathIndex = new int[positions];
        _isLast = new bool[positions];
        Words = Math.Max(1, (positions + 63) / 64);
        _initial = new ulong[Words];

        var names = new List<JsonRuleName>();
        var nameIds = new Dictionary<string, int>(StringComparer.Ordinal);
        int p = 0;
        for (int i = 0; i < paths.Count; i++)
        {
            var segments = paths[i].Segments;
            _initial[p / 64] |= 1UL << (p % 64);
            for (int s = 0; s < segments.Count; s++, p++)
            {
                var segment = segments[s];
                _kind[p] = segment.Kind;
                _pathIndex[p] = i;
                _isLast[p] = s == segments.Count - 1;
                if (segment.Kind == JsonPathSegmentKind.AnyElement)
                {
                    _nameId[p] = -1;
                    continue;
                }

                if (!nameIds.TryGetValue(segment.Name, out int id))
                {
                    id = names.Count;
                    nameIds.Add(segment.Name, id);
                    names.Add(new JsonRuleName(segment.Name));
                    MaxNameLength = Math.Max(MaxNameLength, segment.Name.Length);
                }

                _nameId[p] = id;
            }
        }

        _names = names.ToArray();
    }

    /// <summary>The distinct rule names, indexed by name id.</summary>
    public IReadOnlyList<JsonRuleName> Names => _names;

    /// <summary>Number of ulongs in one active set.</summary>
    public int Words { get; }

    /// <summary>Longest rule name in UTF-16 units: sizes the decode buffer of <see cref="JsonPropertyNameProbe"/>.</summary>
    public int MaxNameLength { get; }

    /// <summary>The active set of the root value: every path at its first segment.</summary>
    public void WriteInitial(Span<ulong> set) => _initial.CopyTo(set);

    /// <summary>
    /// Steps from an object's active set to the child under property <paramref name="name"/>.
    /// Writes the child's active set to <paramref name="next"/> and returns the mask of completed paths.
    /// </summary>
    public ulong StepProperty(scoped ReadOnlySpan<ulong> set, ref JsonPropertyNameProbe name, scoped Span<ulong> next, bool caseSensitive)
    {
        ulong matched = 0;

        // Several positions often share a name ($.a.email and $..email): compare each distinct name once.
        ulong compared = 0;
        ulong equal = 0;
        for (int w = 0; w < set.Length; w++)
        {
            next[w] = 0;
        }

        for (int w = 0; w < set.Length; w++)
        {
            ulong bits = set[w];
            while (bits != 0)
            {
                int p = (w * 64) + BitOperations.TrailingZeroCount(bits);
                bits &= bits - 1;
                var kind = _kind[p];
                if (kind == JsonPathSegmentKind.AnyElement)
                {
                    continue;
                }

                if (kind == JsonPathSegmentKind.Descendant)
                {
                    // '..name' keeps looking at every depth below, whatever this child is called.
                    next[w] |= 1UL << (p % 64);
                }

                int id = _nameId[p];
                bool isEqual;
                if (id < 64)
                {
                    ulong bit = 1UL << id;
                    if ((compared & bit) == 0)
                    {
                        compared |= bit;
                        if (name.Matches(_names[id], caseSensitive))
                        {
                            equal |= bit;
                        }
                    }

                    isEqual = (equal & bit) != 0;
                }
                else
                {
                    isEqual = name.Matches(_names[id], caseSensitive);
                }

                if (isEqual)
                {
                    Advance(p, next, ref matched);
                }
            }
        }

        return matched;
    }

    /// <summary>Steps from an object's active set to a child whose name no position of the set names.</summary>
    public void StepOther(ReadOnlySpan<ulong> set, Span<ulong> next)
    {
        for (int w = 0; w < set.Length; w++)
        {
            next[w] = 0;
            ulong bits = set[w];
            while (bits != 0)
            {
                int p = (w * 64) + BitOperations.TrailingZeroCount(bits);
                bits &= bits - 1;
                if (_kind[p] == JsonPathSegmentKind.Descendant)
                {
                    next[w] |= 1UL << (p % 64);
                }
            }
        }
    }

    /// <summary>The paths with a position in the set: the only ones that can still complete below it.</summary>
    public ulong PathsOf(ReadOnlySpan<ulong> set)
    {
        ulong paths = 0;
        for (int w = 0; w < set.Length; w++)
        {
            ulong bits = set[w];
            while (bits != 0)
            {
                int p = (w * 64) + BitOperations.TrailingZeroCount(bits);
                bits &= bits - 1;
                paths |= 1UL << _pathIndex[p];
            }
        }

        return paths;
    }

    /// <summary>Adds the name id of every named position in the set to <paramref name="nameIds"/> (duplicates included).</summary>
    public void CollectNameIds(ReadOnlySpan<ulong> set, List<int> nameIds)
    {
        for (int w = 0; w < set.Length; w++)
        {
            ulong bits = set[w];
            while (bits != 0)
            {
                int p = (w * 64) + BitOperations.TrailingZeroCount(bits);
                bits &= bits - 1;
                if (_kind[p] != JsonPathSegmentKind.AnyElement)
                {
                    nameIds.Add(_nameId[p]);
                }
            }
        }
    }

    /// <summary>Steps from an array's active set to any of its elements (all elements step alike).</summary>
    public ulong StepElement(ReadOnlySpan<ulong> set, Span<ulong> next)
    {
        ulong matched = 0;
        for (int w = 0; w < set.Length; w++)
        {
            next[w] = 0;
        }

        for (int w = 0; w < set.Length; w++)
        {
            ulong bits = set[w];
            while (bits != 0)
            {
                int p = (w * 64) + BitOperations.TrailingZeroCount(bits);
                bits &= bits - 1;
                switch (_kind[p])
                {
                    case JsonPathSegmentKind.Descendant:
                        next[w] |= 1UL << (p % 64);
                        break;
                    case JsonPathSegmentKind.AnyElement:
                        Advance(p, next, ref matched);
                        break;
                }
            }
        }

        return matched;
    }

    private void Advance(int p, scoped Span<ulong> next, ref ulong matched)
    {
        if (_isLast[p])
        {
            matched |= 1UL << _pathIndex[p];
        }
        else
        {
            int q = p + 1;
            next[q / 64] |= 1UL << (q % 64);
        }
    }
}
