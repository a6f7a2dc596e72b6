using System.Collections.Concurrent;
using System.Text.Json;

namespace SampleApi.Data;

internal enum ProfileSize
{
    Small,
    Medium,
    Large,
}

/// <summary>
/// A customer's full profile: every customer field at the top level (so the same field rules apply
/// as for GET /customers/{id}), plus an order history and an activity log sized to roughly
/// 0.5 KB (small), 8 KB (medium) or 256 KB (large). Built once per customer and size, then served
/// from memory, so the sample API is never the bottleneck of a load test.
/// </summary>
internal sealed record Profile(
    string Id,
    string Name,
    string Email,
    string Phone,
    IReadOnlyList<Address> Addresses,
    string DateOfBirth,
    string CardNumber,
    GeoPoint Location,
    string DeviceId,
    string LoyaltyTier,
    DateTimeOffset CreatedAt,
    IReadOnlyList<Order> Orders,
    IReadOnlyList<Activity> Activity);

internal static class Profiles
{
    private static readonly ConcurrentDictionary<(string Id, ProfileSize Size), byte[]> Cache = new();

    public static int TargetBytes(ProfileSize size) => size switch
    {
        ProfileSize.Small => 0, // the customer alone, about 0.5 KB
        ProfileSize.Medium => 8 * 1024,
        _ => 256 * 1024,
    };

    public static bool TryParseSize(string? text, out ProfileSize size)
    {
        switch (text?.ToUpperInvariant())
        {
            case null or "" or "SMALL":
                size = ProfileSize.Small;
                return true;
            case "MEDIUM":
                size = ProfileSize.Medium;
                return true;
            case "LARGE":
                size = ProfileSize.Large;
                return true;
            default:
                size = default;
                return false;
        }
    }

    public static byte[] Get(Customer customer, ProfileSize size) =>
        Cache.GetOrAdd((customer.Id, size), static (key, c) => Build(c, key.Size), customer);

    private static byte[] Build(Customer c, ProfileSize size)
    {
        var context = SampleJsonContext.Relaxed;
        var orders = new List<Order>();
        var activity = new List<Activity>();
        var target = TargetBytes(size);
        var estimate = Serialize(c, orders, activity).Length;

        // Add one order then three activity events, measuring each as it is added (plus its comma),
        // until the document reaches its target size. The data are deterministic, so are the sizes.
        for (var i = 0; estimate < target; i++)
        {
            if (i % 4 == 0)
            {
                var order = SampleData.HistoricOrder(c, orders.Count);
                estimate += JsonSerializer.SerializeToUtf8Bytes(order, context.Order).Length + 1;
                orders.Add(order);
            }
            else
            {
                var evt = SampleData.HistoricActivity(c, activity.Count);
                estimate += JsonSerializer.SerializeToUtf8Bytes(evt, context.Activity).Length + 1;
                activity.Add(evt);
            }
        }

        return Serialize(c, orders, activity);
    }

    private static byte[] Serialize(Customer c, List<Order> orders, List<Activity> activity) =>
        JsonSerializer.SerializeToUtf8Bytes(
            new Profile(c.Id, c.Name, c.Email, c.Phone, c.Addresses, c.DateOfBirth, c.CardNumber, c.Location, c.DeviceId, c.LoyaltyTier, c.CreatedAt, orders, activity),
            SampleJsonContext.Relaxed.Profile);
}
