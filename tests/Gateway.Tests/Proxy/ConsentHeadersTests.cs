using ConsentGateway.Proxy;

namespace ConsentGateway.Tests.Proxy;

/// <summary>Which header names count as the gateway's own statements (removed when anyone else sends them).</summary>
public sealed class ConsentHeadersTests
{
    [Theory]
    [InlineData("X-Consent-Decision")]
    [InlineData("x-consent-withheld")]
    [InlineData("X_Consent_Decision")]
    [InlineData("X-CONSENT_Anything")]
    [InlineData("x_consent-")]
    public void The_gateways_own_header_names_in_any_spelling_are_recognised(string name) =>
        Assert.True(ConsentHeaders.IsConsentHeader(name));

    [Theory]
    [InlineData("X-Consent")]
    [InlineData("X-Consents-Decision")]
    [InlineData("Y-Consent-Decision")]
    [InlineData("X.Consent-Decision")]
    [InlineData("X-Consent.Decision")]
    [InlineData("XX-Consent-Decision")]
    [InlineData("X-Subject-Id")]
    [InlineData("Content-Type")]
    [InlineData("")]
    public void Other_names_are_not(string name) =>
        Assert.False(ConsentHeaders.IsConsentHeader(name));
}
