package dev.mlops.cli;

import dev.mlops.api.AliasChange;
import dev.mlops.runtime.registry.GovernedRegistry;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code rollback}: move an alias back to the version it pointed at before its last move. */
@Command(
    name = "rollback",
    mixinStandardHelpOptions = true,
    description = {
      "Move ALIAS (default production) of MODEL back to its previous target, read from the"
          + " alias's history, by compare-and-set (so a move made meanwhile is not overwritten),"
          + " with the same checks as promote."
    },
    footer = {"", "Example:", "  mlops rollback cancer --alias production -m 'p99 regression'"})
final class RollbackCommand extends Base {

  @Parameters(index = "0", paramLabel = "MODEL")
  String model;

  @Option(names = "--alias", paramLabel = "ALIAS", description = "Default: ${DEFAULT-VALUE}.")
  String alias = "production";

  @Option(names = "--json", description = "Print {model, alias, from, to} as JSON.")
  boolean json;

  @Mixin Reason reason;

  @Override
  int run(GovernedRegistry registry) {
    requireModel(registry, model);
    List<AliasChange> history = registry.aliasHistory(model, alias);
    if (history.isEmpty()) {
      throw new CliException(
          "expected alias '" + alias + "' of model '" + model + "' to have a history, found none");
    }
    AliasChange last = history.get(history.size() - 1);
    Long current = registry.aliases(model).get(alias);
    if (current == null) {
      throw new CliException(
          "expected alias '"
              + alias
              + "' of model '"
              + model
              + "' to point at a version, but it was deleted on "
              + last.time());
    }
    if (last.fromVersion() == 0) {
      throw new CliException(
          "expected a previous target for alias '"
              + alias
              + "' of model '"
              + model
              + "', but its only move pointed it at version "
              + last.toVersion());
    }
    registry.compareAndSetAlias(model, alias, current, last.fromVersion(), audit(reason));
    AliasCommand.printMove(out(), json, model, alias, current, last.fromVersion(), "rolled back");
    return 0;
  }
}
