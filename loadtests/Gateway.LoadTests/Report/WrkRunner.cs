using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using ConsentGateway.LoadTests.Bed;

namespace ConsentGateway.LoadTests.Report;

/// <summary>What wrk (closed loop, timing from the actual send) reported.</summary>
internal sealed record WrkResult(string Command, double RequestsPerSecond, double P50Ms, double P75Ms, double P90Ms, double P99Ms, double MaxMs, long Requests, long Non2xx, long SocketErrors, string Raw);

/// <summary>Runs wrk against one URL with the gateway's identity headers and parses its --latency output.</summary>
internal static partial class WrkRunner
{
    public static async Task<WrkResult?> RunAsync(Uri url, int connections, TimeSpan duration, CancellationToken ct)
    {
        var threads = Math.Max(1, Math.Min(Environment.ProcessorCount, connections));
        string[] args =
        [
            $"-t{threads}", $"-c{connections}", string.Create(CultureInfo.InvariantCulture, $"-d{Math.Max(1, (int)duration.TotalSeconds)}s"), "--latency",
            "-H", $"X-Api-Key: {TestBed.ApiKey}", "-H", $"X-Purpose: {TestBed.Purpose}", url.ToString(),
        ];
        var command = "wrk " + string.Join(' ', args.Select(a => a.Contains(' ', StringComparison.Ordinal) ? $"'{a}'" : a));
        try
        {
            var info = new ProcessStartInfo("wrk") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in args)
            {
                info.ArgumentList.Add(a);
            }

            using var p = Process.Start(info)!;
            var stdout = p.StandardOutput.ReadToEndAsync(ct);
            var stderr = p.StandardError.ReadToEndAsync(ct);
            await p.WaitForExitAsync(ct);
            var raw = await stdout + await stderr;
            return Parse(command, raw);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }

    internal static WrkResult Parse(string command, string raw)
    {
        static double Ms(string value, string unit) => double.Parse(value, CultureInfo.InvariantCulture) * unit switch
        {
            "us" => 0.001,
            "ms" => 1,
            "s" => 1000,
            "m" => 60000,
            _ => double.NaN,
        };

        double Pct(string p)
        {
            var m = Regex.Match(raw, @"^\s*" + Regex.Escape(p) + @"%\s+([\d.]+)(us|ms|s|m)\s*$", RegexOptions.Multiline);
            return m.Success ? Ms(m.Groups[1].Value, m.Groups[2].Value) : double.NaN;
        }

        var rps = RpsRegex().Match(raw);
        var lat = LatencyRegex().Match(raw);
        var reqs = RequestsRegex().Match(raw);
        var non2xx = Non2xxRegex().Match(raw);
        var sockets = SocketRegex().Match(raw);
        long socketErrors = 0;
        if (sockets.Success)
        {
            for (var g = 1; g <= 4; g++)
            {
                socketErrors += long.Parse(sockets.Groups[g].Value, CultureInfo.InvariantCulture);
            }
        }

        return new WrkResult(
            command,
            rps.Success ? double.Parse(rps.Groups[1].Value, CultureInfo.InvariantCulture) : double.NaN,
            Pct("50"), Pct("75"), Pct("90"), Pct("99"),
            lat.Success ? Ms(lat.Groups[1].Value, lat.Groups[2].Value) : double.NaN,
            reqs.Success ? long.Parse(reqs.Groups[1].Value, CultureInfo.InvariantCulture) : 0,
            non2xx.Success ? long.Parse(non2xx.Groups[1].Value, CultureInfo.InvariantCulture) : 0,
            socketErrors,
            raw.Trim());
    }

    [GeneratedRegex(@"Requests/sec:\s+([\d.]+)")]
    private static partial Regex RpsRegex();

    // "Latency   1.23ms  456.00us  12.34ms   90.00%": avg, stdev, max, +/- stdev
    [GeneratedRegex(@"^\s*Latency\s+\S+\s+\S+\s+([\d.]+)(us|ms|s|m)", RegexOptions.Multiline)]
    private static partial Regex LatencyRegex();

    [GeneratedRegex(@"(\d+) requests in")]
    private static partial Regex RequestsRegex();

    [GeneratedRegex(@"Non-2xx or 3xx responses:\s+(\d+)")]
    private static partial Regex Non2xxRegex();

    [GeneratedRegex(@"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")]
    private static partial Regex SocketRegex();
}
