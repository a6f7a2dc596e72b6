using ConsentGateway.Observability;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace ConsentGateway.Consent;

internal static class ConsentServiceCollectionExtensions
{
    /// <summary>
    /// Consent tier: options (section "Consent", validated at start-up), the store chosen by
    /// <c>Consent:Redis</c> (Redis when set, the embedded store otherwise), the L1 cache as
    /// <see cref="IConsentLookup"/>, and the hosted service that starts the store.
    /// </summary>
    public static IServiceCollection AddConsent(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        var section = configuration.GetSection(ConsentOptions.SectionName);
        services.AddOptions<ConsentOptions>().Bind(section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ConsentOptions>, ConsentOptionsValidator>());

        // Normally registered by the host; TryAdd keeps AddConsent usable on its own (tests, tools).
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(_ => new GatewayMetrics());

        services.TryAddSingleton<ConsentInvalidation>();

        // The store is chosen once at start-up: switching stores needs a restart anyway.
        if (string.IsNullOrWhiteSpace(section[nameof(ConsentOptions.Redis)]))
        {
            services.TryAddSingleton<EmbeddedConsentStore>();
            services.TryAddSingleton<IConsentStore>(sp => sp.GetRequiredService<EmbeddedConsentStore>());
            services.TryAddSingleton<IConsentStoreHealth>(sp => sp.GetRequiredService<EmbeddedConsentStore>());
            services.TryAddSingleton<IConsentEventStore>(sp => sp.GetRequiredService<EmbeddedConsentStore>());
            services.AddHostedService(sp => sp.GetRequiredService<EmbeddedConsentStore>());
        }
        else
        {
            services.TryAddSingleton<RedisConnection>();
            services.TryAddSingleton<RedisConsentStore>();
            services.TryAddSingleton<IConsentStore>(sp => sp.GetRequiredService<RedisConsentStore>());
            services.TryAddSingleton<IConsentStoreHealth>(sp => sp.GetRequiredService<RedisConsentStore>());
            services.TryAddSingleton<IConsentEventStore>(sp => sp.GetRequiredService<RedisConsentStore>());
            services.AddHostedService(sp => sp.GetRequiredService<RedisConnection>());
        }

        services.TryAddSingleton<ConsentCache>();
        services.TryAddSingleton<IConsentLookup>(sp => sp.GetRequiredService<ConsentCache>());
        return services;
    }
}
