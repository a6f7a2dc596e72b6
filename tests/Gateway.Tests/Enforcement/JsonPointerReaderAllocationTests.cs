using System.Text;
using ConsentGateway.Enforcement;
using ConsentGateway.Tests.Infrastructure;

namespace ConsentGateway.Tests.Enforcement;

/// <summary>With the pointer parsed at compile time, a read allocates the subject it returns and nothing else.</summary>
public class JsonPointerReaderAllocationTests
{
    private static readonly byte[] Body = Encoding.UTF8.GetBytes(
        """{ "before" : [ {"id":1,"n\u0061me":"x"}, [true,null,-1.5e3] ], "c\u0075stomer" : { "N\u00e4me" : "\u00e9", "id" : 7 }, "after":{"id":{"id":"\u0041"}} }""");

    private static long PerCall(byte[] body, JsonPointer pointer, int maxDepth, JsonPointerStatus expected)
    {
        for (int i = 0; i < 100; i++)
        {
            Assert.Equal(expected, JsonPointerReader.TryRead(body, pointer, false, maxDepth, out _));
        }

        return ThreadAllocations.LeastOver(500, () => JsonPointerReader.TryRead(body, pointer, false, maxDepth, out _)) / 500;
    }

    [Fact]
    public void Only_the_value_found_is_allocated()
    {
        Assert.True(JsonPointer.TryParse("/customer/id", out var found, out _));
        Assert.True(JsonPointer.TryParse("/customer/email", out var missing, out _));
        Assert.True(JsonPointer.TryParse("/after/id/id", out var nested, out _));

        // One one-character string: a 32-byte object on 64-bit.
        Assert.InRange(PerCall(Body, found, 64, JsonPointerStatus.Found), 1, 32);
        Assert.Equal(0, PerCall(Body, missing, 64, JsonPointerStatus.Missing));
        Assert.InRange(PerCall(Body, nested, 64, JsonPointerStatus.Found), 1, 32);
    }

    [Fact]
    public void Large_depths_pointers_and_names_rent_rather_than_allocate()
    {
        var pointer = string.Concat(Enumerable.Repeat("/" + new string('k', 100), 40));
        Assert.True(JsonPointer.TryParse(pointer, out var parsed, out _));
        var body = new StringBuilder("{\"x\":").Append('[', 300).Append(']', 300).Append(",\"\\u006b\":1}").ToString();
        Assert.Equal(0, PerCall(Encoding.UTF8.GetBytes(body), parsed, 4096, JsonPointerStatus.Missing));
    }
}
