package dev.mlops.cli;

import dev.mlops.runtime.registry.GovernedRegistry;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.TreeMap;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code alias list|set|cas|delete}. */
@Command(
    name = "alias",
    mixinStandardHelpOptions = true,
    description = "List, set, compare-and-set or delete a model's aliases.",
    synopsisSubcommandLabel = "COMMAND",
    subcommands = {
      AliasCommand.ListAliases.class,
      AliasCommand.Set.class,
      AliasCommand.Cas.class,
      AliasCommand.Delete.class
    },
    footer = {"", "Example:", "  mlops alias cas cancer production 2 3 -m 'only if still on v2'"})
final class AliasCommand implements Runnable {

  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new picocli.CommandLine.ParameterException(
        spec.commandLine(), "expected one of the commands list, set, cas, delete but found none");
  }

  static void printMove(
      PrintWriter out, boolean json, String model, String alias, long from, long to, String verb) {
    if (json) {
      Output.json(out, PromoteCommand.move(model, alias, from, to));
    } else {
      out.println(
          verb
              + " "
              + model
              + "@"
              + alias
              + ": "
              + (from == 0 ? "(none)" : "v" + from)
              + " -> "
              + (to == 0 ? "(none)" : "v" + to));
    }
  }

  @Command(
      name = "list",
      mixinStandardHelpOptions = true,
      description = "List a model's aliases and the versions they point at.",
      footer = {"", "Example:", "  mlops alias list cancer --json"})
  static final class ListAliases extends Base {
    @Parameters(index = "0", paramLabel = "MODEL")
    String model;

    @Option(names = "--json", description = "One JSON object of alias to version.")
    boolean json;

    @Override
    int run(GovernedRegistry registry) {
      requireModel(registry, model);
      Map<String, Long> aliases = new TreeMap<>(registry.aliases(model));
      if (json) {
        Output.json(out(), aliases);
      } else {
        List<List<String>> rows = new ArrayList<>();
        aliases.forEach((a, v) -> rows.add(List.of(a, Long.toString(v))));
        Output.table(out(), List.of("ALIAS", "VERSION"), rows);
      }
      return 0;
    }
  }

  @Command(
      name = "set",
      mixinStandardHelpOptions = true,
      description =
          "Point ALIAS at VERSION, refused when its inputs are incompatible with the current"
              + " target's or it does not load (unless --force).",
      footer = {"", "Example:", "  mlops alias set cancer champion 3"})
  static final class Set extends Base {
    @Parameters(index = "0", paramLabel = "MODEL")
    String model;

    @Parameters(index = "1", paramLabel = "ALIAS")
    String alias;

    @Parameters(index = "2", paramLabel = "VERSION")
    long version;

    @Option(names = "--force", description = "Skip the checks (audited as forced).")
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
      printMove(out(), json, model, alias, from.orElse(0), version, "set");
      return 0;
    }
  }

  @Command(
      name = "cas",
      mixinStandardHelpOptions = true,
      description =
          "Point ALIAS at NEW only if it points at EXPECTED now (0: only if it does not exist).",
      footer = {"", "Example:", "  mlops alias cas cancer production 2 3"})
  static final class Cas extends Base {
    @Parameters(index = "0", paramLabel = "MODEL")
    String model;

    @Parameters(index = "1", paramLabel = "ALIAS")
    String alias;

    @Parameters(index = "2", paramLabel = "EXPECTED")
    long expected;

    @Parameters(index = "3", paramLabel = "NEW")
    long version;

    @Option(names = "--json", description = "Print {model, alias, from, to} as JSON.")
    boolean json;

    @Mixin Reason reason;

    @Override
    int run(GovernedRegistry registry) {
      registry.compareAndSetAlias(model, alias, expected, version, audit(reason));
      printMove(out(), json, model, alias, expected, version, "set");
      return 0;
    }
  }

  @Command(
      name = "delete",
      mixinStandardHelpOptions = true,
      description = "Delete ALIAS; predictors following it keep their version.",
      footer = {"", "Example:", "  mlops alias delete cancer canary"})
  static final class Delete extends Base {
    @Parameters(index = "0", paramLabel = "MODEL")
    String model;

    @Parameters(index = "1", paramLabel = "ALIAS")
    String alias;

    @Option(names = "--json", description = "Print {model, alias, from, to} as JSON.")
    boolean json;

    @Mixin Reason reason;

    @Override
    int run(GovernedRegistry registry) {
      OptionalLong was = registry.deleteAlias(model, alias, audit(reason));
      if (was.isEmpty()) {
        throw new CliException(
            "expected alias '" + alias + "' of model '" + model + "' to exist, found none");
      }
      printMove(out(), json, model, alias, was.getAsLong(), 0, "deleted");
      return 0;
    }
  }
}
