package dev.mlops.cli;

import dev.mlops.api.ArtifactFile;
import dev.mlops.api.ManifestSignature;
import dev.mlops.api.ModelVersion;
import dev.mlops.runtime.registry.GovernedRegistry;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code show}: one version in full. */
@Command(
    name = "show",
    mixinStandardHelpOptions = true,
    description =
        "Show one version: status, aliases, signature, per-file digests, lineage, tags, signing.",
    footer = {
      "",
      "REF is MODEL (the latest), MODEL/VERSION, MODEL@ALIAS or models:/...",
      "",
      "Example:",
      "  mlops show cancer@production --json"
    })
final class ShowCommand extends Base {

  @Parameters(paramLabel = "REF", description = "The version: cancer, cancer/3, cancer@production.")
  String ref;

  @Option(names = "--json", description = "One JSON object.")
  boolean json;

  @Override
  int run(GovernedRegistry registry) {
    ModelVersion v = registry.get(ref(ref));
    List<String> aliases =
        Output.aliasesByVersion(registry.aliases(v.name())).getOrDefault(v.version(), List.of());
    Optional<ManifestSignature> sig = registry.manifestSignature(v);
    if (json) {
      Map<String, Object> m = Views.version(v, aliases, true);
      m.put("manifestSignature", sig.map(ShowCommand::signature).orElse(null));
      Output.json(out(), m);
      return 0;
    }
    var o = out();
    o.println(v.ref() + "  " + v.status());
    List<List<String>> rows = new ArrayList<>();
    rows.add(List.of("created", v.createdAt() + " by " + v.createdBy()));
    rows.add(List.of("description", Output.orDash(v.description())));
    rows.add(List.of("aliases", aliases.isEmpty() ? "-" : String.join(", ", aliases)));
    rows.add(List.of("model file", v.modelFile()));
    rows.add(List.of("digest", v.digest()));
    rows.add(List.of("size", v.sizeBytes() + " bytes"));
    rows.add(List.of("inputs", join(v.signature().inputs())));
    rows.add(List.of("outputs", join(v.signature().outputs())));
    rows.add(List.of("run", Output.orDash(v.lineage().runId())));
    rows.add(List.of("dataset", Output.orDash(v.lineage().dataset())));
    rows.add(List.of("metrics", pairs(v.lineage().metrics())));
    rows.add(List.of("tags", pairs(v.tags())));
    rows.add(List.of("input example", v.hasInputExample() ? "yes" : "no"));
    rows.add(
        List.of(
            "signed",
            sig.map(s -> "by key '" + s.keyId() + "' (" + s.algorithm() + ")").orElse("no")));
    for (List<String> r : rows) {
      o.printf("  %-14s %s%n", r.get(0), r.get(1));
    }
    o.println("  files");
    List<List<String>> files = new ArrayList<>();
    for (ArtifactFile f : v.files()) {
      files.add(List.of("   ", f.path(), Long.toString(f.size()), f.sha256()));
    }
    for (ArtifactFile f : v.attachments()) {
      files.add(List.of("   ", "(attachment) " + f.path(), Long.toString(f.size()), f.sha256()));
    }
    Output.table(o, List.of("   ", "PATH", "BYTES", "SHA-256"), files);
    return 0;
  }

  static Map<String, Object> signature(ManifestSignature s) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("keyId", s.keyId());
    m.put("algorithm", s.algorithm());
    return m;
  }

  private static String join(List<dev.mlops.api.TensorSpec> specs) {
    List<String> parts = new ArrayList<>();
    for (var t : specs) {
      parts.add(t.name() + ":" + t.describe());
    }
    return String.join(", ", parts);
  }

  static String pairs(Map<String, ?> map) {
    if (map.isEmpty()) {
      return "-";
    }
    List<String> parts = new ArrayList<>();
    new TreeMap<>(map).forEach((k, v) -> parts.add(k + "=" + v));
    return String.join(", ", parts);
  }
}
