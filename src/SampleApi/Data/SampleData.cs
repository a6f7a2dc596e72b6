using System.Collections.Frozen;
using System.Globalization;

namespace SampleApi.Data;

/// <summary>
/// The seeded, read-only data set: 50 customers (c-1001 … c-1050) and their orders. Generated from a
/// fixed seed, so every process (demo, tests, load tests) sees byte-identical data. All values are
/// fake: reserved e-mail domains, fictional phone ranges, Luhn-valid test card numbers.
/// </summary>
internal sealed class SampleData
{
    public const int CustomerCount = 50;
    public const int FirstCustomerNumber = 1001;

    private static readonly string[] FirstNames =
    [
        "Ada", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas",
        "Kavya", "Liam", "Maya", "Noah", "Olga", "Pablo", "Quinn", "Rosa", "Sami", "Tara",
        "Umar", "Vera", "Wei", "Ximena", "Yusuf", "Zoe",
    ];

    private static readonly string[] LastNames =
    [
        "Andersen", "Brennan", "Costa", "Dubois", "Eriksen", "Fischer", "García", "Haddad", "Ivanova", "Jensen",
        "Kowalski", "Lindqvist", "Moreau", "Nakamura", "O'Neill", "Petrov", "Quintero", "Rossi", "Schmidt", "Tanaka",
        "Ueda", "Varga", "Weber", "Yilmaz", "Zhang",
    ];

    private static readonly (string City, string Country, double Lat, double Lon, string PostcodeFormat)[] Cities =
    [
        ("London", "GB", 51.5072, -0.1276, "SW{0} {1}AB"),
        ("Manchester", "GB", 53.4808, -2.2426, "M{0} {1}XY"),
        ("Dublin", "IE", 53.3498, -6.2603, "D{0:00} {1}K2"),
        ("Berlin", "DE", 52.5200, 13.4050, "10{0:000}"),
        ("Munich", "DE", 48.1351, 11.5820, "80{0:000}"),
        ("Paris", "FR", 48.8566, 2.3522, "750{0:00}"),
        ("Lyon", "FR", 45.7640, 4.8357, "690{0:00}"),
        ("Amsterdam", "NL", 52.3676, 4.9041, "10{0:00} AB"),
        ("Madrid", "ES", 40.4168, -3.7038, "280{0:00}"),
        ("Milan", "IT", 45.4642, 9.1900, "201{0:00}"),
        ("Stockholm", "SE", 59.3293, 18.0686, "11{0:0} {1}5"),
        ("Boston", "US", 42.3601, -71.0589, "021{0:00}"),
    ];

    private static readonly string[] Streets =
    [
        "Acacia Avenue", "Baker Street", "Canal Walk", "Dockside Road", "Elm Row", "Ferry Lane",
        "Garden Court", "Harbour View", "Ivy Close", "Juniper Way", "Kings Parade", "Lime Grove",
        "Mill Lane", "North Terrace", "Orchard Rise", "Park Crescent",
    ];

    private static readonly string[] Tiers = ["bronze", "silver", "gold", "platinum"];

    private static readonly string[] OrderStatuses = ["placed", "paid", "shipped", "delivered", "returned"];

    private static readonly (string Sku, string Description, decimal Price)[] Products =
    [
        ("SKU-1001", "Espresso beans 1kg", 18.50m),
        ("SKU-1002", "Ceramic pour-over dripper", 24.00m),
        ("SKU-1003", "Paper filters (100)", 4.25m),
        ("SKU-1004", "Burr grinder", 129.99m),
        ("SKU-1005", "Milk frother", 39.90m),
        ("SKU-1006", "Travel mug", 14.75m),
        ("SKU-1007", "Gooseneck kettle", 59.00m),
        ("SKU-1008", "Descaler tablets", 7.49m),
    ];

    private static readonly string[] UserAgents =
    [
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/126.0 Mobile Safari/537.36",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Version/17.5 Safari/605.1.15",
        "SampleShop/4.2.0 (Android 13)",
    ];

