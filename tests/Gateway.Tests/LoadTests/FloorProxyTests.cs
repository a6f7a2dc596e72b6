using System.Net;
using System.Text;
using ConsentGateway.LoadTests;
using ConsentGateway.LoadTests.Bed;
using ConsentGateway.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace ConsentGateway.Tests.LoadTests;

/// <summary>
/// The floor proxy the load tests measure beside the gateway (PlainProxy --buffer-json): the built
/// binary, against a real upstream. Its figures only mean something if it really holds and checks
/// every JSON body, so these pin that, and that plain YARP (the same binary without the flag) does not.
/// </summary>
public sealed class FloorProxyTests : IAsyncLifetime
{
    private const string Good = """{"a":[1,2.5,{"b":"c\u00e9"}],"d":null}""";
    private RecordingUpstream _upstream = null!;

    public async Task InitializeAsync()
    {
        _upstream = await RecordingUpstream.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task A_json_response_sent_in_chunks_is_checked_and_forwarded_whole_with_its_length()
    {
        using var floor = await StartAsync(bufferJson: true);
        using var client = new HttpClient { BaseAddress = floor.Address };
        _upstream.Respond(async (context, _) => await WriteInTwoChunksAsync(context.Response, Good));

        using var response = await client.GetAsync(new Uri("/profile", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Encoding.UTF8.GetByteCount(Good), response.Content.Headers.ContentLength);
        Assert.Equal(Good, await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("{\"a\":")]
    [InlineData("{\"a\":1}{")]
    [InlineData("[1,]")]
    public async Task A_malformed_json_response_is_refused_with_502_and_passed_through_by_plain_yarp(string malformed)
    {
        using var floor = await StartAsync(bufferJson: true);
        using var plain = await StartAsync(bufferJson: false);
        using var floorClient = new HttpClient { BaseAddress = floor.Address };
        using var plainClient = new HttpClient { BaseAddress = plain.Address };
        _upstream.Respond(async (context, _) => await WriteInTwoChunksAsync(context.Response, malformed));

        using var checkedResponse = await floorClient.GetAsync(new Uri("/profile", UriKind.Relative));
        using var passedResponse = await plainClient.GetAsync(new Uri("/profile", UriKind.Relative));

        Assert.Equal(HttpStatusCode.BadGateway, checkedResponse.StatusCode);
        Assert.Equal(HttpStatusCode.OK, passedResponse.StatusCode);
        Assert.Equal(malformed, await passedResponse.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_response_with_invalid_utf8_is_refused()
    {
        using var floor = await StartAsync(bufferJson: true);
        using var client = new HttpClient { BaseAddress = floor.Address };
        _upstream.RespondWithBytes([(byte)'"', 0xC3, 0x28, (byte)'"'], "application/json");

        using var response = await client.GetAsync(new Uri("/profile", UriKind.Relative));

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
    }

    [Fact]
    public async Task Request_bodies_are_checked_before_the_upstream_sees_them_chunked_or_not()
    {
        using var floor = await StartAsync(bufferJson: true);
        using var client = new HttpClient { BaseAddress = floor.Address };

        using var malformedBody = Json("{\"a\":[1,2}");
        using (var malformed = await client.PostAsync(new Uri("/echo", UriKind.Relative), malformedBody))
        {
            Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        }

        using (var malformedChunked = new UnknownLengthJson("{\"a\":[1,2}"))
        using (var refused = await client.PostAsync(new Uri("/echo", UriKind.Relative), malformedChunked))
        {
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        }

        Assert.Empty(_upstream.Received);

        // Without a Content-Length (chunked), the body is still held and checked, then sent with its length.
        using var unknownLength = new UnknownLengthJson(Good);
        using (var echoed = await client.PostAsync(new Uri("/echo", UriKind.Relative), unknownLength))
        {
            Assert.Equal(HttpStatusCode.OK, echoed.StatusCode);
            Assert.Equal(Good, await echoed.Content.ReadAsStringAsync());
        }

        var received = Assert.Single(_upstream.Received);
        Assert.Equal(Good, received.BodyText);
        Assert.Equal(Encoding.UTF8.GetByteCount(Good).ToString(System.Globalization.CultureInfo.InvariantCulture), received.Header("Content-Length"));
        Assert.Null(received.Header("Transfer-Encoding"));
    }

    [Fact]
    public async Task The_burned_floor_spends_at_least_its_burn_on_every_request_and_still_checks()
    {
        const int Requests = 20;
        const double BurnMicroseconds = 5_000;
        using var burned = await StartAsync(bufferJson: true, BurnMicroseconds);
        using var client = new HttpClient { BaseAddress = burned.Address };
        _upstream.Respond(async (context, _) => await WriteInTwoChunksAsync(context.Response, Good));
        for (var i = 0; i < 10; i++)
        {
            // Past the first requests' compilations, which cost CPU of their own.
            using var warm = await client.GetAsync(new Uri("/profile", UriKind.Relative));
        }

        var before = CpuTime(burned.Id);
        for (var i = 0; i < Requests; i++)
        {
            using var response = await client.GetAsync(new Uri("/profile", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(Good, await response.Content.ReadAsStringAsync());
        }

        var spent = CpuTime(burned.Id) - before;

        // A lower bound only (the burn is a count of steps calibrated on this machine's fastest
        // moment, so a busy machine makes it dearer, never cheaper); half of it leaves room for the
        // clock's granularity. Twenty proxied requests without the burn use a few milliseconds.
        Assert.True(spent >= TimeSpan.FromMicroseconds(Requests * BurnMicroseconds / 2), $"{Requests} requests used {spent.TotalMilliseconds:0.0} ms of CPU");

        _upstream.Respond(async (context, _) => await WriteInTwoChunksAsync(context.Response, "[1,]"));
        using var malformed = await client.GetAsync(new Uri("/profile", UriKind.Relative));
        Assert.Equal(HttpStatusCode.BadGateway, malformed.StatusCode);
    }

    private static TimeSpan CpuTime(int processId)
    {
        using var process = System.Diagnostics.Process.GetProcessById(processId);
        return process.TotalProcessorTime;
    }

    private static StringContent Json(string text) => new(text, Encoding.UTF8, "application/json");

    private static async Task WriteInTwoChunksAsync(HttpResponse response, string json)
    {
        // No Content-Length and two flushed writes: plain YARP forwards this chunked, as it arrives.
        response.ContentType = "application/json";
        var bytes = Encoding.UTF8.GetBytes(json);
        await response.Body.WriteAsync(bytes.AsMemory(0, bytes.Length / 2));
        await response.Body.FlushAsync();
        await response.Body.WriteAsync(bytes.AsMemory(bytes.Length / 2));
    }

    private async Task<PlainProxyProcess> StartAsync(bool bufferJson, double burnMicroseconds = 0)
    {
        var proxy = await PlainProxyProcess.StartAsync(_upstream.BaseAddress, bufferJson, burnMicroseconds);

        // The readiness probes went through to the upstream: forget them, and answer by echoing again.
        _upstream.Reset();
        return proxy;
    }

    /// <summary>A JSON body whose length is not known up front, so HttpClient sends it chunked.</summary>
    private sealed class UnknownLengthJson : HttpContent
    {
        private readonly byte[] _utf8;

        public UnknownLengthJson(string json)
        {
            _utf8 = Encoding.UTF8.GetBytes(json);
            Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        }

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => stream.WriteAsync(_utf8).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
