using System.Net;
using System.Text.Json.Nodes;
using ConsentGateway.Tests.Consent;
using ConsentGateway.Testing;
using ConsentGateway.Tests.Infrastructure;
using StackExchange.Redis;
using static ConsentGateway.Tests.Infrastructure.GatewayHost;

namespace ConsentGateway.Tests.Admin;

/// <summary>
/// <c>POST /v1/consent-events</c> through a real gateway, run once on the embedded store and once on
/// a real redis-server: the two stores must agree on idempotency, ordering and validation.
/// </summary>
public abstract class ConsentEventsTests
{
    protected const string T0 = "2026-05-01T10:00:00Z";
    protected const string T1 = "2026-05-01T10:00:01Z";

    protected abstract GatewayFixture Fixture { get; }

    private GatewayHost Gateway => Fixture.Gateway;

    [Fact]
    public async Task A_replayed_event_id_is_a_duplicate_and_bumps_the_version_once()
    {
        var s = GatewayFixture.NewSubject();
        var id = NewId();
        var (status, first) = await PostAsync(Batch(Event(id, s, "granted", T0)));
        Assert.Equal(HttpStatusCode.OK, status);
        var receipt = first["results"]![0]!;
        Assert.Equal("applied", (string?)receipt["outcome"]);
        Assert.Equal((s, "marketing", "granted", 1L), ((string?)receipt["subject"], (string?)receipt["purpose"], (string?)receipt["status"], (long?)receipt["version"]));
        Assert.NotNull(receipt["effectiveAt"]);

        var (_, again) = await PostAsync(Batch(Event(id, s, "granted", T0), Event(id, s, "denied", T1)));
        Assert.Equal(["duplicate", "duplicate"], Outcomes(again));
        Assert.Equal((0, 2, 0), ((int)again["applied"]!, (int)again["duplicate"]!, (int)again["superseded"]!));

        var read = await ReadAsync(s);
        Assert.Equal(1L, (long?)read["version"]);
        Assert.Equal("granted", (string?)read["purposes"]![0]!["status"]);
    }

    [Fact]
    public async Task An_older_event_after_a_newer_one_is_superseded_and_the_newer_state_stays()
    {
        var s = GatewayFixture.NewSubject();
        var (_, newer) = await PostAsync(Batch(Event(NewId(), s, "denied", T1)));
        Assert.Equal(["applied"], Outcomes(newer));

        var (_, older) = await PostAsync(Batch(Event(NewId(), s, "granted", T0)));
        var result = older["results"]![0]!;
        Assert.Equal("superseded", (string?)result["outcome"]);
        Assert.Equal(1L, (long?)result["version"]);

        var read = await ReadAsync(s);
        Assert.Equal(1L, (long?)read["version"]);
        var marketing = read["purposes"]![0]!;
        Assert.Equal("denied", (string?)marketing["status"]);
        Assert.Equal(DateTimeOffset.Parse(T1, System.Globalization.CultureInfo.InvariantCulture), (DateTimeOffset)marketing["occurredAt"]!);
        Assert.False(await EmailTravelsAsync(s));
    }

    [Fact]
    public async Task Events_with_the_same_occurredAt_are_ordered_by_version_the_later_write_wins()
    {
        var s = GatewayFixture.NewSubject();
        var (_, body) = await PostAsync(Batch(Event(NewId(), s, "denied", T0), Event(NewId(), s, "granted", T0)));
        Assert.Equal(["applied", "applied"], Outcomes(body));
        Assert.Equal([1L, 2L], body["results"]!.AsArray().Select(r => (long)r!["version"]!));

        var read = await ReadAsync(s);
        Assert.Equal(2L, (long?)read["version"]);
        Assert.Equal("granted", (string?)read["purposes"]![0]!["status"]);

        // A newer event still wins, an older one still loses.
        var (_, more) = await PostAsync(Batch(Event(NewId(), s, "denied", "2026-05-01T09:59:59.9999999Z"), Event(NewId(), s, "denied", "2026-05-01T10:00:00.0000001Z")));
        Assert.Equal(["superseded", "applied"], Outcomes(more));
        Assert.Equal("denied", (string?)(await ReadAsync(s))["purposes"]![0]!["status"]);
    }

