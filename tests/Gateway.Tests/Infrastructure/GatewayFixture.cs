using System.Text.Json.Nodes;

namespace ConsentGateway.Tests.Infrastructure;

/// <summary>One recording upstream and one gateway (embedded store) shared by a test class.</summary>
public class GatewayFixture : IAsyncLifetime
{
    private RecordingUpstream? _upstream;
    private GatewayHost? _gateway;

    public RecordingUpstream Upstream => _upstream ?? throw new InvalidOperationException("not started");

    public GatewayHost Gateway => _gateway ?? throw new InvalidOperationException("not started");

    public virtual async Task InitializeAsync()
    {
        _upstream = await RecordingUpstream.StartAsync();
        var config = TestConfig.Create(_upstream.BaseAddress);
        Configure(config);
        _gateway = await GatewayHost.StartAsync(config, SettingOverrides());
    }

    public virtual async Task DisposeAsync()
    {
        if (_gateway is not null)
        {
            await _gateway.DisposeAsync();
        }

        if (_upstream is not null)
        {
            await _upstream.DisposeAsync();
        }
    }

    /// <summary>Unique per call, so tests sharing a fixture never see each other's consent.</summary>
    public static string NewSubject() => "s-" + Guid.NewGuid().ToString("N")[..12];

    protected virtual void Configure(JsonObject config)
    {
    }

    protected virtual IDictionary<string, string?>? SettingOverrides() => null;
}
