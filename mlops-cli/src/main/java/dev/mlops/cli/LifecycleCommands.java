package dev.mlops.cli;

import dev.mlops.api.ModelVersion;
import dev.mlops.runtime.registry.GovernedRegistry;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code archive} and {@code delete}. */
final class LifecycleCommands {

  private LifecycleCommands() {}

  @Command(
      name = "archive",
      mixinStandardHelpOptions = true,
      description =
          "Archive a version: it stays readable and pinned references still load it, but it is"
              + " no longer the latest.",
      footer = {"", "Example:", "  mlops archive cancer 1 -m 'superseded by v3'"})
  static final class Archive extends Base {
    @Parameters(index = "0", paramLabel = "MODEL")
    String model;

    @Parameters(index = "1", paramLabel = "VERSION")
    long version;

    @Mixin Reason reason;

    @Override
    int run(GovernedRegistry registry) {
      ModelVersion v = registry.archive(model, version, audit(reason));
      out().println("archived " + v.ref());
      return 0;
    }
  }

  @Command(
      name = "delete",
      mixinStandardHelpOptions = true,
      description =
          "Delete a version. Refused while an alias points at it, or (unless --force) while an"
              + " open predictor in this process pins it.",
      footer = {"", "Example:", "  mlops delete cancer 2 -m 'incompatible inputs'"})
  static final class Delete extends Base {
    @Parameters(index = "0", paramLabel = "MODEL")
    String model;

    @Parameters(index = "1", paramLabel = "VERSION")
    long version;

    @Option(names = "--force", description = "Delete even if a predictor pins it.")
    boolean force;

    @Mixin Reason reason;

    @Override
    int run(GovernedRegistry registry) {
      if (force) {
        registry.forceDelete(model, version, audit(reason));
      } else {
        registry.delete(model, version, audit(reason));
      }
      out().println("deleted models:/" + model + "/" + version);
      return 0;
    }
  }
}
