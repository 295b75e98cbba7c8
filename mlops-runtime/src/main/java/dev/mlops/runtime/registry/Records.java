package dev.mlops.runtime.registry;

import dev.mlops.api.ArtifactFile;
import dev.mlops.api.AuditAction;
import dev.mlops.api.AuditEntry;
import dev.mlops.api.ElementType;
import dev.mlops.api.Lineage;
import dev.mlops.api.ModelSignature;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.TensorSpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * JSON of the registry's records, as every store that keeps them as text writes them: a version's
 * metadata and an audit entry (with, in the directory store's log, the hash that chains it to the
 * line before). Stateless.
 */
public final class Records {

  private Records() {}

  public static String versionToJson(ModelVersion v) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("format", 1L);
    m.put("name", v.name());
    m.put("version", v.version());
    m.put("createdAt", v.createdAt().toString());
    m.put("createdBy", v.createdBy());
    m.put("description", v.description());
    m.put("modelFile", v.modelFile());
    m.put("files", filesToJson(v.files()));
    m.put("digest", v.digest());
    Map<String, Object> sig = new LinkedHashMap<>();
    sig.put("inputs", specs(v.signature().inputs()));
    sig.put("outputs", specs(v.signature().outputs()));
    m.put("signature", sig);
    m.put("tags", new TreeMap<>(v.tags()));
    Map<String, Object> lin = new LinkedHashMap<>();
    lin.put("runId", v.lineage().runId());
    lin.put("dataset", v.lineage().dataset());
    lin.put("metrics", new TreeMap<>(v.lineage().metrics()));
    m.put("lineage", lin);
    m.put("hasInputExample", v.hasInputExample());
    m.put("attachments", filesToJson(v.attachments()));
    return Json.write(m);
  }

  private static List<Object> filesToJson(List<ArtifactFile> list) {
    List<Object> files = new ArrayList<>();
    for (ArtifactFile f : list) {
      Map<String, Object> fm = new LinkedHashMap<>();
      fm.put("path", f.path());
      fm.put("size", f.size());
      fm.put("sha256", f.sha256());
      files.add(fm);
    }
    return files;
  }

  @SuppressWarnings("unchecked")
  private static List<ArtifactFile> filesFromJson(Object list) {
    List<ArtifactFile> files = new ArrayList<>();
    if (list != null) {
      for (Object o : (List<Object>) list) {
        Map<String, Object> f = (Map<String, Object>) o;
        files.add(
            new ArtifactFile(
                (String) f.get("path"), (Long) f.get("size"), (String) f.get("sha256")));
      }
    }
    return files;
  }

  private static List<Object> specs(List<TensorSpec> specs) {
    List<Object> out = new ArrayList<>();
    for (TensorSpec s : specs) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("name", s.name());
      m.put("type", s.type().name());
      m.put("shape", new ArrayList<Object>(s.shape()));
      out.add(m);
    }
    return out;
  }

  @SuppressWarnings("unchecked")
  public static ModelVersion versionFromJson(String json) {
    Map<String, Object> m = Json.parseObject(json);
    List<ArtifactFile> files = filesFromJson(m.get("files"));
    Map<String, Object> sig = (Map<String, Object>) m.get("signature");
    Map<String, Object> lin = (Map<String, Object>) m.get("lineage");
    Map<String, Double> metrics = new TreeMap<>();
    ((Map<String, Object>) lin.get("metrics")).forEach((k, val) -> metrics.put(k, toDouble(val)));
    Map<String, String> tags = new TreeMap<>();
    ((Map<String, Object>) m.get("tags")).forEach((k, val) -> tags.put(k, (String) val));
    return ModelVersion.builder((String) m.get("name"), (Long) m.get("version"))
        .createdAt(Instant.parse((String) m.get("createdAt")))
        .createdBy((String) m.get("createdBy"))
        .description((String) m.get("description"))
        .modelFile((String) m.get("modelFile"))
        .files(files)
        .digest((String) m.get("digest"))
        .signature(
            new ModelSignature(
                specsFrom((List<Object>) sig.get("inputs")),
                specsFrom((List<Object>) sig.get("outputs"))))
        .tags(tags)
        .lineage(new Lineage((String) lin.get("runId"), (String) lin.get("dataset"), metrics))
        .hasInputExample((Boolean) m.get("hasInputExample"))
        .attachments(filesFromJson(m.get("attachments")))
        .build();
  }

  private static double toDouble(Object v) {
    if (v instanceof String) {
      return Double.parseDouble((String) v); // NaN and infinities are written as strings
    }
    return ((Number) v).doubleValue();
  }

  @SuppressWarnings("unchecked")
  private static List<TensorSpec> specsFrom(List<Object> list) {
    List<TensorSpec> out = new ArrayList<>();
    for (Object o : list) {
      Map<String, Object> s = (Map<String, Object>) o;
      List<Long> shape = new ArrayList<>();
      for (Object d : (List<Object>) s.get("shape")) {
        shape.add((Long) d);
      }
      out.add(
          new TensorSpec(
              (String) s.get("name"), ElementType.valueOf((String) s.get("type")), shape));
    }
    return out;
  }

  public static String auditToJson(AuditEntry e) {
    return auditToJson(e, null);
  }

  /**
   * One line of the audit log.
   *
   * @param previous the hash that chains it to the line before (the directory store's audit chain),
   *     or null
   */
  public static String auditToJson(AuditEntry e, String previous) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("time", e.time().toString());
    m.put("actor", e.actor());
    m.put("action", e.action().name());
    m.put("model", e.model());
    m.put("details", new TreeMap<>(e.details()));
    m.put("reason", e.reason());
    if (previous != null) {
      m.put("previous", previous);
    }
    return Json.write(m);
  }

  public static AuditEntry auditFromJson(String line) {
    return auditLineFromJson(line).entry();
  }

  /** A parsed audit line: its entry and the chain hash it carries (null on lines before chains). */
  public record AuditLine(AuditEntry entry, String previous) {}

  @SuppressWarnings("unchecked")
  public static AuditLine auditLineFromJson(String line) {
    Map<String, Object> m = Json.parseObject(line);
    Map<String, String> details = new TreeMap<>();
    ((Map<String, Object>) m.get("details")).forEach((k, v) -> details.put(k, String.valueOf(v)));
    return new AuditLine(
        new AuditEntry(
            Instant.parse((String) m.get("time")),
            (String) m.get("actor"),
            AuditAction.valueOf((String) m.get("action")),
            (String) m.get("model"),
            details,
            (String) m.get("reason")),
        (String) m.get("previous"));
  }

  /** A rollout's record, as every store keeps it (without its revision, which the store keeps). */
  public static String rolloutToJson(dev.mlops.api.Rollout r) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("format", 1L);
    m.put("model", r.model());
    m.put("alias", r.alias());
    m.put("id", r.id());
    m.put("stable", r.stable());
    m.put("candidate", r.candidate());
    m.put("weight", (long) r.weight());
    if (r.shadow() > 0) {
      m.put("shadow", (long) r.shadow());
    }
    Map<String, Object> plan = new LinkedHashMap<>();
    List<Object> steps = new ArrayList<>();
    r.plan().steps().forEach(st -> steps.add((long) st));
    plan.put("steps", steps);
    plan.put("intervalMillis", r.plan().interval().toMillis());
    r.plan()
        .analysis()
        .ifPresent(
            a -> {
              Map<String, Object> am = new LinkedHashMap<>();
              am.put("maxErrorRate", Double.toString(a.maxErrorRate()));
              a.maxP99().ifPresent(d -> am.put("maxP99Micros", d.toNanos() / 1000));
              am.put("maxP99Ratio", Double.toString(a.maxP99Ratio()));
              am.put("minRequests", a.minRequests());
              am.put("failureThreshold", (long) a.failureThreshold());
              plan.put("analysis", am);
            });
    m.put("plan", plan);
    m.put("state", r.state().name());
    m.put("reason", r.reason());
    m.put("started", r.started().toString());
    m.put("updated", r.updated().toString());
    return Json.write(m);
  }

  /** The rollout of a record, at the store's revision. */
  @SuppressWarnings("unchecked")
  public static dev.mlops.api.Rollout rolloutFromJson(String json, long revision) {
    Map<String, Object> m = Json.parseObject(json);
    dev.mlops.api.RolloutPlan plan = dev.mlops.api.RolloutPlan.MANUAL;
    Map<String, Object> pm = (Map<String, Object>) m.get("plan");
    if (pm != null) {
      List<Integer> steps = new ArrayList<>();
      for (Object o : (List<Object>) pm.get("steps")) {
        steps.add(((Long) o).intValue());
      }
      java.util.Optional<dev.mlops.api.AnalysisPolicy> analysis = java.util.Optional.empty();
      Map<String, Object> am = (Map<String, Object>) pm.get("analysis");
      if (am != null) {
        Long p99 = (Long) am.get("maxP99Micros");
        analysis =
            java.util.Optional.of(
                new dev.mlops.api.AnalysisPolicy(
                    toDouble(am.get("maxErrorRate")),
                    p99 == null
                        ? java.util.Optional.empty()
                        : java.util.Optional.of(java.time.Duration.ofNanos(p99 * 1000)),
                    toDouble(am.get("maxP99Ratio")),
                    (Long) am.get("minRequests"),
                    ((Long) am.get("failureThreshold")).intValue()));
      }
      plan =
          new dev.mlops.api.RolloutPlan(
              steps, java.time.Duration.ofMillis((Long) pm.get("intervalMillis")), analysis);
    }
    return new dev.mlops.api.Rollout(
        (String) m.get("model"),
        (String) m.get("alias"),
        (String) m.get("id"),
        (Long) m.get("stable"),
        (Long) m.get("candidate"),
        ((Long) m.get("weight")).intValue(),
        m.containsKey("shadow") ? ((Long) m.get("shadow")).intValue() : 0,
        plan,
        dev.mlops.api.Rollout.State.valueOf((String) m.get("state")),
        (String) m.get("reason"),
        Instant.parse((String) m.get("started")),
        Instant.parse((String) m.get("updated")),
        revision);
  }
}
