package dev.mlops.cli;

import dev.mlops.api.AnalysisPolicy;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.Rollout;
import dev.mlops.api.RolloutSpec;
import dev.mlops.runtime.registry.GovernedRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code rollout start|status|weight|pause|resume|abort|promote}. */
@Command(
    name = "rollout",
    mixinStandardHelpOptions = true,
    description =
        "Progressive delivery behind an alias: a candidate gets a share of the calls of every"
            + " predictor that follows the alias, in every instance, stepped and checked.",
    synopsisSubcommandLabel = "COMMAND",
    subcommands = {
      RolloutCommand.Start.class,
      RolloutCommand.Status.class,
      RolloutCommand.Weight.class,
      RolloutCommand.Pause.class,
      RolloutCommand.Resume.class,
      RolloutCommand.Abort.class,
      RolloutCommand.Promote.class
    },
    footer = {
      "",
      "Example:",
      "  mlops rollout start cancer 3 --steps 5,25,50,100 --every 5m --max-error-rate 0.01",
      "  mlops rollout status cancer --json"
    })
final class RolloutCommand implements Runnable {

  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new picocli.CommandLine.ParameterException(
        spec.commandLine(),
        "expected one of the commands start, status, weight, pause, resume, abort, promote but"
            + " found none");
  }

  /** MODEL and --alias, shared by every rollout command. */
  static final class Target {
    @Parameters(index = "0", paramLabel = "MODEL")
    String model;

    @Option(names = "--alias", paramLabel = "ALIAS", description = "Default: ${DEFAULT-VALUE}.")
    String alias = "production";
  }

  /** The base of the commands that change a rollout and print it. */
  abstract static class Change extends Base {
    @Mixin Target target;

    @Mixin Reason reason;

    @Option(names = "--json", description = "Print the rollout as one JSON object.")
    boolean json;

    abstract Rollout change(GovernedRegistry registry, String model, String alias, AuditInfo a);

    @Override
    int run(GovernedRegistry registry) {
      Rollout r = change(registry, target.model, target.alias, audit(reason));
      print(this, json, r);
      return 0;
    }
  }

  static void print(Base cmd, boolean json, Rollout r) {
    if (json) {
      Output.json(cmd.out(), Views.rollout(r));
      return;
    }
    cmd.out()
        .println(
            "rollout "
                + r.id()
                + " of "
                + r.model()
                + "@"
                + r.alias()
                + ": "
                + r.state()
                + ", candidate v"
                + r.candidate()
                + " at "
                + String.format("%.1f", r.weightPercent())
                + " %"
                + (r.shadow() > 0 ? String.format(", shadow %.1f %%", r.shadowPercent()) : "")
                + ", stable v"
                + r.stable()
                + (r.reason().isEmpty() ? "" : " (" + r.reason() + ")"));
  }

  @Command(
      name = "start",
      mixinStandardHelpOptions = true,
      description =
          "Start a rollout of VERSION behind the alias: a fixed weight by hand, or steps with an"
              + " analysis that promotes or rolls back by itself.",
      footer = {
        "",
        "Examples:",
        "  mlops rollout start cancer 3 --weight 10",
        "  mlops rollout start cancer 3 --shadow 100      # champion/challenger, no traffic risk",
        "  mlops rollout start cancer 3 --steps 5,25,50,100 --every 5m \\",
        "      --max-error-rate 0.01 --max-p99 50ms --min-requests 200 --failure-threshold 3"
      })
  static final class Start extends Base {
    @Parameters(index = "0", paramLabel = "MODEL")
    String model;

    @Parameters(index = "1", paramLabel = "VERSION", description = "The candidate.")
    long version;

    @Option(names = "--alias", paramLabel = "ALIAS", description = "Default: ${DEFAULT-VALUE}.")
    String alias = "production";

    @Option(names = "--weight", paramLabel = "PERCENT", description = "The candidate's share.")
    Double weight;

    @Option(
        names = "--shadow",
        paramLabel = "PERCENT",
        description =
            "The share of the stable calls also run on the candidate off the callers' threads,"
                + " compared and discarded.")
    Double shadow;

    @Option(
        names = "--steps",
        paramLabel = "PERCENT",
        split = ",",
        description = "Weights to step through, e.g. 5,25,50,100.")
    List<Double> steps = new ArrayList<>();

    @Option(
        names = "--every",
        paramLabel = "DURATION",
        description = "The analysis interval: 30s, 5m, PT5M.")
    String every;

    @Option(names = "--max-error-rate", paramLabel = "RATE")
    Double maxErrorRate;

    @Option(names = "--max-p99", paramLabel = "DURATION", description = "e.g. 50ms.")
    String maxP99;

    @Option(names = "--max-p99-ratio", paramLabel = "RATIO")
    Double maxP99Ratio;

    @Option(names = "--min-requests", paramLabel = "N")
    Long minRequests;

    @Option(names = "--failure-threshold", paramLabel = "N")
    Integer failureThreshold;

    @Option(names = "--json", description = "Print the rollout as one JSON object.")
    boolean json;

    @Mixin Reason reason;

    @Override
    int run(GovernedRegistry registry) {
      RolloutSpec s = RolloutSpec.of(version);
      if (weight != null) {
        s = s.weightPercent(weight);
      }
      if (shadow != null) {
        s = s.shadowPercent(shadow);
      }
      if (!steps.isEmpty()) {
        s = s.steps(steps.stream().mapToDouble(Double::doubleValue).toArray());
      }
      if (every != null) {
        s = s.every(duration("--every", every));
      }
      if (maxErrorRate != null
          || maxP99 != null
          || maxP99Ratio != null
          || minRequests != null
          || failureThreshold != null) {
        AnalysisPolicy.Builder a = AnalysisPolicy.builder();
        Optional.ofNullable(maxErrorRate).ifPresent(a::maxErrorRate);
        Optional.ofNullable(maxP99).ifPresent(p -> a.maxP99(duration("--max-p99", p)));
        Optional.ofNullable(maxP99Ratio).ifPresent(a::maxP99Ratio);
        Optional.ofNullable(minRequests).ifPresent(a::minRequests);
        Optional.ofNullable(failureThreshold).ifPresent(a::failureThreshold);
        s = s.analysis(a.build());
      }
      print(this, json, registry.startRollout(model, alias, s, audit(reason)));
      return 0;
    }
  }

  static Duration duration(String option, String text) {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+)(ms|s|m|h)").matcher(text);
    if (m.matches()) {
      long n = Long.parseLong(m.group(1));
      return switch (m.group(2)) {
        case "ms" -> Duration.ofMillis(n);
        case "s" -> Duration.ofSeconds(n);
        case "m" -> Duration.ofMinutes(n);
        default -> Duration.ofHours(n);
      };
    }
    try {
      return Duration.parse(text);
    } catch (java.time.format.DateTimeParseException e) {
      throw new CliException(
          option
              + ": expected a duration such as 500ms, 30s, 5m, 1h or PT5M but found '"
              + text
              + "'");
    }
  }

  @Command(
      name = "status",
      mixinStandardHelpOptions = true,
      description = "Where the alias's rollout stands (the latest one, ended or not).",
      footer = {"", "Example:", "  mlops rollout status cancer --json"})
  static final class Status extends Base {
    @Mixin Target target;

    @Option(names = "--json", description = "One JSON object, or null when there is none.")
    boolean json;

    @Override
    int run(GovernedRegistry registry) {
      Optional<Rollout> r = registry.rolloutStatus(target.model, target.alias);
      if (r.isPresent()) {
        print(this, json, r.get());
      } else if (json) {
        out().println("null");
      } else {
        out().println("no rollout on " + target.model + "@" + target.alias);
      }
      return 0;
    }
  }

  @Command(
      name = "weight",
      mixinStandardHelpOptions = true,
      description = "Set the candidate's share by hand.",
      footer = {"", "Example:", "  mlops rollout weight cancer 25"})
  static final class Weight extends Base {
    @Mixin Target target;

    @Parameters(index = "1", paramLabel = "PERCENT")
    double percent;

    @Option(names = "--json", description = "Print the rollout as one JSON object.")
    boolean json;

    @Mixin Reason reason;

    @Override
    int run(GovernedRegistry registry) {
      print(
          this,
          json,
          registry.setRolloutWeight(
              target.model, target.alias, RolloutSpec.basisPoints(percent), audit(reason)));
      return 0;
    }
  }

  @Command(
      name = "pause",
      mixinStandardHelpOptions = true,
      description = "Hold the weight where it is; calls are still routed by it.",
      footer = {"", "Example:", "  mlops rollout pause cancer -m 'investigating'"})
  static final class Pause extends Change {
    @Override
    Rollout change(GovernedRegistry r, String model, String alias, AuditInfo a) {
      return r.pauseRollout(model, alias, a);
    }
  }

  @Command(
      name = "resume",
      mixinStandardHelpOptions = true,
      description = "Resume a paused rollout.",
      footer = {"", "Example:", "  mlops rollout resume cancer"})
  static final class Resume extends Change {
    @Override
    Rollout change(GovernedRegistry r, String model, String alias, AuditInfo a) {
      return r.resumeRollout(model, alias, a);
    }
  }

  @Command(
      name = "abort",
      mixinStandardHelpOptions = true,
      description = "End the rollout: every call goes to the stable version.",
      footer = {"", "Example:", "  mlops rollout abort cancer -m 'error budget'"})
  static final class Abort extends Change {
    @Override
    Rollout change(GovernedRegistry r, String model, String alias, AuditInfo a) {
      return r.abortRollout(model, alias, a);
    }
  }

  @Command(
      name = "promote",
      mixinStandardHelpOptions = true,
      description = "End the rollout by moving the alias to the candidate.",
      footer = {"", "Example:", "  mlops rollout promote cancer"})
  static final class Promote extends Change {
    @Override
    Rollout change(GovernedRegistry r, String model, String alias, AuditInfo a) {
      return r.promoteRollout(model, alias, a);
    }
  }
}
