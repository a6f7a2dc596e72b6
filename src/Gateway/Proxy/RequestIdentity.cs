using System.Text;
using ConsentGateway.Enforcement;
using ConsentGateway.Hosting;
using ConsentGateway.Policy;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;

namespace ConsentGateway.Proxy;

/// <summary>Who is calling, for which purpose, about whom: each answer or the problem that stops the request.</summary>
internal static class RequestIdentity
{
    public const string ApiKeyHeader = "X-Api-Key";

    /// <param name="key">The request's <see cref="ApiKeyHeader"/>, in whichever spelling it came (see <see cref="IdentityHeaders"/>).</param>
    public static Problem? AuthenticateCaller(in IdentityHeader key, CompiledPolicy policy, out Caller? caller)
    {
        caller = null;
        switch (key.Read(out var value))
        {
            case SingleValue.Missing: return Problem.ApiKeyMissing;
            case SingleValue.Ambiguous: return Problem.ApiKeyAmbiguous;
        }

        if (policy.VerifiedKeys.TryGet(value, out caller))
        {
            return null;
        }

        Span<char> hash = stackalloc char[Sha256Hex.Length];
        Sha256Hex.Compute(value, hash);
        var lookup = policy.CallersByKeyHash.GetAlternateLookup<ReadOnlySpan<char>>();
        if (!lookup.TryGetValue(hash, out caller))
        {
            return Problem.ApiKeyInvalid;
        }

        policy.VerifiedKeys.Remember(value, caller);
        return null;
    }

    /// <param name="header">The request's purpose header (unused when the route's purpose is fixed).</param>
    public static Problem? ResolvePurpose(in IdentityHeader header, RoutePolicy route, CompiledPolicy policy, Caller caller, out Purpose? purpose)
    {
        purpose = route.FixedPurpose;
        if (purpose is null)
        {
            switch (header.Read(out var name))
            {
                case SingleValue.Missing: return Problem.PurposeMissing;
                case SingleValue.Ambiguous: return Problem.PurposeAmbiguous;
            }

            if (!policy.Purposes.TryGetValue(name, out purpose))
            {
                return Problem.PurposeUnknown;
            }
        }

        return caller.MayUse(purpose) ? null : Problem.PurposeNotAllowed;
    }

    /// <summary>
    /// Resolves the subject from every source but the body (which needs the buffered body; see
    /// <see cref="ResolveFromBody"/>).
    /// </summary>
    /// <param name="header">The request's subject header (read only when the route takes the subject from a header).</param>
    public static async ValueTask<(Problem? Problem, string Subject)> ResolveSubjectAsync(HttpContext context, RoutePolicy route, IdentityHeader header)
    {
        var request = context.Request;
        string subject;
        SingleValue status;
        switch (route.SubjectFrom)
        {
            case SubjectFrom.Header:
                status = header.Read(out subject);
                break;
            case SubjectFrom.Query:
                status = SingleValueHeader.Single(request.Query[route.SubjectName], out subject);
                break;
            case SubjectFrom.Route:
                subject = request.RouteValues.TryGetValue(route.SubjectName, out var v) ? v as string ?? string.Empty : string.Empty;
                status = subject.Length == 0 ? SingleValue.Missing : SingleValue.Present;
                break;
            case SubjectFrom.Jwt:
                var auth = await context.AuthenticateAsync(JwtBearerDefaults.AuthenticationScheme).ConfigureAwait(false);
                if (!auth.Succeeded || auth.Principal is null)
                {
                    return (Problem.TokenInvalid, string.Empty);
                }

                var claims = auth.Principal.FindAll(route.SubjectName).Select(c => c.Value);
                status = SingleValueHeader.Single(new Microsoft.Extensions.Primitives.StringValues(claims.ToArray()), out subject);
                break;
            default:
                return (Problem.SubjectMissing, string.Empty);
        }

        return (Check(status, subject), subject);
    }

    public static Problem? ResolveFromBody(ReadOnlySpan<byte> body, RoutePolicy route, int maxDepth, out string subject)
    {
        subject = string.Empty;
        // The compiler parses the pointer of every body-subject route; a route without one is a bug, not a request problem.
        var pointer = route.SubjectPointer ?? throw new InvalidOperationException($"Route '{route.RouteId}' takes its subject from the body but has no compiled JSON pointer.");
        var status = JsonPointerReader.TryRead(body, pointer, route.CaseSensitive, maxDepth, out var value);
        return status switch
        {
            JsonPointerStatus.Found => Check(SingleValue.Present, subject = value ?? string.Empty),
            JsonPointerStatus.Ambiguous => Problem.SubjectAmbiguous,
            JsonPointerStatus.Malformed => Problem.JsonMalformed,
            JsonPointerStatus.NotAScalar => Problem.SubjectInvalid,
            _ => Problem.SubjectMissing,
        };
    }

    public static byte[] SubjectBytes(string subject) => Encoding.UTF8.GetBytes(subject);

    private static Problem? Check(SingleValue status, string subject) => status switch
    {
        SingleValue.Missing => Problem.SubjectMissing,
        SingleValue.Ambiguous => Problem.SubjectAmbiguous,
        _ when subject.Length is 0 or > PolicyCompiler.MaxSubjectLength || HasControl(subject) => Problem.SubjectInvalid,
        _ => null,
    };

    private static bool HasControl(string s)
    {
        foreach (var c in s)
        {
            if (char.IsControl(c))
            {
                return true;
            }
        }

        return false;
    }
}