    [Fact]
    public async Task An_accepted_batch_is_counted_once_and_each_event_by_its_outcome()
    {
        var s = GatewayFixture.NewSubject();
        var id = NewId();
        var before = await CountsAsync();
        var (status, body) = await PostAsync(Batch(Event(id, s, "denied", T1), Event(id, s, "denied", T1), Event(NewId(), s, "granted", T0)));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(["applied", "duplicate", "superseded"], Outcomes(body));
        Assert.Equal(new BatchCounts(Accepted: 1, Applied: 1, Duplicate: 1, Superseded: 1), await CountsAsync() - before);

        // A batch of nothing but duplicates is still accepted: every event went through the store.
        var (_, again) = await PostAsync(Batch(Event(id, s, "denied", T1)));
        Assert.Equal(["duplicate"], Outcomes(again));
        Assert.Equal(new BatchCounts(Accepted: 2, Applied: 1, Duplicate: 2, Superseded: 1), await CountsAsync() - before);
    }

    [Fact]
    public async Task An_invalid_event_is_a_400_naming_its_index_and_field_and_nothing_is_written()
    {
        var s = GatewayFixture.NewSubject();
        var first = NewId();
        var events = Batch(
            Event(first, s, "granted", T0),
            Event(NewId(), s, "denied", T1, purpose: "analytics"),
            Event(NewId(), s, "granted", T1, purpose: "ads"),
            new JsonObject { ["eventId"] = NewId(), ["subject"] = s, ["purpose"] = "marketing", ["status"] = "denied" });

        var before = await CountsAsync();
        var (status, problem) = await PostAsync(events);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("events[3].occurredAt", (string?)problem["field"]);
        Assert.Equal(new BatchCounts(Rejected: 1), await CountsAsync() - before);
        Assert.Equal("urn:consent-gateway:problem:invalid-field", (string?)problem["type"]);

        var read = await ReadAsync(s);
        Assert.Equal(0L, (long?)read["version"]);
        Assert.Empty(read["purposes"]!.AsArray());

        // Not even the event ids were recorded: the first event applies when sent again on its own.
        var (_, retry) = await PostAsync(Batch(Event(first, s, "granted", T0)));
        Assert.Equal(["applied"], Outcomes(retry));
    }

    public static TheoryData<string, string, string> InvalidEvents => new()
    {
        // name, member to set (JSON), field the problem must name
        { "status", """{"status":"maybe"}""", "events[1].status" },
        { "status-case", """{"status":"Granted"}""", "events[1].status" },
        { "expiresAt", """{"expiresAt":"tomorrow"}""", "events[1].expiresAt" },
        { "occurredAt-no-offset", """{"occurredAt":"2026-05-01T10:00:00"}""", "events[1].occurredAt" },
        { "occurredAt-future", """{"occurredAt":"2099-01-01T00:00:00Z"}""", "events[1].occurredAt" },
        { "eventId-number", """{"eventId":42}""", "events[1].eventId" },
        { "subject-empty", """{"subject":""}""", "events[1].subject" },
        { "type", """{"type":"other"}""", "events[1].type" },
        { "gpc-missing", """{"type":"gpc"}""", "events[1].gpc" },
        { "source-number", """{"source":7}""", "events[1].source" },
    };

    [Theory]
    [MemberData(nameof(InvalidEvents))]
    public async Task Each_kind_of_invalid_event_is_named(string name, string patch, string field)
    {
        Assert.NotEmpty(name);
        var s = GatewayFixture.NewSubject();
        var bad = Event(NewId(), s, "granted", T0, purpose: "analytics");
        foreach (var (k, v) in JsonNode.Parse(patch)!.AsObject())
        {
            bad[k] = v?.DeepClone();
        }

        var (status, problem) = await PostAsync(Batch(Event(NewId(), s, "granted", T0), bad));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(field, (string?)problem["field"]);
        Assert.Equal(0L, (long?)(await ReadAsync(s))["version"]);
    }

