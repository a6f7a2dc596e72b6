using ConsentGateway.RevocationBench;

return await RevocationBenchmark.RunAsync(args, Console.Out);