    private static readonly string[] ActivityTypes = ["login", "view_product", "add_to_cart", "checkout", "search", "logout"];

    private static readonly DateTimeOffset Epoch = new(2022, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static SampleData Instance { get; } = new();

    private SampleData()
    {
        var rng = new DeterministicRandom(0x5EED_C0DE_2024UL);
        var customers = new List<Customer>(CustomerCount);
        var orders = new Dictionary<string, IReadOnlyList<Order>>(StringComparer.Ordinal);
        var orderNumber = 50001;
        for (var n = 0; n < CustomerCount; n++)
        {
            var customer = NewCustomer(rng, FirstCustomerNumber + n);
            customers.Add(customer);
            var count = rng.Next(0, 6);
            var list = new List<Order>(count);
            for (var i = 0; i < count; i++)
            {
                list.Add(NewOrder(rng, customer, string.Create(CultureInfo.InvariantCulture, $"o-{orderNumber++}"), Epoch.AddDays(rng.Next(0, 1000)).AddMinutes(rng.Next(0, 1440))));
            }

            list.Sort(static (a, b) => a.PlacedAt.CompareTo(b.PlacedAt));
            orders.Add(customer.Id, list);
        }

        Customers = customers;
        CustomersById = customers.ToFrozenDictionary(c => c.Id, StringComparer.Ordinal);
        OrdersByCustomer = orders.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>Customers in id order.</summary>
    public IReadOnlyList<Customer> Customers { get; }

    public FrozenDictionary<string, Customer> CustomersById { get; }

    public FrozenDictionary<string, IReadOnlyList<Order>> OrdersByCustomer { get; }

    /// <summary>Generated order history for a profile: a fresh stream per customer and index, always the same.</summary>
    public static Order HistoricOrder(Customer customer, int index)
    {
        var rng = new DeterministicRandom(Seed(customer.Id, 0x0D0D_0000UL + (ulong)index));
        return NewOrder(rng, customer, string.Create(CultureInfo.InvariantCulture, $"o-{customer.Id[2..]}-h{index:00000}"), Epoch.AddHours(index * 7L + rng.Next(0, 7)));
    }

    /// <summary>Generated activity event for a profile: a fresh stream per customer and index, always the same.</summary>
    public static Activity HistoricActivity(Customer customer, int index)
    {
        var rng = new DeterministicRandom(Seed(customer.Id, 0xAC71_0000UL + (ulong)index));
        var jitter = new GeoPoint(
            Math.Round(customer.Location.Lat + ((rng.NextDouble() - 0.5) * 0.2), 5),
            Math.Round(customer.Location.Lon + ((rng.NextDouble() - 0.5) * 0.2), 5));
        return new Activity(
            Epoch.AddMinutes(index * 53L + rng.Next(0, 53)),
            rng.Pick(ActivityTypes),
            string.Create(CultureInfo.InvariantCulture, $"198.51.100.{rng.Next(1, 255)}"),
            rng.Next(4) == 0 ? NewDeviceId(rng) : customer.DeviceId,
            jitter,
            rng.Pick(UserAgents));
    }

    private static ulong Seed(string id, ulong salt)
    {
        // FNV-1a over the id, mixed with the salt: stable across processes (unlike string.GetHashCode).
        var h = 0xCBF29CE484222325UL;
        foreach (var c in id)
        {
            h = (h ^ c) * 0x100000001B3UL;
        }

        return h ^ (salt * 0x9E3779B97F4A7C15UL);
    }

    private static Customer NewCustomer(DeterministicRandom rng, int number)
    {
        var first = rng.Pick(FirstNames);
        var last = rng.Pick(LastNames);
        var emailLocal = string.Concat(Ascii(first), ".", Ascii(last), number.ToString(CultureInfo.InvariantCulture)).ToLowerInvariant();
        var domain = rng.Pick(["example.com", "example.org", "example.net"]);
        var home = rng.Pick(Cities);
        var addresses = new List<Address> { NewAddress(rng, home) };
        if (rng.Next(3) == 0)
        {
            addresses.Add(NewAddress(rng, rng.Pick(Cities)));
        }

        var born = new DateOnly(1950, 1, 1).AddDays(rng.Next(0, 365 * 55));
        return new Customer(
            Id: string.Create(CultureInfo.InvariantCulture, $"c-{number}"),
            Name: $"{first} {last}",
            Email: $"{emailLocal}@{domain}",
            // Ofcom's range reserved for drama: 07700 900000 – 07700 900999.
            Phone: string.Create(CultureInfo.InvariantCulture, $"+44 7700 900{rng.Next(0, 1000):000}"),
            Addresses: addresses,
            DateOfBirth: born.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            CardNumber: NewCardNumber(rng),
            Location: new GeoPoint(
                Math.Round(home.Lat + ((rng.NextDouble() - 0.5) * 0.1), 6),
                Math.Round(home.Lon + ((rng.NextDouble() - 0.5) * 0.1), 6)),
            DeviceId: NewDeviceId(rng),
            LoyaltyTier: rng.Pick(Tiers),
            CreatedAt: Epoch.AddDays(rng.Next(0, 700)).AddSeconds(rng.Next(0, 86400)));
    }

    private static Order NewOrder(DeterministicRandom rng, Customer customer, string id, DateTimeOffset placedAt)
    {
        var itemCount = rng.Next(1, 4);
        var items = new List<OrderItem>(itemCount);
        var total = 0m;
        for (var i = 0; i < itemCount; i++)
        {
            var p = rng.Pick(Products);
            var qty = rng.Next(1, 4);
            items.Add(new OrderItem(p.Sku, p.Description, qty, p.Price));
            total += p.Price * qty;
        }

        return new Order(
            Id: id,
            CustomerId: customer.Id,
            Status: rng.Pick(OrderStatuses),
            PlacedAt: placedAt,
            Items: items,
            Total: total,
            Currency: "EUR",
            ShippingAddress: rng.Pick(customer.Addresses),
            Contact: new OrderContact(customer.Name, customer.Email, customer.Phone),
            Payment: new OrderPayment("card", customer.CardNumber[^4..]));
    }

    private static Address NewAddress(DeterministicRandom rng, (string City, string Country, double Lat, double Lon, string PostcodeFormat) city) =>
        new(
            string.Create(CultureInfo.InvariantCulture, $"{rng.Next(1, 200)} {rng.Pick(Streets)}"),
            city.City,
            string.Format(CultureInfo.InvariantCulture, city.PostcodeFormat, rng.Next(1, 99), rng.Next(1, 9)),
            city.Country);

    private static string NewDeviceId(DeterministicRandom rng)
    {
        Span<byte> bytes = stackalloc byte[16];
        for (var i = 0; i < bytes.Length; i++)
        {
            bytes[i] = (byte)rng.Next(256);
        }

        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x40); // version 4 layout, so it looks like a real device id
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes, bigEndian: true).ToString("D");
    }

    /// <summary>A 16-digit, Luhn-valid number in the 4000 0000 0000 xxxx test style.</summary>
    private static string NewCardNumber(DeterministicRandom rng)
    {
        var body = "4" + rng.Digits(14);
        var sum = 0;
        for (var i = 0; i < body.Length; i++)
        {
            // Counting from the right of the final 16-digit number, body digits sit at positions 2..16;
            // every second one (positions 2, 4, …) is doubled.
            var d = body[body.Length - 1 - i] - '0';
            if (i % 2 == 0)
            {
                d *= 2;
                if (d > 9)
                {
                    d -= 9;
                }
            }

            sum += d;
        }

        return body + (char)('0' + ((10 - (sum % 10)) % 10));
    }

    private static string Ascii(string s) =>
        s.Replace("í", "i", StringComparison.Ordinal).Replace("'", string.Empty, StringComparison.Ordinal);
}