    [Theory]
    [InlineData("""{"events":{}}""", "events")]
    [InlineData("""{"items":[]}""", "events")]
    [InlineData("""[1]""", "events[0]")]
    [InlineData("""[{""", "body")]
    public async Task A_body_that_is_not_a_batch_is_a_400(string body, string field)
    {
        var before = await CountsAsync();
        using var response = await Gateway.Admin.PostAsync("v1/consent-events", Json(body));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(field, (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["field"]);
        Assert.Equal(new BatchCounts(Rejected: 1), await CountsAsync() - before);
    }

    [Fact]
    public async Task An_undeclared_purpose_is_a_422_and_nothing_is_written()
    {
        var s = GatewayFixture.NewSubject();
        var before = await CountsAsync();
        var (status, problem) = await PostAsync(Batch(Event(NewId(), s, "granted", T0), Event(NewId(), s, "granted", T0, purpose: "telepathy")));
        Assert.Equal((HttpStatusCode)422, status);
        Assert.Equal(new BatchCounts(Rejected: 1), await CountsAsync() - before);
        Assert.Equal("events[1].purpose", (string?)problem["field"]);
        Assert.Equal("urn:consent-gateway:problem:purpose-unknown", (string?)problem["type"]);
        Assert.Equal(0L, (long?)(await ReadAsync(s))["version"]);
    }

    [Fact]
    public async Task A_batch_over_the_limit_is_a_413_and_nothing_is_written()
    {
        var s = GatewayFixture.NewSubject();
        var events = Enumerable.Range(0, 1001).Select(i => (JsonNode)Event(NewId(), s, "granted", T0)).ToArray();
        var (status, problem) = await PostAsync(new JsonArray(events));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Equal("events", (string?)problem["field"]);
        Assert.Equal(0L, (long?)(await ReadAsync(s))["version"]);
    }

    [Fact]
    public async Task The_wrapped_form_and_gpc_events_are_accepted_and_ordered_the_same_way()
    {
        var s = GatewayFixture.NewSubject();
        var gpcOn = new JsonObject { ["eventId"] = NewId(), ["type"] = "gpc", ["subject"] = s, ["gpc"] = true, ["occurredAt"] = T1, ["source"] = "browser" };
        var gpcOffOlder = new JsonObject { ["eventId"] = NewId(), ["type"] = "gpc", ["subject"] = s, ["gpc"] = false, ["occurredAt"] = T0 };
        var (status, body) = await PostAsync(new JsonObject { ["events"] = new JsonArray(gpcOn, gpcOffOlder) });
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(["applied", "superseded"], Outcomes(body));
        Assert.Equal(("gpc", "recorded"), ((string?)body["results"]![0]!["purpose"], (string?)body["results"]![0]!["status"]));

        var read = await ReadAsync(s);
        Assert.True((bool)read["gpc"]!);
        Assert.Equal(1L, (long?)read["version"]);
    }

    [Fact]
    public async Task Ingested_events_take_effect_on_the_next_proxied_request()
    {
        var s = GatewayFixture.NewSubject();
        Assert.False(await EmailTravelsAsync(s)); // primes the cache with "no consent"

        await PostAsync(Batch(Event(NewId(), s, "granted", T0)));
        Assert.True(await EmailTravelsAsync(s));

        var (_, denial) = await PostAsync(Batch(Event(NewId(), s, "denied", T1)));
        Assert.Equal(["applied"], Outcomes(denial));
        Assert.False(await EmailTravelsAsync(s));
    }

    [Fact]
    public async Task An_expired_event_ends_the_grant_when_it_occurred()
    {
        var s = GatewayFixture.NewSubject();
        var now = DateTimeOffset.UtcNow;
        await PostAsync(Batch(Event(NewId(), s, "granted", Iso(now.AddMinutes(-2)))));
        Assert.True(await EmailTravelsAsync(s));

        var (_, body) = await PostAsync(Batch(Event(NewId(), s, "expired", Iso(now.AddMinutes(-1)))));
        Assert.Equal("expired", (string?)body["results"]![0]!["status"]);
        Assert.False(await EmailTravelsAsync(s));
        var marketing = (await ReadAsync(s))["purposes"]![0]!;
        Assert.Equal(now.AddMinutes(-1), (DateTimeOffset)marketing["expiresAt"]!, TimeSpan.FromMilliseconds(1));
    }

    [Fact]
    public async Task Without_admin_credentials_it_is_a_401_and_nothing_is_written()
    {
        var s = GatewayFixture.NewSubject();
        var before = await CountsAsync();
        using var anonymous = new HttpClient { BaseAddress = Gateway.AdminAddress };
        using var response = await anonymous.PostAsync("v1/consent-events", Json(Batch(Event(NewId(), s, "granted", T0)).ToJsonString()));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(new BatchCounts(), await CountsAsync() - before); // not a batch: the caller was never admitted
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(0L, (long?)(await ReadAsync(s))["version"]);
    }

    protected static string NewId() => "evt-" + Guid.NewGuid().ToString("N");

    /// <summary>The two batch counters as a scraper sees them; tests compare differences, since the fixture is shared.</summary>
    protected static async Task<BatchCounts> CountsAsync(GatewayHost gateway)
    {
        var text = await gateway.MetricsAsync();
        double Batches(string result) => MetricsText.Counter(text, "consent_event_batches_total", ("result", result));
        double Events(string result) => MetricsText.Counter(text, "consent_events_total", ("result", result));
        return new BatchCounts(
            Batches("accepted"), Batches("rejected"), Batches("incomplete"),
            Events("applied"), Events("duplicate"), Events("superseded"), Events("unconfirmed"), Events("not_applied"));
    }

    protected Task<BatchCounts> CountsAsync() => CountsAsync(Gateway);

    protected static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", System.Globalization.CultureInfo.InvariantCulture);

    protected static JsonObject Event(string id, string subject, string status, string occurredAt, string purpose = "marketing") => new()
    {
        ["eventId"] = id,
        ["subject"] = subject,
        ["purpose"] = purpose,
        ["status"] = status,
        ["expiresAt"] = null,
        ["occurredAt"] = occurredAt,
        ["source"] = "cmp",
    };

    protected static JsonArray Batch(params JsonNode[] events) => new(events);

    protected static string[] Outcomes(JsonNode body) => body["results"]!.AsArray().Select(r => (string)r!["outcome"]!).ToArray();

    protected async Task<(HttpStatusCode Status, JsonNode Body)> PostAsync(JsonNode batch)
    {
        using var response = await Gateway.Admin.PostAsync("v1/consent-events", Json(batch.ToJsonString()));
        return (response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!);
    }

    protected async Task<JsonNode> ReadAsync(string subject) =>
        JsonNode.Parse(await Gateway.Admin.GetStringAsync($"v1/subjects/{subject}/consents"))!;

    protected async Task<bool> EmailTravelsAsync(string subject)
    {
        Fixture.Upstream.Reset();
        using var request = Request(HttpMethod.Post, "/customers/x", "marketing", subject);
        request.Content = Json("""{"email":"ann@example.com","tier":"gold"}""");
        using var response = await Gateway.Proxy.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return JsonNode.Parse(Fixture.Upstream.OnlyRequest().BodyText)!.AsObject().ContainsKey("email");
    }
}

public sealed record BatchCounts(
    double Accepted = 0, double Rejected = 0, double Incomplete = 0,
    double Applied = 0, double Duplicate = 0, double Superseded = 0, double Unconfirmed = 0, double NotApplied = 0)
{
    public static BatchCounts operator -(BatchCounts after, BatchCounts before) => new(
        after.Accepted - before.Accepted, after.Rejected - before.Rejected, after.Incomplete - before.Incomplete,
        after.Applied - before.Applied, after.Duplicate - before.Duplicate, after.Superseded - before.Superseded,
        after.Unconfirmed - before.Unconfirmed, after.NotApplied - before.NotApplied);
}

public sealed class EmbeddedConsentEventsTests(GatewayFixture fixture) : ConsentEventsTests, IClassFixture<GatewayFixture>
{
    protected override GatewayFixture Fixture => fixture;
}

public sealed class RedisConsentEventsTests(RedisGatewayFixture fixture) : ConsentEventsTests, IClassFixture<RedisGatewayFixture>
{
    protected override GatewayFixture Fixture => fixture;

