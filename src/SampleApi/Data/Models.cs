namespace SampleApi.Data;

// The JSON shapes of the sample API. Property names serialise in camelCase (JsonSerializerDefaults.Web).
// Every personal field is deliberately present so the gateway's policy has something to enforce.

internal sealed record Address(string Street, string City, string Postcode, string Country);

internal sealed record GeoPoint(double Lat, double Lon);

internal sealed record Customer(
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
    DateTimeOffset CreatedAt);

internal sealed record OrderItem(string Sku, string Description, int Quantity, decimal UnitPrice);

internal sealed record OrderContact(string Name, string Email, string Phone);

internal sealed record OrderPayment(string Method, string CardLast4);

internal sealed record Order(
    string Id,
    string CustomerId,
    string Status,
    DateTimeOffset PlacedAt,
    IReadOnlyList<OrderItem> Items,
    decimal Total,
    string Currency,
    Address ShippingAddress,
    OrderContact Contact,
    OrderPayment Payment);

internal sealed record Activity(
    DateTimeOffset At,
    string Type,
    string IpAddress,
    string DeviceId,
    GeoPoint Location,
    string UserAgent);
