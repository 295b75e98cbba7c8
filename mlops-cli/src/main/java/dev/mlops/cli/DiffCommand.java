package dev.mlops.cli;

import dev.mlops.api.ModelVersion;
import dev.mlops.runtime.registry.GovernedRegistry;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code diff}: signatures, lineage, metrics and tags of two versions. */
@Command(
    name = "diff",
    mixinStandardHelpOptions = true,
    description = {
      "Compare two versions: their signatures (and whether B can replace A behind an alias),"
          + " lineage, metrics (with B - A), tags and files."
    },
    footer = {"", "Example:", "  mlops diff cancer/1 cancer/3 --json"})
final class DiffCommand extends Base {

  @Parameters(index = "0", paramLabel = "A")
  String a;

  @Parameters(index = "1", paramLabel = "B")
  String b;

  @Option(names = "--json", description = "One JSON object.")
  boolean json;

  @Override
  int run(GovernedRegistry registry) {
    ModelVersion va = registry.get(ref(a));
    ModelVersion vb = registry.get(ref(b));
    List<String> incompatible = va.signature().incompatibilities(vb.signature());
    Map<String, Object> sig = new LinkedHashMap<>();
    sig.put("a", Views.describe(va.signature()));
    sig.put("b", Views.describe(vb.signature()));
    sig.put("same", va.signature().equals(vb.signature()));
    sig.put("compatible", incompatible.isEmpty());
    sig.put("differences", incompatible);

    List<Object> metrics = new ArrayList<>();
    TreeSet<String> names = new TreeSet<>(va.lineage().metrics().keySet());
    names.addAll(vb.lineage().metrics().keySet());
    for (String n : names) {
      Double x = va.lineage().metrics().get(n);
      Double y = vb.lineage().metrics().get(n);
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("name", n);
      m.put("a", x);
      m.put("b", y);
      m.put("delta", x == null || y == null ? null : y - x);
      metrics.add(m);
    }
    List<Object> tags = new ArrayList<>();
    TreeSet<String> keys = new TreeSet<>(va.tags().keySet());
    keys.addAll(vb.tags().keySet());
    for (String k : keys) {
      String x = va.tags().get(k);
      String y = vb.tags().get(k);
      if (!Objects.equals(x, y)) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("key", k);
        m.put("a", x);
        m.put("b", y);
        tags.add(m);
      }
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("a", va.ref().toString());
    out.put("b", vb.ref().toString());
    out.put("signature", sig);
    Map<String, Object> lineage = new LinkedHashMap<>();
    lineage.put("runId", pair(va.lineage().runId(), vb.lineage().runId()));
    lineage.put("dataset", pair(va.lineage().dataset(), vb.lineage().dataset()));
    out.put("lineage", lineage);
    out.put("metrics", metrics);
    out.put("tags", tags);
    out.put("digest", pair(va.digest(), vb.digest()));
    out.put("sizeBytes", pair(va.sizeBytes(), vb.sizeBytes()));
    out.put("description", pair(va.description(), vb.description()));
    if (json) {
      Output.json(out(), out);
      return 0;
    }
    var o = out();
    o.println("diff " + va.ref() + " -> " + vb.ref());
    o.println("  signature  " + (va.signature().equals(vb.signature()) ? "same" : "differs"));
    o.println("    a: " + sig.get("a"));
    o.println("    b: " + sig.get("b"));
    o.println(
        "    "
            + (incompatible.isEmpty()
                ? "b can replace a behind an alias"
                : "b cannot replace a behind an alias: " + String.join("; ", incompatible)));
    o.println(
        "  run        "
            + Output.orDash(va.lineage().runId())
            + " -> "
            + Output.orDash(vb.lineage().runId()));
    o.println(
        "  dataset    "
            + Output.orDash(va.lineage().dataset())
            + " -> "
            + Output.orDash(vb.lineage().dataset()));
    List<List<String>> rows = new ArrayList<>();
    for (Object m : metrics) {
      Map<?, ?> mm = (Map<?, ?>) m;
      rows.add(
          List.of(
              "   ",
              (String) mm.get("name"),
              num(mm.get("a")),
              num(mm.get("b")),
              mm.get("delta") == null ? "-" : String.format("%+.6f", (Double) mm.get("delta"))));
    }
    if (!rows.isEmpty()) {
      o.println("  metrics");
      Output.table(o, List.of("   ", "METRIC", "A", "B", "B-A"), rows);
    }
    for (Object t : tags) {
      Map<?, ?> tm = (Map<?, ?>) t;
      o.println("  tag " + tm.get("key") + ": " + tm.get("a") + " -> " + tm.get("b"));
    }
    o.println(
        "  digest     "
            + (va.digest().equals(vb.digest())
                ? "same " + Output.shortDigest(va.digest())
                : Output.shortDigest(va.digest()) + " -> " + Output.shortDigest(vb.digest())));
    return 0;
  }

  private static String num(Object o) {
    return o == null ? "-" : String.format("%.6f", (Double) o);
  }

  private static Map<String, Object> pair(Object x, Object y) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("a", x);
    m.put("b", y);
    m.put("same", Objects.equals(x, y));
    return m;
  }
}
