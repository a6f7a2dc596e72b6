namespace SampleApi;

/// <summary>Entry point of the sample upstream API. Listens on http://127.0.0.1:5080 unless --urls says otherwise.</summary>
internal static class Program
{
    public static async Task Main(string[] args)
    {
        var app = SampleApiApp.Build(args);
        await app.RunAsync().ConfigureAwait(false);
    }
}
