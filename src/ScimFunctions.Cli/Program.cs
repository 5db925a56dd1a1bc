return ScimFunctions.Cli.CliApp.Run(args);
