package dev.mlops.api;

import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Where a model version came from: the training run, the data set it learnt from and the metrics
 * the run reported. All fields are free text chosen by the team; empty strings and an empty map
 * mean "not recorded".
 *
 * @param runId identifier of the training run (an experiment tracker's run id, a CI job)
 * @param dataset reference to the training data (a path, a URI, a table and snapshot)
 * @param metrics metrics reported by the run, such as {@code accuracy=0.97}
 */
public record Lineage(String runId, String dataset, Map<String, Double> metrics) {

  /** Lineage with nothing recorded. */
  public static final Lineage NONE = new Lineage("", "", Map.of());

  /** Validates and copies (sorted by key). */
  public Lineage {
    Objects.requireNonNull(runId, "runId");
    Objects.requireNonNull(dataset, "dataset");
    metrics = java.util.Collections.unmodifiableMap(new TreeMap<>(metrics));
  }
}
