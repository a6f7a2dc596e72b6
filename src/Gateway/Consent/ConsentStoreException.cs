namespace ConsentGateway.Consent;

/// <summary>
/// A consent write could not be confirmed by the store (unreachable, timed out). The write may or
/// may not have been applied; callers should report 503 and let the client retry (writes are idempotent
/// apart from the version number). Messages never contain subject ids.
/// </summary>
internal sealed class ConsentStoreException : Exception
{
    public ConsentStoreException()
    {
    }

    public ConsentStoreException(string message)
        : base(message)
    {
    }

    public ConsentStoreException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
