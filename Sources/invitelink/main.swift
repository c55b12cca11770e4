import InviteCLI

await Invitelink.runAsRoot(CommandLine.arguments.dropFirst())
