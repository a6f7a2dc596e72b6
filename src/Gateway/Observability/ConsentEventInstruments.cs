using Prometheus;

namespace ConsentGateway.Observability;

/// <summary>
/// The series of <c>consent_event_batches_total{result}</c> and <c>consent_events_total{result}</c>,
/// bound once: the label values are a fixed vocabulary, and binding them up front also exports every
/// series at 0 from start-up, so a dashboard's rate() has a series before the first failure.
/// </summary>
internal sealed class ConsentEventInstruments
{
    private readonly Counter.Child _batchesAccepted;
    private readonly Counter.Child _batchesRejected;
    private readonly Counter.Child _batchesIncomplete;
    private readonly Counter.Child _applied;
    private readonly Counter.Child _duplicate;
    private readonly Counter.Child _superseded;
    private readonly Counter.Child _unconfirmed;
    private readonly Counter.Child _notApplied;

    public ConsentEventInstruments(Counter batches, Counter events)
    {
        _batchesAccepted = batches.WithLabels("accepted");
        _batchesRejected = batches.WithLabels("rejected");
        _batchesIncomplete = batches.WithLabels("incomplete");
        _applied = events.WithLabels("applied");
        _duplicate = events.WithLabels("duplicate");
        _superseded = events.WithLabels("superseded");
        _unconfirmed = events.WithLabels("unconfirmed");
        _notApplied = events.WithLabels("not_applied");
    }

    /// <summary>
    /// Refused before any write (a 4xx). Its events are not counted: a body that does not parse
    /// has no event count, and none of them reached the store.
    /// </summary>
    public void Rejected() => _batchesRejected.Inc();

    /// <summary>Every event went through the store (200), whatever each one's outcome.</summary>
    public void Accepted(int applied, int duplicate, int superseded)
    {
        _batchesAccepted.Inc();
        CountOutcomes(applied, duplicate, superseded);
    }

    /// <summary>
    /// The store did not confirm the write of one event (503): that one may or may not have been
    /// written, so it is neither applied nor not_applied; the <paramref name="notApplied"/> after it
    /// were never tried.
    /// </summary>
    public void Incomplete(int applied, int duplicate, int superseded, int notApplied)
    {
        _batchesIncomplete.Inc();
        CountOutcomes(applied, duplicate, superseded);
        _unconfirmed.Inc();
        _notApplied.Inc(notApplied);
    }

    private void CountOutcomes(int applied, int duplicate, int superseded)
    {
        _applied.Inc(applied);
        _duplicate.Inc(duplicate);
        _superseded.Inc(superseded);
    }
}
