using System.Buffers;
using System.Collections.Concurrent;
using BenchmarkDotNet.Attributes;
using ConsentGateway.Consent;
using ConsentGateway.Enforcement;
using ConsentGateway.Policy;
using ConsentGateway.Proxy;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Caching.Memory;

namespace ConsentGateway.Benchmarks;

/// <summary>Target 2: ConsentEvaluator.Allows plus the deny mask and body actions for route customer-by-id.</summary>
[Config(typeof(BenchConfig))]
public class PolicyBenchmarks
{
    private readonly FieldAction[] _actions = new FieldAction[16];
    private RoutePolicy _route = null!;
    private Purpose _marketing = null!;
    private Purpose _analytics = null!;
    private ConsentLookupResult _lookup;

    [GlobalSetup]
    public void GlobalSetup()
    {
        var policy = Setup.Policy();
        _route = policy.Routes["customer-by-id"];
        _marketing = policy.Purposes["marketing"];
        _analytics = policy.Purposes["analytics"];
        _lookup = new ConsentLookupResult(CompactConsent.From(Setup.TypicalRecord()), ConsentSource.L1);
    }

    [Benchmark(Description = "Allows + deny mask + actions (consent basis, granted)")]
    public ulong ConsentGranted() => Evaluate(_marketing);

    [Benchmark(Description = "Allows + deny mask + actions (legitimate interest, objected)")]
    public ulong LegitimateInterestDenied() => Evaluate(_analytics);

    private ulong Evaluate(Purpose purpose)
    {
        var allowed = ConsentEvaluator.Allows(purpose, _lookup, gpcSignal: false, TimeProvider.System.GetUtcNow());
        var denied = _route.AllRulesMask & ~(allowed ? _route.DeclaredByPurpose[purpose.Index] : 0UL);
        BodyActions.Fill(_route.Response.BodyRules, denied, _actions);
        return denied;
    }
}

/// <summary>Target 3: an L1 hit, with plain MemoryCache and ConcurrentDictionary hits as reference points.</summary>
[Config(typeof(BenchConfig))]
public class ConsentCacheBenchmarks
{
    private ConsentCache _cache = null!;
    private MemoryCacheConsentCache _legacy = null!;
    private MemoryCache _memoryCache = null!;
    private ConcurrentDictionary<string, object> _dictionary = null!;

    [GlobalSetup]
    public void GlobalSetup()
    {
        _cache = Setup.Cache(new FixedStore(Setup.TypicalRecord()));
        var first = _cache.LookupAsync(Setup.Subject, CancellationToken.None).AsTask().GetAwaiter().GetResult();
        var second = _cache.LookupAsync(Setup.Subject, CancellationToken.None).AsTask().GetAwaiter().GetResult();
        if (first.Source != ConsentSource.Store || second.Source != ConsentSource.L1)
        {
            throw new InvalidOperationException($"expected store then L1, got {first.Source} then {second.Source}");
        }

        _legacy = Setup.LegacyCache(new FixedStore(Setup.TypicalRecord()));
        _ = _legacy.LookupAsync(Setup.Subject, CancellationToken.None).AsTask().GetAwaiter().GetResult();
        if (_legacy.LookupAsync(Setup.Subject, CancellationToken.None).AsTask().GetAwaiter().GetResult().Source != ConsentSource.L1)
        {
            throw new InvalidOperationException("legacy cache: expected an L1 hit");
        }

        _memoryCache = new MemoryCache(new MemoryCacheOptions { SizeLimit = 100_000 });
        _memoryCache.Set(Setup.Subject, (object)Setup.TypicalRecord(), new MemoryCacheEntryOptions { Size = 1 });
        _dictionary = new ConcurrentDictionary<string, object>(StringComparer.Ordinal);
        _dictionary[Setup.Subject] = Setup.TypicalRecord();
    }

    [GlobalCleanup]
    public void GlobalCleanup()
    {
        _cache.Dispose();
        _legacy.Dispose();
        _memoryCache.Dispose();
    }

    [Benchmark(Baseline = true, Description = "after: ConsentCache.LookupAsync (L1 hit)")]
    public object? L1Hit()
    {
        var task = _cache.LookupAsync(Setup.Subject, CancellationToken.None);
        return task.IsCompletedSuccessfully ? task.Result.Consent : null;
    }

    [Benchmark(Description = "before: MemoryCache-based ConsentCache (L1 hit)")]
    public object? LegacyL1Hit()
    {
        var task = _legacy.LookupAsync(Setup.Subject, CancellationToken.None);
        return task.IsCompletedSuccessfully ? task.Result.Consent : null;
    }

