using System.Globalization;
using System.Text;

namespace ConsentGateway.Benchmarks;

/// <summary>
/// Deterministic customer documents of about 0.5 KB, 8 KB and 256 KB. Personal fields at the root
/// (name, email, phone, cardNumber, location, deviceId, dateOfBirth) and in addresses[*].street; the
/// bulk of the larger documents is order history, which is not personal.
/// </summary>
internal static class Documents
{
    public const string Small = "0.5KB";
    public const string Medium = "8KB";
    public const string Large = "256KB";

    private static readonly Dictionary<string, byte[]> Cache = new(StringComparer.Ordinal)
    {
        [Small] = Build(512, addresses: 1),
        [Medium] = Build(8 * 1024, addresses: 2),
        [Large] = Build(256 * 1024, addresses: 3),
    };

    public static byte[] Get(string name) => Cache[name];

    private static byte[] Build(int target, int addresses)
    {
        var sb = new StringBuilder(target + 512);
        sb.Append("{\"id\":\"cus_7Hq2LmX9\",\"name\":\"Ada Lovelace-Byron\",\"email\":\"ada.lovelace@example.co.uk\",")
          .Append("\"phone\":\"+44 20 7946 0123\",\"dateOfBirth\":\"1815-12-10\",\"cardNumber\":\"4111111111111111\",")
          .Append("\"location\":{\"lat\":51.507222,\"lon\":-0.1275,\"accuracyM\":12.5},")
          .Append("\"deviceId\":\"3f2b8c1e-9a4d-4e7b-8c2a-1d5e6f7a8b9c\",\"tier\":\"gold\",\"createdAt\":\"2021-03-14T09:26:53Z\",")
          .Append("\"addresses\":[");
        for (var a = 0; a < addresses; a++)
        {
            if (a > 0)
            {
                sb.Append(',');
            }

            sb.Append("{\"type\":\"").Append(a == 0 ? "home" : "work").Append("\",\"street\":\"")
              .Append(12 + a).Append(" St James's Square\",\"city\":\"London\",\"postcode\":\"SW1Y 4JH\",\"country\":\"GB\"}");
        }

        sb.Append("],\"orders\":[");
        for (var i = 0; sb.Length < target - 40; i++)
        {
            if (i > 0)
            {
                sb.Append(',');
            }

            sb.Append("{\"orderId\":\"ord_").Append((100_000 + i).ToString(CultureInfo.InvariantCulture))
              .Append("\",\"placedAt\":\"2024-0").Append(1 + (i % 9)).Append("-1").Append(i % 10).Append("T10:1").Append(i % 10).Append(":00Z\"")
              .Append(",\"status\":\"").Append((i % 3) switch { 0 => "delivered", 1 => "shipped", _ => "processing" }).Append('"')
              .Append(",\"total\":{\"amount\":").Append((19.99 + i).ToString("F2", CultureInfo.InvariantCulture)).Append(",\"currency\":\"GBP\"}")
              .Append(",\"items\":[{\"sku\":\"SKU-").Append(1000 + i).Append("\",\"title\":\"Analytical engine part ").Append(i)
              .Append("\",\"qty\":").Append(1 + (i % 4)).Append(",\"price\":9.99,\"giftWrap\":").Append(i % 2 == 0 ? "true" : "false").Append("}]}");
        }

        sb.Append("],\"preferences\":{\"language\":\"en-GB\",\"newsletter\":true,\"channels\":[\"email\",\"sms\"]}}");
        return Encoding.UTF8.GetBytes(sb.ToString());
    }
}
