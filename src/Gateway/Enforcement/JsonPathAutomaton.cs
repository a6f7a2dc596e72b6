using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

namespace ConsentGateway.Enforcement;

/// <summary>
/// The paths of one filter as a deterministic automaton, built once from <see cref="JsonPathMatcher"/>
/// by subset construction. A state is one reachable active set of the NFA; per document node the
/// filter keeps a single int instead of a set, and stepping to a child is one scan of the few names
/// that can matter in that state instead of a walk over every active position.
/// </summary>
/// <remarks>
/// Names are compared as the NFA compares them (<see cref="JsonPropertyNameProbe.Matches"/>). Rule
/// names that compare equal to each other (case-insensitively, "Email" and "email") are one edge, and
/// that comparison is an equivalence, so a body name matches at most one edge of a state.
/// </remarks>
internal sealed class JsonPathAutomaton
{
    /// <summary>The state below which no path can match anything.</summary>
    public const int Dead = 0;

    /// <summary>
    /// Only '..name' paths that share names can multiply states; a policy that needs more than this is
    /// refused at start-up rather than filtered by a slower route.
    /// </summary>
    public const int MaxStates = 4096;

    private readonly State[] _states;
    private readonly Edge[] _edges;
    private readonly bool _caseSensitive;

    public JsonPathAutomaton(JsonPathMatcher nfa, bool caseSensitive)
    {
        ArgumentNullException.ThrowIfNull(nfa);
        _caseSensitive = caseSensitive;
        var builder = new Builder(nfa, caseSensitive);
        _states = builder.States.ToArray();
        _edges = builder.Edges.ToArray();
        for (int i = 0; i < _edges.Length; i++)
        {
            _edges[i] = _edges[i] with { Reach = _edges[i].Matched | _states[_edges[i].Next].Reach };
        }

        Initial = builder.Initial;
    }

    /// <summary>The state of the document's root value.</summary>
    public int Initial { get; }

    public int StateCount => _states.Length;

    /// <summary>
    /// Steps from an object's state to the child under the unescaped, valid UTF-8 name <paramref name="utf8"/>;
    /// <paramref name="matched"/> gets the paths the child completes. <paramref name="charBuffer"/> is
    /// space to decode a non-ASCII name into (see <see cref="JsonPropertyNameProbe"/>).
    /// </summary>
    public int StepProperty(int state, ReadOnlySpan<byte> utf8, Span<char> charBuffer, out ulong matched)
    {
        ref readonly var s = ref _states[state];
        int length = utf8.Length;
        if (s.AllAscii)
        {
            // Most names of a document match nothing. When every edge's name is ASCII, a body name can only
            // equal one of the same byte length: an ASCII name needs the same length, and no non-ASCII
            // character equals an ASCII one, by bytes or under OrdinalIgnoreCase (a test enumerates them).
            if ((s.AsciiLengths & (1UL << Math.Min(length, 63))) == 0)
            {
                matched = 0;
                return s.Other;
            }

            if (!_caseSensitive && (uint)(length - 1) < JsonRuleName.MaxFoldedLength)
            {
                // The body name packed once, each edge of its length compared in two words (see JsonRuleName).
                var (head, tail) = JsonRuleName.Pack(utf8);
                for (int i = s.EdgeStart; i < s.EdgeEnd; i++)
                {
                    ref readonly var edge = ref _edges[i];
                    if (edge.Length == length && edge.Folded.Matches(head, tail))
                    {
                        matched = edge.Matched;
                        return edge.Next;
                    }
                }

                matched = 0;
                return s.Other;
            }
        }

        return StepByProbe(s, utf8, charBuffer, out matched);
    }

    /// <summary>Case-sensitive, non-ASCII or long names: each edge compared as the NFA compares it. Kept apart so the common path inlines small.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private int StepByProbe(in State s, ReadOnlySpan<byte> utf8, Span<char> charBuffer, out ulong matched)
    {
        var probe = new JsonPropertyNameProbe(utf8, charBuffer);
        for (int i = s.EdgeStart; i < s.EdgeEnd; i++)
        {
            ref readonly var edge = ref _edges[i];
            if (probe.Matches(edge.Name, _caseSensitive))
            {
                matched = edge.Matched;
                return edge.Next;
            }
        }

        matched = 0;
        return s.Other;
    }

    /// <summary>
    /// The paths that can still complete somewhere below a node in <paramref name="state"/> (at a child or
    /// deeper): those with a position in the state's set. A container whose state reaches none of the
    /// paths a request withholds is forwarded unchanged, whatever it holds, so the filter need not walk it.
    /// </summary>
    public ulong Reach(int state) => _states[state].Reach;

    /// <summary>
    /// For an object in <paramref name="state"/>, under a request that withholds the paths in
    /// <paramref name="denied"/>: the plain ASCII names that may complete a withheld path or step to a state
    /// that reaches one, by length and first byte, which the walk must read token by token; a member whose
    /// name is ruled out is forwarded as it is. Every name may matter when a '..' path that is withheld keeps
    /// every member's child alive, or when a rule name is not ASCII.
    /// </summary>
    /// <remarks>
    /// Computed per object the filter opens (a few edges), not per state ahead of time: which paths are
    /// withheld is the request's consent, so an allowed rule's name (a contact's name and e-mail, under
    /// a purpose that may see them) costs no more than a name no rule mentions.
    /// </remarks>
    public NamesToRead NamesToRead(int state, ulong denied)
    {
        ref readonly var s = ref _states[state];
        if ((s.Reach & denied) == 0)
        {
            return default;
        }

        if (!s.AllAscii || (_states[s.Other].Reach & denied) != 0)
        {
            return Enforcement.NamesToRead.All;
        }

        ulong lengths = 0;
        ulong firstBytes = 0;
        for (int i = s.EdgeStart; i < s.EdgeEnd; i++)
        {
            ref readonly var edge = ref _edges[i];
            if ((edge.Reach & denied) != 0)
            {
                lengths |= 1UL << Math.Min(edge.Length, 63);
                firstBytes |= edge.FirstByteBit;
            }
        }

        return new NamesToRead(lengths, firstBytes);
    }

