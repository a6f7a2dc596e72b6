# syntax=docker/dockerfile:1
# Consent Gateway container image.
#
#   docker build -t consent-gateway .
#   docker run --rm -p 8080:8080 -p 8081:8081 \
#     -e Gateway__HashKey="$(head -c 32 /dev/urandom | base64)" \
#     -e Consent__Redis=redis:6379 \
#     consent-gateway
#
# Listeners: 8080 is the proxy (proxied routes only), 8081 the admin/control plane (consent API,
# /metrics, /healthz, /readyz). config/gateway.json is baked in at /app/config/gateway.json and
# every key can be overridden with environment variables (section__key), or the file replaced
# by mounting a volume over /app/config (it is hot-reloaded; on Kubernetes ConfigMap mounts set
# DOTNET_USE_POLLING_FILE_WATCHER=true, as inotify does not see the symlink swap).
# The HashKey in config/gateway.json is for the demo only: production must set Gateway__HashKey
# (from a secret), and its own Gateway__AdminKeys__0 / Policy callers.

# ---- build ------------------------------------------------------------------------------------
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src

# Restore first from the project and MSBuild props files alone, so that the package layer is
# reused until a package reference changes. (If the gateway gains a ProjectReference, copy that
# project's .csproj here as well.)
COPY Directory.Build.props Directory.Packages.props ./
COPY src/Gateway/Gateway.csproj src/Gateway/
RUN dotnet restore src/Gateway/Gateway.csproj

COPY src/Gateway/ src/Gateway/
RUN dotnet publish src/Gateway/Gateway.csproj -c Release --no-restore -o /app/publish -p:UseAppHost=false

# ---- runtime ----------------------------------------------------------------------------------
FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app

COPY --from=build /app/publish ./
COPY config/ ./config/

# The gateway binds exactly two listeners, from Gateway:ProxyUrl and Gateway:AdminUrl, and never
# reads the base image's ASPNETCORE_HTTP_PORTS=8080; it is cleared so the environment does not
# suggest otherwise.
ENV ASPNETCORE_HTTP_PORTS="" \
    Gateway__ProxyUrl=http://0.0.0.0:8080 \
    Gateway__AdminUrl=http://0.0.0.0:8081 \
    DOTNET_NOLOGO=1 \
    DOTNET_CLI_TELEMETRY_OPTOUT=1

EXPOSE 8080 8081

# No HEALTHCHECK: the aspnet image has no curl or wget, and installing one only for that would
# enlarge the image and its attack surface. Probe from the orchestrator instead, e.g. Kubernetes
# httpGet probes: liveness GET :8081/healthz, readiness GET :8081/readyz.

# Run as the image's unprivileged "app" user (UID 1654), never root.
USER $APP_UID

ENTRYPOINT ["dotnet", "ConsentGateway.dll", "--config", "/app/config/gateway.json"]
