using ConsentGateway.LoadTests;

return await LoadTestProgram.RunAsync(args, Console.Out);
