using System.Collections.Concurrent;

namespace ConsentGateway.Policy;

/// <summary>
/// API keys that already matched a caller's SHA-256 under this policy, so a returning caller costs a
/// dictionary read instead of a hash (a measurable share of a small request). Only successful keys
/// are remembered, at most <see cref="Capacity"/>, so random keys cannot grow it; it lives and dies
/// with its <see cref="CompiledPolicy"/>, so a reload that rotates a key forgets the old one at once.
/// The keys stay in process memory, as every in-flight request's headers do; they never reach logs.
/// </summary>
internal sealed class VerifiedCallerKeys
{
    public const int Capacity = 1024;

    private readonly ConcurrentDictionary<string, Caller> _callers = new(StringComparer.Ordinal);
    private int _count;

    public bool TryGet(string key, out Caller? caller) => _callers.TryGetValue(key, out caller);

    public void Remember(string key, Caller caller)
    {
        if (Volatile.Read(ref _count) >= Capacity)
        {
            return;
        }

        if (_callers.TryAdd(key, caller))
        {
            Interlocked.Increment(ref _count);
        }
    }
}
