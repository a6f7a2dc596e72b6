// A plain YARP passthrough with no consent enforcement: the load tests' baseline. It reads the
// ReverseProxy section (routes and clusters) from the same JSON file the gateway uses, so both
// proxies forward the same routes to the same upstream with YARP's defaults.
//
//   dotnet PlainProxy.dll --config <file> --urls http://127.0.0.1:PORT
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

builder.Services.AddReverseProxy().LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"));

var app = builder.Build();
app.MapReverseProxy();
await app.RunAsync().ConfigureAwait(false);
