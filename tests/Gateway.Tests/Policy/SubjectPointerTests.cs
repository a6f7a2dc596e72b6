using System.Text;
using System.Text.Json.Nodes;
using ConsentGateway.Enforcement;
using ConsentGateway.Hosting;
using ConsentGateway.Policy;
using ConsentGateway.Proxy;
using ConsentGateway.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;

namespace ConsentGateway.Tests.Policy;

/// <summary>A body subject's JSON pointer is parsed when the policy is compiled, and only then.</summary>
public sealed class SubjectPointerTests
{
    [Fact]
    public void A_body_route_holds_its_parsed_pointer_and_other_routes_none()
    {
        var policy = Compile(TestConfig.Create("http://127.0.0.1:1"));
        var route = policy.Routes["by-body"];
        Assert.Equal(SubjectFrom.Body, route.SubjectFrom);
        var pointer = Assert.IsType<JsonPointer>(route.SubjectPointer);
        Assert.Equal("/customer/id", pointer.Text);
        Assert.Equal(new[] { "customer", "id" }, Enumerable.Range(0, pointer.Length).Select(pointer.Token));
        Assert.Null(policy.Routes["customers"].SubjectPointer);
        Assert.Null(policy.Routes["by-query"].SubjectPointer);
    }

    [Fact]
    public void The_subject_is_read_through_the_compiled_pointer()
    {
        var route = Compile(TestConfig.Create("http://127.0.0.1:1")).Routes["by-body"];
        Assert.Null(RequestIdentity.ResolveFromBody("""{"Customer":{"ID":"c-7"},"x":[1,{"id":2}]}"""u8, route, 64, out var subject));
        Assert.Equal("c-7", subject);
        Assert.Equal(Problem.SubjectAmbiguous, RequestIdentity.ResolveFromBody("""{"customer":{"id":"a","Id":"b"}}"""u8, route, 64, out _));
        Assert.Equal(Problem.JsonMalformed, RequestIdentity.ResolveFromBody("""{"customer":{"id":"a"}} x"""u8, route, 64, out _));
        Assert.Equal(Problem.JsonMalformed, RequestIdentity.ResolveFromBody("""{"customer":{"id":"a"},"x":[[]]}"""u8, route, 2, out _));
        Assert.Null(RequestIdentity.ResolveFromBody("""{"customer":{"id":"a"},"x":[[]]}"""u8, route, 3, out _));
        Assert.Equal(Problem.SubjectInvalid, RequestIdentity.ResolveFromBody("""{"customer":{"id":true}}"""u8, route, 64, out _));
        Assert.Equal(Problem.SubjectMissing, RequestIdentity.ResolveFromBody("""{"customer":{}}"""u8, route, 64, out _));
    }

    [Fact]
    public void An_invalid_pointer_is_a_configuration_error()
    {
        var config = TestConfig.Create("http://127.0.0.1:1");
        config["Policy"]!["Routes"]!["by-body"]!["Subject"]!["Name"] = "/customer/~2";
        Assert.Null(PolicyCompiler.Compile(Build(config), out var errors));
        Assert.Contains(errors, e => e.Contains("Subject:Name '/customer/~2' must be a JSON pointer", StringComparison.Ordinal));
    }

    private static CompiledPolicy Compile(JsonObject config)
    {
        var policy = PolicyCompiler.Compile(Build(config), out var errors);
        Assert.True(policy is not null, string.Join("; ", errors));
        return policy;
    }

    private static IConfiguration Build(JsonObject config) =>
        new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(config.ToJsonString()))).Build();
}
