using ConsentGateway.Hosting;
using ConsentGateway.Policy;
using Microsoft.Extensions.Options;

try
{
    var app = GatewayApp.Build(args);
    await app.RunAsync().ConfigureAwait(false);
    return 0;
}
catch (Exception ex) when (ex is PolicyValidationException or OptionsValidationException or FileNotFoundException or InvalidOperationException)
{
    // Fail fast with a message that names the bad key; no stack trace for a configuration error.
    await Console.Error.WriteLineAsync("Consent gateway failed to start: " + ex.Message).ConfigureAwait(false);
    return 2;
}
