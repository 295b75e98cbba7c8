package dev.mlops.cli;

import dev.mlops.api.AliasChange;
import dev.mlops.api.AuditAction;
import dev.mlops.api.AuditEntry;
import dev.mlops.api.AuditQuery;
import dev.mlops.runtime.registry.GovernedRegistry;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code history} and {@code audit}. */
final class AuditCommands {

  private AuditCommands() {}

  private static final Pattern AGO = Pattern.compile("(\\d+)(s|m|h|d|w)");

  /**
   * {@code 2026-11-30T12:00:00Z}, {@code 2026-11-30} (midnight UTC) or a time ago: {@code 30m},
   * {@code 12h}, {@code 7d}, {@code 2w}.
   */
  static Instant time(String option, String text, Instant now) {
    Matcher m = AGO.matcher(text);
    if (m.matches()) {
      long n = Long.parseLong(m.group(1));
      Duration d =
          switch (m.group(2)) {
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            case "d" -> Duration.ofDays(n);
            default -> Duration.ofDays(7 * n);
          };
      return now.minus(d);
    }
    try {
      return Instant.parse(text);
    } catch (DateTimeParseException e) {
      // next form
    }
    try {
      return LocalDate.parse(text).atStartOfDay().toInstant(ZoneOffset.UTC);
    } catch (DateTimeParseException e) {
      throw new CliException(
          option
              + ": expected an instant (2026-11-30T12:00:00Z), a date (2026-11-30) or a time ago"
              + " (30m, 12h, 7d, 2w) but found '"
              + text
              + "'");
    }
  }

  /** Filters both commands share. */
  static final class Filters {
    @Option(names = "--who", paramLabel = "ACTOR", description = "Only entries by this actor.")
    String who;

    @Option(
        names = "--since",
        paramLabel = "WHEN",
        description = "Only entries at or after WHEN: an instant, a date, or 30m, 12h, 7d ago.")
    String since;

    @Option(
        names = "--until",
        paramLabel = "WHEN",
        description = "Only entries before WHEN (same forms as --since).")
    String until;

    AuditQuery.Builder apply(AuditQuery.Builder b) {
      Instant now = Instant.now();
      if (who != null) {
        b.actor(who);
      }
      if (since != null) {
        b.from(time("--since", since, now));
      }
      if (until != null) {
        b.to(time("--until", until, now));
      }
      return b;
    }
  }

  @Command(
      name = "history",
      mixinStandardHelpOptions = true,
      description = "The moves of a model's aliases, oldest first: who, when, from, to, why.",
      footer = {"", "Example:", "  mlops history cancer --alias production --since 7d --json"})
  static final class History extends Base {
    @Parameters(paramLabel = "MODEL")
    String model;

    @Option(names = "--alias", paramLabel = "ALIAS", description = "Only this alias.")
    String alias;

    @picocli.CommandLine.Mixin Filters filters;

    @Option(names = "--json", description = "One JSON array of alias changes.")
    boolean json;

    @Override
    int run(GovernedRegistry registry) {
      requireModel(registry, model);
      AuditQuery.Builder b =
          AuditQuery.builder()
              .model(model)
              .actions(AuditAction.SET_ALIAS, AuditAction.DELETE_ALIAS);
      if (alias != null) {
        b.alias(alias);
      }
      List<AliasChange> changes =
          registry.audit(filters.apply(b).build()).stream().map(AliasChange::of).toList();
      if (json) {
        Output.json(out(), changes.stream().map(Views::aliasChange).toList());
        return 0;
      }
      List<List<String>> rows = new ArrayList<>();
      for (AliasChange c : changes) {
        rows.add(
            List.of(
                c.time().toString(),
                c.actor(),
                c.alias(),
                c.fromVersion() == 0 ? "-" : Long.toString(c.fromVersion()),
                c.toVersion() == 0 ? "-" : Long.toString(c.toVersion()),
                c.forced() ? "forced" : "",
                Output.orDash(c.reason())));
      }
      Output.table(
          out(), List.of("TIME", "ACTOR", "ALIAS", "FROM", "TO", "FORCED", "REASON"), rows);
      return 0;
    }
  }

  @Command(
      name = "audit",
      mixinStandardHelpOptions = true,
      description = "The registry's audit log, in order, filtered.",
      footer = {
        "",
        "Actions: REGISTER, SET_ALIAS, DELETE_ALIAS, ARCHIVE, DELETE_VERSION,",
        "  LOAD_FAILED, VERIFICATION_FAILED, SIGNATURE_FAILED, SWAP_REFUSED,",
        "  START_ROLLOUT, UPDATE_ROLLOUT, END_ROLLOUT.",
        "",
        "Example:",
        "  mlops audit --model cancer --who alice --action SET_ALIAS --since 24h --json"
      })
  static final class Audit extends Base {
    @Option(names = "--model", paramLabel = "MODEL", description = "Only this model.")
    String model;

    @Option(
        names = "--action",
        paramLabel = "ACTION",
        split = ",",
        description = "Only these actions (repeatable or comma-separated).")
    List<String> actions = new ArrayList<>();

    @Option(
        names = "--model-version",
        paramLabel = "N",
        description = "Only entries about version N.")
    Long version;

    @picocli.CommandLine.Mixin Filters filters;

    @Option(names = "--json", description = "One JSON array of audit entries.")
    boolean json;

    @Override
    int run(GovernedRegistry registry) {
      AuditQuery.Builder b = AuditQuery.builder();
      if (model != null) {
        b.model(model);
      }
      if (version != null) {
        b.version(version);
      }
      if (!actions.isEmpty()) {
        Set<AuditAction> set = new LinkedHashSet<>();
        for (String a : actions) {
          try {
            set.add(AuditAction.valueOf(a.strip().toUpperCase(Locale.ROOT)));
          } catch (IllegalArgumentException e) {
            throw new CliException(
                "--action: expected one of "
                    + java.util.Arrays.toString(AuditAction.values())
                    + " but found '"
                    + a
                    + "'");
          }
        }
        b.actions(set.toArray(AuditAction[]::new));
      }
      List<AuditEntry> entries = registry.audit(filters.apply(b).build());
      if (json) {
        Output.json(out(), entries.stream().map(Views::audit).toList());
        return 0;
      }
      List<List<String>> rows = new ArrayList<>();
      for (AuditEntry e : entries) {
        rows.add(
            List.of(
                e.time().toString(),
                e.actor(),
                e.action().name(),
                e.model(),
                ShowCommand.pairs(e.details()),
                Output.orDash(e.reason())));
      }
      Output.table(out(), List.of("TIME", "ACTOR", "ACTION", "MODEL", "DETAILS", "REASON"), rows);
      return 0;
    }
  }
}
