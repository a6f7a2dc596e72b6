using BenchmarkDotNet.Running;
using ConsentGateway.Benchmarks;

if (args.Length > 0 && args[0] == "--l1-memory")
{
    return await L1Memory.RunAsync(args.Skip(1).ToArray()).ConfigureAwait(false);
}

BenchmarkSwitcher.FromAssembly(typeof(BenchConfig).Assembly).Run(args);
return 0;
