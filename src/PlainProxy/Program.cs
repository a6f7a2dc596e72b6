// A plain YARP passthrough with no consent enforcement: the load tests' baseline. It reads the
// ReverseProxy section (routes and clusters) from the same JSON file the gateway uses, so both
// proxies forward the same routes to the same upstream with YARP's defaults, and keep and drop idle
// connections alike (the gateway's Gateway:ClientKeepAliveTimeout and Gateway:UpstreamIdleTimeout,
// with the gateway's defaults when the file leaves them out).
//
//   dotnet PlainProxy.dll --config <file> --urls http://127.0.0.1:PORT [--buffer-json true] [--burn-us N]
//
// With --buffer-json true it holds and checks every JSON body before forwarding it (BufferedJson.cs):
// the load tests' measure of what buffering and one check cost without any enforcement. With
// --burn-us N it also does N microseconds of CPU work on every request (CpuBurn.cs): the load tests'
// second floor, for measuring what a microsecond of CPU per request costs in p99.
using PlainProxy;
using Yarp.ReverseProxy.Transforms;

var builder = WebApplication.CreateBuilder(args);
var configPath = builder.Configuration["config"];
if (!string.IsNullOrEmpty(configPath))
{
    builder.Configuration.AddJsonFile(Path.GetFullPath(configPath), optional: false, reloadOnChange: false);
    builder.Configuration.AddCommandLine(args); // --urls and friends win over the file
}

builder.Logging.ClearProviders();
builder.Logging.AddConsole();
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Information);
// As in the gateway (AddPrivacyFilters): with hosting's category enabled, ASP.NET Core starts an Activity
// and a log scope per request that nothing here consumes. The baseline must not carry a cost the
// gateway does not, or the ratios would count it as the cost of enforcement.
builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);

var keepAlive = builder.Configuration.GetValue("Gateway:ClientKeepAliveTimeout", TimeSpan.FromMinutes(10));
var upstreamIdle = builder.Configuration.GetValue("Gateway:UpstreamIdleTimeout", TimeSpan.FromMinutes(10));
builder.WebHost.ConfigureKestrel(k => k.Limits.KeepAliveTimeout = keepAlive);

var bufferJson = builder.Configuration.GetValue<bool>("buffer-json");
var burnMicroseconds = builder.Configuration.GetValue<double>("burn-us");
if (burnMicroseconds < 0)
{
    throw new ArgumentException("--burn-us must be 0 or more");
}

var burn = burnMicroseconds > 0 ? CpuBurn.Calibrate(burnMicroseconds) : null;
var proxy = builder.Services.AddReverseProxy()
    .LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"))
    .ConfigureHttpClient((_, handler) => handler.PooledConnectionIdleTimeout = upstreamIdle);
if (bufferJson)
{
    proxy.AddTransforms(static context => context.AddResponseTransform(BufferedJson.BufferResponseAsync));
}

var app = builder.Build();
if (burn is not null)
{
    CpuBurn.LogCalibrated(app.Logger, burnMicroseconds, burn.Steps);
}

if (bufferJson || burn is not null)
{
    // Plain YARP's pipeline (what the parameterless MapReverseProxy builds) with the burn and the body check in front.
    app.MapReverseProxy(pipeline =>
    {
        if (burn is not null)
        {
            pipeline.Use((context, next) =>
            {
                burn.Run();
                return next();
            });
        }

        if (bufferJson)
        {
            pipeline.Use(BufferedJson.BufferRequestAsync);
        }

        pipeline.UseSessionAffinity();
        pipeline.UseLoadBalancing();
        pipeline.UsePassiveHealthChecks();
    });
}
else
{
    app.MapReverseProxy();
}

await app.RunAsync().ConfigureAwait(false);