    [Benchmark(Description = "reference: MemoryCache.TryGetValue")]
    public object? MemoryCacheHit() => _memoryCache.TryGetValue(Setup.Subject, out var value) ? value : null;

    [Benchmark(Description = "reference: ConcurrentDictionary.TryGetValue")]
    public object? DictionaryHit() => _dictionary.TryGetValue(Setup.Subject, out var value) ? value : null;
}

/// <summary>
/// Target 5: the request-side enforcement step as the middleware runs it: caller authentication
/// (SHA-256 of the API key), purpose resolution, subject from the route, L1 hit, evaluation, the
/// exchange, and filtering an 8 KB customer document with the route's body rules.
/// </summary>
[Config(typeof(BenchConfig))]
public class EnforcementStepBenchmarks
{
    private CompiledPolicy _policy = null!;
    private RoutePolicy _route = null!;
    private ConsentCache _cache = null!;
    private Pseudonymizer _pseudonymizer = null!;
    private DefaultHttpContext _context = null!;
    private ArrayBufferWriter<byte> _output = null!;
    private byte[] _json = null!;

    [GlobalSetup]
    public void GlobalSetup()
    {
        _policy = Setup.Policy();
        _route = _policy.Routes["customer-by-id"];
        _cache = Setup.Cache(new FixedStore(Setup.TypicalRecord()));
        _ = _cache.LookupAsync(Setup.Subject, CancellationToken.None).AsTask().GetAwaiter().GetResult();
        _pseudonymizer = Setup.Pseudonymizer();
        _context = new DefaultHttpContext();
        _context.Request.Headers[RequestIdentity.ApiKeyHeader] = Setup.ApiKey;
        _context.Request.Headers[_route.PurposeHeader] = "marketing";
        _context.Request.RouteValues["id"] = Setup.Subject;
        _json = Documents.Get(Documents.Medium);
        _output = new ArrayBufferWriter<byte>(_json.Length * 2);
        var mask = Step();
        if (mask == 0)
        {
            throw new InvalidOperationException("expected withheld fields");
        }
    }

    [GlobalCleanup]
    public void GlobalCleanup() => _cache.Dispose();

    [Benchmark(Description = "auth + purpose + subject + L1 + evaluate + filter 8 KB")]
    public ulong Step()
    {
        var request = _context.Request;
        Purpose? purpose = null;
        var identity = IdentityHeaders.Find(request.Headers, _route);
        var problem = RequestIdentity.AuthenticateCaller(identity.ApiKey, _policy, out var caller)
            ?? RequestIdentity.ResolvePurpose(identity.Purpose, _route, _policy, caller!, out purpose);
        if (problem is not null)
        {
            throw new InvalidOperationException(problem.Slug);
        }

        var (subjectProblem, subject) = RequestIdentity.ResolveSubjectAsync(_context, _route, identity.Subject).AsTask().GetAwaiter().GetResult();
        if (subjectProblem is not null)
        {
            throw new InvalidOperationException(subjectProblem.Slug);
        }

        var lookupTask = _cache.LookupAsync(subject, _context.RequestAborted);
        var lookup = lookupTask.IsCompletedSuccessfully ? lookupTask.Result : lookupTask.AsTask().GetAwaiter().GetResult();
        var gpc = request.Headers.TryGetValue("Sec-GPC", out var gpcValues) && gpcValues.Contains("1");
        var allowed = ConsentEvaluator.Allows(purpose!, lookup, gpc, TimeProvider.System.GetUtcNow());
        var exchange = new ConsentExchange
        {
            Route = _route,
            Purpose = purpose!,
            Subject = subject,
            SubjectUtf8 = RequestIdentity.SubjectBytes(subject),
            DeniedMask = _route.AllRulesMask & ~(allowed ? _route.DeclaredByPurpose[purpose!.Index] : 0UL),
            MaxResponseBodyBytes = _policy.Limits.MaxResponseBodyBytes,
        };

        var rules = exchange.Route.Response;
        Span<FieldAction> actions = stackalloc FieldAction[rules.BodyRules.Length];
        BodyActions.Fill(rules.BodyRules, exchange.DeniedMask, actions);
        _output.ResetWrittenCount();
        var result = rules.BodyFilter!.Filter(_json, actions, _output, _pseudonymizer, exchange.SubjectUtf8);
        return BodyActions.ToRuleMask(rules.BodyRules, result.WithheldMask);
    }
}
