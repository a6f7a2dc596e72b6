namespace ConsentGateway.Policy;

internal static class PolicyServiceCollectionExtensions
{
    public static IServiceCollection AddConsentPolicy(this IServiceCollection services)
    {
        services.AddSingleton<PolicyProvider>();
        return services;
    }
}