    [Fact]
    public async Task A_batch_the_store_stops_is_a_503_counted_as_incomplete_with_the_untried_events_not_applied()
    {
        // Its own redis-server and gateway: killing the fixture's would disturb the tests after this one.
        using var redis = new RedisServer();
        await using var gateway = await GatewayHost.StartAsync(TestConfig.Create(fixture.Upstream.BaseAddress), new Dictionary<string, string?> { ["Consent:Redis"] = redis.ConnectionString });
        await gateway.WaitReadyAsync();
        Assert.Contains("consent_event_batches_total{result=\"incomplete\"} 0", await gateway.MetricsAsync(), StringComparison.Ordinal); // exported before the first failure

        var s = GatewayFixture.NewSubject();
        var before = await CountsAsync(gateway);
        redis.Stop();
        using var response = await gateway.Admin.PostAsync("v1/consent-events", Json(Batch(Event(NewId(), s, "granted", T0), Event(NewId(), s, "denied", T1), Event(NewId(), s, "granted", T1)).ToJsonString()));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(new BatchCounts(Incomplete: 1, Unconfirmed: 1, NotApplied: 2), await CountsAsync(gateway) - before);
    }

    [Fact]
    public async Task Redis_holds_the_occurredAt_in_the_purpose_json_and_the_event_id_under_its_own_prefix()
    {
        var s = GatewayFixture.NewSubject();
        var id = NewId();
        await PostAsync(Batch(Event(id, s, "denied", "2026-05-01T10:00:00.5Z")));

        await using var raw = await ConnectionMultiplexer.ConnectAsync(fixture.Redis.ConnectionString);
        var db = raw.GetDatabase();
        var json = JsonNode.Parse((string)(await db.HashGetAsync("consent:" + s, "p:marketing"))!)!;
        Assert.Equal(("denied", "2026-05-01T10:00:00.5Z", "cmp"), ((string?)json["status"], (string?)json["occurredAt"], (string?)json["source"]));
        Assert.True(await db.KeyExistsAsync("consent-event:" + id));
        Assert.InRange((await db.KeyTimeToLiveAsync("consent-event:" + id))!.Value, TimeSpan.FromDays(6.9), TimeSpan.FromDays(7));
        Assert.False(await db.KeyExistsAsync("consent:" + id));
    }

