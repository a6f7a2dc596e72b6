namespace ConsentGateway.Consent;

/// <summary>
/// Meeting point between the stores (which learn about changes) and the cache (which must forget).
/// Both depend on this hub, so neither depends on the other and DI has no cycle.
/// </summary>
/// <remarks>
/// The hub also owns the two pieces of state the cache's hit path reads: the generation (bumped by
/// <see cref="InvalidateAll"/>; entries of an older generation are distrusted entirely) and whether
/// change notifications are flowing (while they are not, L1 may not answer on its own).
/// </remarks>
internal sealed class ConsentInvalidation
{
    private long _generation;
    private volatile bool _notificationsFlowing = true;

    /// <summary>Raised for one changed subject; handlers must be quick and must not throw.</summary>
    public event Action<string>? SubjectInvalidated;

    /// <summary>Raised after the generation was bumped, so holders can release memory.</summary>
    public event Action? AllInvalidated;

    public long Generation => Volatile.Read(ref _generation);

    /// <summary>False between the loss of the change subscription and its confirmed return.</summary>
    public bool NotificationsFlowing => _notificationsFlowing;

    public void Invalidate(string subject) => SubjectInvalidated?.Invoke(subject);

    public void InvalidateAll()
    {
        Interlocked.Increment(ref _generation);
        AllInvalidated?.Invoke();
    }

    /// <summary>
    /// Changes may now go unseen: L1 stops answering on its own until <see cref="SubscriptionRestored"/>
    /// (every lookup goes to the store). Entries are kept, not dropped, so that if the store itself is
    /// unreachable the stale rules (bounded by the stale window) still apply instead of failing every
    /// request closed at once.
    /// </summary>
    public void SubscriptionLost()
    {
        _notificationsFlowing = false;
    }

    /// <summary>
    /// Notifications flow again. Everything cached during the gap may have missed a change, so it is
    /// distrusted too; the bump happens before L1 is trusted again so no gap entry is ever served fresh.
    /// </summary>
    public void SubscriptionRestored()
    {
        InvalidateAll();
        _notificationsFlowing = true;
    }
}
