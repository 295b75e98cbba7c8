package dev.mlops.cli;

import dev.mlops.api.AliasChange;
import dev.mlops.api.ArtifactFile;
import dev.mlops.api.AuditEntry;
import dev.mlops.api.Lineage;
import dev.mlops.api.ModelSignature;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.Rollout;
import dev.mlops.api.TensorSpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The JSON shape of each thing the CLI prints. Field names and order are part of the CLI's contract
 * with scripts: add fields, never rename or remove them.
 */
final class Views {

  private Views() {}

  static Map<String, Object> version(ModelVersion v, List<String> aliases, boolean files) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("model", v.name());
    m.put("version", v.version());
    m.put("ref", v.ref().toString());
    m.put("status", v.status().name());
    m.put("createdAt", v.createdAt().toString());
    m.put("createdBy", v.createdBy());
    m.put("description", v.description());
    m.put("aliases", aliases);
    m.put("modelFile", v.modelFile());
    m.put("digest", v.digest());
    m.put("sizeBytes", v.sizeBytes());
    m.put("tags", new TreeMap<>(v.tags()));
    m.put("lineage", lineage(v.lineage()));
    m.put("hasInputExample", v.hasInputExample());
    m.put("signature", signature(v.signature()));
    if (files) {
      List<Object> fs = new ArrayList<>();
      for (ArtifactFile f : v.files()) {
        fs.add(file(f));
      }
      m.put("files", fs);
      List<Object> as = new ArrayList<>();
      for (ArtifactFile f : v.attachments()) {
        as.add(file(f));
      }
      m.put("attachments", as);
    }
    return m;
  }

  static Map<String, Object> file(ArtifactFile f) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("path", f.path());
    m.put("size", f.size());
    m.put("sha256", f.sha256());
    return m;
  }

  static Map<String, Object> lineage(Lineage l) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("runId", l.runId());
    m.put("dataset", l.dataset());
    m.put("metrics", new TreeMap<>(l.metrics()));
    return m;
  }

  static Map<String, Object> signature(ModelSignature s) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("inputs", specs(s.inputs()));
    m.put("outputs", specs(s.outputs()));
    return m;
  }

  private static List<Object> specs(List<TensorSpec> specs) {
    List<Object> out = new ArrayList<>();
    for (TensorSpec t : specs) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("name", t.name());
      m.put("type", t.type().onnxName());
      m.put("shape", t.shape());
      out.add(m);
    }
    return out;
  }

  static Map<String, Object> audit(AuditEntry e) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("time", e.time().toString());
    m.put("actor", e.actor());
    m.put("action", e.action().name());
    m.put("model", e.model());
    m.put("details", new TreeMap<>(e.details()));
    m.put("reason", e.reason());
    return m;
  }

  static Map<String, Object> aliasChange(AliasChange c) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("time", c.time().toString());
    m.put("actor", c.actor());
    m.put("model", c.model());
    m.put("alias", c.alias());
    m.put("from", c.fromVersion());
    m.put("to", c.toVersion());
    m.put("forced", c.forced());
    m.put("reason", c.reason());
    return m;
  }

  static Map<String, Object> rollout(Rollout r) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("model", r.model());
    m.put("alias", r.alias());
    m.put("id", r.id());
    m.put("state", r.state().name());
    m.put("stable", r.stable());
    m.put("candidate", r.candidate());
    m.put("weightPercent", r.weightPercent());
    m.put("shadowPercent", r.shadowPercent());
    m.put("steps", r.plan().steps().stream().map(b -> b / 100.0).toList());
    m.put("intervalSeconds", r.plan().interval().toMillis() / 1000.0);
    m.put("analysis", r.plan().analysis().isPresent());
    m.put("reason", r.reason());
    m.put("started", r.started().toString());
    m.put("updated", r.updated().toString());
    m.put("revision", r.revision());
    return m;
  }

  /** A signature on one line: {@code features:float32[?,30] -> probabilities:float32[?,2]}. */
  static String describe(ModelSignature s) {
    return join(s.inputs()) + " -> " + join(s.outputs());
  }

  private static String join(List<TensorSpec> specs) {
    List<String> parts = new ArrayList<>();
    for (TensorSpec t : specs) {
      parts.add(t.name() + ":" + t.describe());
    }
    return String.join(", ", parts);
  }
}