    [Fact]
    public async Task A_record_written_by_a_platform_without_occurredAt_is_overwritten_by_any_event()
    {
        var s = GatewayFixture.NewSubject();
        await using var raw = await ConnectionMultiplexer.ConnectAsync(fixture.Redis.ConnectionString);
        var db = raw.GetDatabase();
        await db.HashSetAsync("consent:" + s, [new HashEntry("p:marketing", """{"status":"granted","expiresAt":null}"""), new HashEntry("v", 4)]);

        var (_, body) = await PostAsync(Batch(Event(NewId(), s, "denied", "2001-01-01T00:00:00Z")));
        Assert.Equal(["applied"], Outcomes(body));
        Assert.Equal(5L, (long?)body["results"]![0]!["version"]);

        // And a stored occurredAt the platform wrote in another spelling (offset, short fraction) still orders.
        await db.HashSetAsync("consent:" + s, "p:marketing", """{"status":"granted","occurredAt":"2026-05-01T10:00:00.5Z"}""");
        var (_, older) = await PostAsync(Batch(Event(NewId(), s, "denied", "2026-05-01T10:00:00.4999999Z")));
        Assert.Equal(["superseded"], Outcomes(older));
    }

    [Fact]
    public async Task Concurrent_ingest_on_two_instances_applies_each_event_exactly_once()
    {
        var config = TestConfig.Create(fixture.Upstream.BaseAddress);
        await using var second = await GatewayHost.StartAsync(config, new Dictionary<string, string?> { ["Consent:Redis"] = fixture.Redis.ConnectionString });
        await second.WaitReadyAsync();

        var s = GatewayFixture.NewSubject();
        var start = DateTimeOffset.UtcNow.AddMinutes(-10);
        var events = Enumerable.Range(0, 40)
            .Select(i => (JsonNode)Event(NewId(), s, i % 2 == 0 ? "granted" : "denied", Iso(start.AddSeconds(i))))
            .ToArray();
        var batch = new JsonArray(events).ToJsonString();

        async Task<JsonNode> Send(GatewayHost host)
        {
            using var response = await host.Admin.PostAsync("v1/consent-events", Json(batch));
            response.EnsureSuccessStatusCode();
            return JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        }

        var results = await Task.WhenAll(Send(fixture.Gateway), Send(second), Send(fixture.Gateway), Send(second));
        var applied = results.Sum(r => (int)r["applied"]!);
        var superseded = results.Sum(r => (int)r["superseded"]!);
        var duplicate = results.Sum(r => (int)r["duplicate"]!);
        Assert.Equal(40, applied + superseded); // every event id was consumed exactly once across instances
        Assert.Equal(3 * 40, duplicate);

        var read = await ReadAsync(s);
        Assert.Equal(applied, (long?)read["version"]);
        // The newest event (index 39, denied) decides, whatever the interleaving.
        Assert.Equal("denied", (string?)read["purposes"]![0]!["status"]);
        Assert.Equal(start.AddSeconds(39), (DateTimeOffset)read["purposes"]![0]!["occurredAt"]!, TimeSpan.FromMilliseconds(1));
    }
}