    /// <summary>Steps from an array's state to any of its elements (all elements step alike).</summary>
    public int StepElement(int state, out ulong matched)
    {
        ref readonly var s = ref _states[state];
        matched = s.ElementMatched;
        return s.Element;
    }

    /// <summary>Names off every edge go to <see cref="Other"/> matching nothing; an ASCII name off the lengths of the edges' names is such a name.</summary>
    private readonly record struct State(int EdgeStart, int EdgeEnd, int Other, int Element, ulong ElementMatched, ulong AsciiLengths, bool AllAscii, ulong Reach);

    /// <summary>An edge, with its name's byte length and folded form inline: stepping reads no other object.</summary>
    private readonly record struct Edge(JsonRuleName Name, int Next, ulong Matched)
    {
        public int Length { get; } = Name.Utf8.Length;

        public FoldedAsciiName Folded { get; } = Name.Folded;

        /// <summary>The bit of <see cref="NamesToRead.FirstBytes"/> a body name equal to this one has; all bits for the empty name.</summary>
        public ulong FirstByteBit { get; } = Name.Utf8.Length == 0 ? ulong.MaxValue : Enforcement.NamesToRead.FirstByteBit(Name.Utf8[0]);

        /// <summary>The paths this edge completes or leads to a state that reaches; set once every state is known.</summary>
        public ulong Reach { get; init; }
    }

    /// <summary>Subset construction, breadth first from the root's set; the dead (empty) set is state 0.</summary>
    private sealed class Builder
    {
        private readonly JsonPathMatcher _nfa;
        private readonly bool _caseSensitive;
        private readonly int[] _group;
        private readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);
        private readonly List<ulong[]> _sets = [];

        public Builder(JsonPathMatcher nfa, bool caseSensitive)
        {
            _nfa = nfa;
            _caseSensitive = caseSensitive;
            _group = GroupEqualNames(nfa.Names, caseSensitive);

            Id(new ulong[nfa.Words]); // Dead
            var initial = new ulong[nfa.Words];
            nfa.WriteInitial(initial);
            Initial = Id(initial);

            var next = new ulong[nfa.Words];
            var groups = new List<int>();
            var seen = new HashSet<int>();
            for (int state = 0; state < _sets.Count; state++)
            {
                var set = _sets[state];
                nfa.StepOther(set, next);
                int other = Id(next);

                int edgeStart = Edges.Count;
                ulong asciiLengths = 0;
                bool allAscii = true;
                groups.Clear();
                nfa.CollectNameIds(set, groups);
                seen.Clear();
                foreach (int nameId in groups)
                {
                    // Names that compare equal are one edge, under their group's first name.
                    int representative = _group[nameId];
                    if (!seen.Add(representative))
                    {
                        continue;
                    }

                    var rule = nfa.Names[representative];
                    // Build time only: the probe allocates its decode buffer when it needs one.
                    var probe = new JsonPropertyNameProbe(rule.Utf8, default);
                    ulong matched = nfa.StepProperty(set, ref probe, next, caseSensitive);
                    int target = Id(next);
                    if (target == other && matched == 0)
                    {
                        continue; // behaves as any other name
                    }

                    Edges.Add(new Edge(rule, target, matched));
                    allAscii &= rule.IsAscii;
                    asciiLengths |= 1UL << Math.Min(rule.Utf8.Length, 63);
                }

                ulong elementMatched = nfa.StepElement(set, next);
                int element = Id(next);
                States.Add(new State(edgeStart, Edges.Count, other, element, elementMatched, asciiLengths, allAscii, nfa.PathsOf(set)));
            }
        }

        public List<State> States { get; } = [];

        public List<Edge> Edges { get; } = [];

        public int Initial { get; }

        /// <summary>For each rule name, the first rule name it compares equal to (itself if none earlier).</summary>
        private static int[] GroupEqualNames(IReadOnlyList<JsonRuleName> names, bool caseSensitive)
        {
            var group = new int[names.Count];
            for (int i = 0; i < names.Count; i++)
            {
                group[i] = i;
                var probe = new JsonPropertyNameProbe(names[i].Utf8, default);
                for (int j = 0; j < i; j++)
                {
                    if (group[j] == j && probe.Matches(names[j], caseSensitive))
                    {
                        group[i] = j;
                        break;
                    }
                }
            }

            return group;
        }

        private int Id(ulong[] set)
        {
            var key = Key(set);
            if (_ids.TryGetValue(key, out int id))
            {
                return id;
            }

            if (_sets.Count == MaxStates)
            {
                throw new ArgumentException(
                    $"These paths need more than {MaxStates} matcher states ('..name' paths sharing names multiply them); split them across routes or use fewer '..' paths.");
            }

            id = _sets.Count;
            _sets.Add((ulong[])set.Clone());
            _ids.Add(key, id);
            return id;
        }

        private static string Key(ulong[] set)
        {
            var text = new StringBuilder(set.Length * 17);
            foreach (ulong word in set)
            {
                text.Append(word.ToString("x16", CultureInfo.InvariantCulture));
            }

            return text.ToString();
        }
    }
}
