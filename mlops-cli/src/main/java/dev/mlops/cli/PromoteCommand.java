package dev.mlops.cli;

import dev.mlops.runtime.registry.GovernedRegistry;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalLong;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code promote}: move an alias to a version, with the registry's checks. */
@Command(
    name = "promote",
    mixinStandardHelpOptions = true,
    description = {
      "Point ALIAS (default production) of MODEL at VERSION. The registry refuses a version whose"
          + " inputs are incompatible with the alias's current target (the differences are named)"
          + " and one that does not load and warm up; every instance following the alias switches"
          + " to it."
    },
    footer = {"", "Example:", "  mlops promote cancer 3 --alias production -m 'better recall'"})
final class PromoteCommand extends Base {

  @Parameters(index = "0", paramLabel = "MODEL")
  String model;

  @Parameters(index = "1", paramLabel = "VERSION")
  long version;

  @Option(names = "--alias", paramLabel = "ALIAS", description = "Default: ${DEFAULT-VALUE}.")
  String alias = "production";

  @Option(
      names = "--force",
      description = "Skip the compatibility and load checks (audited as forced).")
  boolean force;

  @Option(names = "--json", description = "Print {model, alias, from, to} as JSON.")
  boolean json;

  @Mixin Reason reason;

  @Override
  int run(GovernedRegistry registry) {
    OptionalLong from =
        force
            ? registry.forceAlias(model, alias, version, audit(reason))
            : registry.setAlias(model, alias, version, audit(reason));
    AliasCommand.printMove(out(), json, model, alias, from.orElse(0), version, "promoted");
    return 0;
  }

  static Map<String, Object> move(String model, String alias, long from, long to) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("model", model);
    m.put("alias", alias);
    m.put("from", from);
    m.put("to", to);
    return m;
  }
}
