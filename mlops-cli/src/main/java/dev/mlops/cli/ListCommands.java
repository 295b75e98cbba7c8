package dev.mlops.cli;

import dev.mlops.api.ModelVersion;
import dev.mlops.runtime.registry.GovernedRegistry;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code models} and {@code versions}. */
final class ListCommands {

  private ListCommands() {}

  @Command(
      name = "models",
      mixinStandardHelpOptions = true,
      description = "List the models: how many versions, the latest, the aliases.",
      footer = {"", "Example:", "  mlops models --json"})
  static final class Models extends Base {
    @Option(names = "--json", description = "One JSON array of objects.")
    boolean json;

    @Override
    int run(GovernedRegistry registry) {
      List<Object> items = new ArrayList<>();
      List<List<String>> rows = new ArrayList<>();
      for (String model : registry.models()) {
        List<ModelVersion> versions = registry.versions(model);
        Map<String, Long> aliases = new TreeMap<>(registry.aliases(model));
        long latest = versions.isEmpty() ? 0 : versions.get(versions.size() - 1).version();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model", model);
        m.put("versions", versions.size());
        m.put("latest", latest);
        m.put("aliases", aliases);
        items.add(m);
        List<String> parts = new ArrayList<>();
        aliases.forEach((a, v) -> parts.add(a + "=" + v));
        rows.add(
            List.of(
                model,
                Integer.toString(versions.size()),
                latest == 0 ? "-" : Long.toString(latest),
                parts.isEmpty() ? "-" : String.join(",", parts)));
      }
      if (json) {
        Output.json(out(), items);
      } else {
        Output.table(out(), List.of("MODEL", "VERSIONS", "LATEST", "ALIASES"), rows);
      }
      return 0;
    }
  }

  @Command(
      name = "versions",
      mixinStandardHelpOptions = true,
      description = "List a model's versions, oldest first.",
      footer = {"", "Example:", "  mlops versions cancer"})
  static final class Versions extends Base {
    @Parameters(paramLabel = "MODEL", description = "The model's name.")
    String model;

    @Option(names = "--json", description = "One JSON array of version objects.")
    boolean json;

    @Override
    int run(GovernedRegistry registry) {
      requireModel(registry, model);
      Map<Long, List<String>> aliases = Output.aliasesByVersion(registry.aliases(model));
      List<Object> items = new ArrayList<>();
      List<List<String>> rows = new ArrayList<>();
      for (ModelVersion v : registry.versions(model)) {
        List<String> a = aliases.getOrDefault(v.version(), List.of());
        items.add(Views.version(v, a, false));
        rows.add(
            List.of(
                Long.toString(v.version()),
                v.status().name(),
                v.createdAt().toString(),
                v.createdBy(),
                a.isEmpty() ? "-" : String.join(",", a),
                Output.shortDigest(v.digest()),
                Output.orDash(v.lineage().runId()),
                Output.orDash(v.description())));
      }
      if (json) {
        Output.json(out(), items);
      } else {
        Output.table(
            out(),
            List.of(
                "VERSION", "STATUS", "CREATED", "BY", "ALIASES", "DIGEST", "RUN", "DESCRIPTION"),
            rows);
      }
      return 0;
    }
  }
}
