using BenchmarkDotNet.Running;
using ConsentGateway.Benchmarks;

if (args.Length > 0 && args[0] == "--l1-memory")
{
    return await L1Memory.RunAsync(args.Skip(1).ToArray()).ConfigureAwait(false);
}

if (args.Length > 0 && args[0] == "--filter-alternating")
{
    return FilterAlternating.Run(args.Skip(1).ToArray());
}

BenchmarkSwitcher.FromAssembly(typeof(BenchConfig).Assembly).Run(args);
return 0;
