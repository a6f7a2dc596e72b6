namespace ConsentGateway.LoadTests.Engine;

/// <summary>What the runner reads from the test bed around every measured round, and the one thing it does to it.</summary>
/// <param name="Cpu">CPU used by each bed process and outside the bed, read at each round's start and end.</param>
/// <param name="Upstream">Connections each proxy holds to the upstream, read at each round's start and end.</param>
/// <param name="PoolFill">Fills the proxy's upstream pool while a scenario opens its connections.</param>
internal sealed record BedHooks(HostCpu Cpu, UpstreamSockets Upstream, UpstreamPoolFill PoolFill);
