package dev.mlops.cli;

import picocli.AutoComplete;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * The {@code mlops} command: its global options and its subcommands. The registry is named by a URI
 * ({@code --registry}, or the {@code MLOPS_REGISTRY} environment variable): a directory or a {@code
 * file:} URI for the embedded registry, a {@code postgresql:} URI for the fleet registry.
 */
@Command(
    name = "mlops",
    mixinStandardHelpOptions = true,
    versionProvider = MlopsCommand.Version.class,
    description =
        "Register, promote, roll back, verify and serve ONNX models in an mlops registry.",
    synopsisSubcommandLabel = "COMMAND",
    subcommands = {
      RegisterCommand.class,
      ListCommands.Models.class,
      ListCommands.Versions.class,
      ShowCommand.class,
      AliasCommand.class,
      PromoteCommand.class,
      RollbackCommand.class,
      LifecycleCommands.Archive.class,
      LifecycleCommands.Delete.class,
      VerifyCommand.class,
      PredictCommand.class,
      DiffCommand.class,
      AuditCommands.History.class,
      AuditCommands.Audit.class,
      RolloutCommand.class,
      AutoComplete.GenerateCompletion.class
    },
    footer = {
      "",
      "The registry: --registry URI or MLOPS_REGISTRY, e.g. ./models, file:/var/lib/models,",
      "postgresql://db:5432/models?user=mlops_writer&password=...",
      "",
      "Exit codes: 0 ok, 1 failure (the check that refused, on one line), 2 usage.",
      "",
      "Example:",
      "  export MLOPS_REGISTRY=./models",
      "  mlops register cancer model.onnx --run-id run-42 -m 'nightly'",
      "  mlops promote cancer 1 --alias production -m 'first release'"
    })
public final class MlopsCommand implements Runnable {

  @Spec CommandSpec spec;

  @Option(
      names = "--registry",
      scope = ScopeType.INHERIT,
      paramLabel = "URI",
      description =
          "The registry: a directory, file:DIR or postgresql://host:port/db?user=...; default:"
              + " the MLOPS_REGISTRY environment variable.")
  String registry;

  @Option(
      names = "--actor",
      scope = ScopeType.INHERIT,
      paramLabel = "WHO",
      description = "Who is recorded in the audit log; default: MLOPS_ACTOR or the user name.")
  String actor;

  @Option(
      names = {"-v", "--verbose"},
      scope = ScopeType.INHERIT,
      description = "Print the stack trace of an error, and library logging at DEBUG.")
  boolean verbose;

  /** For picocli. */
  public MlopsCommand() {}

  @Override
  public void run() {
    throw new ParameterException(spec.commandLine(), "expected a command but found none");
  }

  /** The tool's version, from the jar's manifest. */
  static final class Version implements picocli.CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = MlopsCommand.class.getPackage().getImplementationVersion();
      return new String[] {"mlops " + (v == null ? "(development build)" : v)};
    }
  }
}
