package dev.mlops.metrics.drift;

import dev.mlops.api.ModelVersion;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The monitoring state of one model version: a row-major ring buffer of the last {@code window}
 * rows (one float per column: the features, then the prediction if monitored), the baseline of each
 * column, and the alarm state. Rows are written under this object's monitor; evaluations are
 * serialised by {@link #evaluation}.
 */
final class MonitoredVersion {

  final ModelVersion modelVersion;
  final String model;
  final long version;
  final long sequence;

  /** Why this version is not monitored, or null if it is. */
  final String disabledReason;

  final String input;
  final int features;

  /** The monitored output, or null if the prediction is not monitored. */
  final String output;

  final List<String> columnNames;

  /** One per column; null where the baseline has no (usable) entry. */
  final DriftBaseline.Feature[] baseline;

  final int columns;
  final int window;

  // Guarded by "this".
  final float[] ring;
  int next;
  int size;
  long observed;
  int sinceEvaluation;

  final ReentrantLock evaluation = new ReentrantLock();
  // Guarded by "evaluation".
  final boolean[][] alarmed;
  final DriftAlarm[][] active;

  volatile DriftStats[] lastByColumn;
  final AtomicBoolean warned = new AtomicBoolean();

  MonitoredVersion(
      ModelVersion modelVersion,
      long sequence,
      String input,
      int features,
      String output,
      List<String> columnNames,
      DriftBaseline.Feature[] baseline,
      int window) {
    this.modelVersion = modelVersion;
    this.model = modelVersion.name();
    this.version = modelVersion.version();
    this.sequence = sequence;
    this.disabledReason = null;
    this.input = input;
    this.features = features;
    this.output = output;
    this.columnNames = List.copyOf(columnNames);
    this.baseline = baseline;
    this.columns = columnNames.size();
    this.window = window;
    this.ring = new float[Math.multiplyExact(window, columns)];
    this.alarmed = new boolean[columns][DriftMetric.values().length];
    this.active = new DriftAlarm[columns][DriftMetric.values().length];
    this.lastByColumn = new DriftStats[columns];
  }

  /** A version that is seen but not monitored. */
  MonitoredVersion(ModelVersion modelVersion, long sequence, String disabledReason) {
    this.modelVersion = modelVersion;
    this.model = modelVersion.name();
    this.version = modelVersion.version();
    this.sequence = sequence;
    this.disabledReason = disabledReason;
    this.input = null;
    this.features = 0;
    this.output = null;
    this.columnNames = List.of();
    this.baseline = new DriftBaseline.Feature[0];
    this.columns = 0;
    this.window = 0;
    this.ring = new float[0];
    this.alarmed = new boolean[0][];
    this.active = new DriftAlarm[0][];
    this.lastByColumn = new DriftStats[0];
  }

  boolean disabled() {
    return disabledReason != null;
  }
}
