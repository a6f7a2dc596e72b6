using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using ConsentGateway.LoadTests.Bed;
using ConsentGateway.LoadTests.Engine;

namespace ConsentGateway.LoadTests.Plan;

/// <summary>The three payload sizes of the sample API's profile endpoint.</summary>
internal enum Size
{
    Small,
    Medium,
    Large,
}

/// <summary>
/// Profile bodies (used as POST bodies too) and, per customer, the byte markers a filtered answer
/// must never contain: <see cref="Markers.AlwaysWithheld"/> (categories marketing never covers) and
/// <see cref="Markers.FailClosed"/> (those plus every consent-gated value, for when the store is down).
/// </summary>
internal sealed class Payloads
{
    private static readonly MediaTypeHeaderValue Json = new("application/json");
    private readonly Dictionary<(int Customer, Size Size), byte[]> _bodies = [];
    private readonly Markers[] _markers = new Markers[TestBed.CustomerCount];

    public static string Label(Size s) => s switch { Size.Small => "0.5 KB", Size.Medium => "8 KB", _ => "256 KB" };

    public static string Short(Size s) => s switch { Size.Small => "0.5k", Size.Medium => "8k", _ => "256k" };

    public static string Query(Size s) => s switch { Size.Small => "small", Size.Medium => "medium", _ => "large" };

    public static async Task<Payloads> LoadAsync(Uri direct, IReadOnlyCollection<Size> sizes)
    {
        var p = new Payloads();
        using var client = new HttpClient();
        for (var c = 0; c < TestBed.CustomerCount; c++)
        {
            var id = CustomerId(c);
            foreach (var size in sizes.Append(Size.Small).Distinct())
            {
                p._bodies[(c, size)] = await client.GetByteArrayAsync(new Uri(direct, $"/customers/{id}/profile?size={Query(size)}"));
            }

            using var doc = JsonDocument.Parse(p._bodies[(c, Size.Small)]);
            var r = doc.RootElement;
            string S(string name) => r.GetProperty(name).GetString()!;
            byte[] Quoted(string v) => Encoding.UTF8.GetBytes("\"" + v + "\"");
            byte[][] always =
            [
                "\"dateOfBirth\""u8.ToArray(), "\"deviceId\""u8.ToArray(), "\"ipAddress\""u8.ToArray(), "\"location\""u8.ToArray(),
                Quoted(S("dateOfBirth")), Quoted(S("cardNumber")), Quoted(S("deviceId")),
            ];
            byte[][] failClosed =
            [
                .. always, "\"addresses\""u8.ToArray(), "\"shippingAddress\""u8.ToArray(),
                Quoted(S("name")), Quoted(S("email")), Quoted(S("phone")),
            ];
            p._markers[c] = new Markers(always, failClosed);

            // The leak check must be able to see a leak: every marker is in the unfiltered body.
            var largest = p._bodies[(c, sizes.Max())];
            var missing = failClosed.Where(m => largest.AsSpan().IndexOf(m) < 0 && sizes.Max() != Size.Small).Select(m => Encoding.UTF8.GetString(m)).ToList();
            if (missing.Count > 0 && (missing.Count > 1 || !missing[0].Contains("ipAddress", StringComparison.Ordinal)))
            {
                throw new InvalidOperationException($"leak markers not found in the unfiltered {id} body: {string.Join(", ", missing)}");
            }
        }

        return p;
    }

    public static string CustomerId(long i) => "c-" + (TestBed.FirstCustomer + (i % TestBed.CustomerCount)).ToString(CultureInfo.InvariantCulture);

    public Markers MarkersOf(long i) => _markers[i % TestBed.CustomerCount];

    public int BodyLength(Size size) => _bodies[(0, size)].Length;

    /// <summary>GET /customers/{id}/profile?size=… for customer i.</summary>
    public static RequestSpec Get(Uri target, Size size, long i, IReadOnlyList<byte[]> forbidden, bool countsLeaks = true)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, new Uri(target, $"/customers/{CustomerId(i)}/profile?size={Query(size)}"));
        AddIdentity(request);
        return new RequestSpec(request, forbidden, countsLeaks);
    }

    /// <summary>POST /echo with customer i's profile as the body and <paramref name="subject"/> in X-Subject-Id.</summary>
    public RequestSpec Post(Uri target, Size size, long i, string subject, IReadOnlyList<byte[]> forbidden, bool countsLeaks = true)
    {
        var content = new ByteArrayContent(_bodies[((int)(i % TestBed.CustomerCount), size)]);
        content.Headers.ContentType = Json;
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(target, "/echo")) { Content = content };
        AddIdentity(request);
        request.Headers.TryAddWithoutValidation("X-Subject-Id", subject);
        return new RequestSpec(request, forbidden, countsLeaks);
    }

    private static void AddIdentity(HttpRequestMessage request)
    {
        request.Headers.TryAddWithoutValidation("X-Api-Key", TestBed.ApiKey);
        request.Headers.TryAddWithoutValidation("X-Purpose", TestBed.Purpose);
    }
}

/// <summary>Byte strings an answer must not contain.</summary>
internal sealed record Markers(IReadOnlyList<byte[]> AlwaysWithheld, IReadOnlyList<byte[]> FailClosed);
