using System.Buffers;
using System.Text;
using ConsentGateway.Enforcement;
using ConsentGateway.Tests.Infrastructure;

namespace ConsentGateway.Tests.Enforcement;

public class JsonFieldFilterAllocationTests
{
    private static byte[] Document()
    {
        var sb = new StringBuilder("{\"page\":1,\"customers\":[");
        for (int i = 0; sb.Length < 8 * 1024; i++)
        {
            if (i > 0)
            {
                sb.Append(',');
            }

            sb.Append("{\"id\":").Append(i)
              .Append(",\"name\":\"Customer ").Append(i).Append(" Ünïcødé\"")
              .Append(",\"Email\":\"c").Append(i).Append("@example.com\"")
              .Append(",\"phone\":\"+44 20 7946 ").Append(1000 + i).Append('"')
              .Append(",\"balance\":9007199254740993.25")
              .Append(",\"n\\u0061me2\":\"esc\\u0061ped \\\"q\\\"\"")
              .Append(",\"address\":{\"street\":\"").Append(i).Append(" High St\",\"geo\":[51.5,-0.12],\"phone\":null}")
              .Append(",\"tags\":[\"a\",\"b\",true,false,null]}");
        }

        return Encoding.UTF8.GetBytes(sb.Append("]}").ToString());
    }

    private static long Measure(JsonFieldFilter filter, byte[] json, FieldAction[] actions, Pseudonymizer? pseudonymizer)
    {
        var output = new ArrayBufferWriter<byte>(json.Length * 2);
        var subject = "subject-1"u8.ToArray();
        for (int i = 0; i < 200; i++)
        {
            output.ResetWrittenCount();
            Assert.Equal(JsonFilterStatus.Ok, filter.Filter(json, actions, output, pseudonymizer, subject).Status);
        }

        return ThreadAllocations.LeastOver(500, () =>
        {
            output.ResetWrittenCount();
            filter.Filter(json, actions, output, pseudonymizer, subject);
        });
    }

    [Fact]
    public void Steady_state_strip_filter_allocates_nothing()
    {
        var json = Document();
        Assert.InRange(json.Length, 8 * 1024, 9 * 1024);
        var filter = FilterHarness.Filter(false, 64, "$..phone", "$.customers[*].email", "$.customers[*].address.street", "$.customers[*].tags[*]");
        var actions = Enumerable.Repeat(FieldAction.Strip, 4).ToArray();
        Assert.Equal(0, Measure(filter, json, actions, null));
    }

    [Fact]
    public void Steady_state_hash_and_redact_filter_allocates_nothing()
    {
        var json = Document();
        var filter = FilterHarness.Filter(false, 64, "$..phone", "$.customers[*].email", "$.customers[*].address");
        FieldAction[] actions = [FieldAction.Hash, FieldAction.Redact, FieldAction.Hash];
        Assert.Equal(0, Measure(filter, json, actions, FilterHarness.Pseudonymizer));
    }
}
