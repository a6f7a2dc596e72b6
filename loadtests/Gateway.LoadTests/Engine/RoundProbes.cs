namespace ConsentGateway.LoadTests.Engine;

/// <summary>What is read from the host at the start and end of every measured round, besides latency.</summary>
/// <param name="Cpu">CPU used by each bed process and outside the bed.</param>
/// <param name="Upstream">Connections each proxy holds to the upstream.</param>
internal sealed record RoundProbes(HostCpu Cpu, UpstreamSockets Upstream);
