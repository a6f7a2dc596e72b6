namespace ConsentGateway.Enforcement;

/// <summary>
/// What happens to a personal field. Ordered by severity: when several rules match one value,
/// the most severe denied action wins (deny always beats allow).
/// </summary>
internal enum FieldAction : byte
{
    Allow = 0,
    Hash = 1,
    Redact = 2,
    Strip = 3,
    Block = 4,
}

/// <summary>Which side of the exchange a rule applies to.</summary>
[Flags]
internal enum Direction : byte
{
    None = 0,
    Request = 1,
    Response = 2,
    Both = Request | Response,
}
