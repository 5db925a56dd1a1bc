return await ScimFunctions.Cli.CliApp.RunAsync(args);
