package dev.mlops.micronaut;

import dev.mlops.api.SessionOptions;

/**
 * ONNX Runtime session options as properties: {@code intra-op-threads}, {@code inter-op-threads},
 * {@code optimization-level} ({@code none, basic, extended, all}), {@code execution-mode} ({@code
 * sequential, parallel}) and {@code native-log-level} ({@code verbose, info, warning, error,
 * fatal}). Each one left unset keeps the value of the options it is applied to. Not thread-safe:
 * Micronaut fills it once at startup.
 */
public class SessionProperties {

  private Integer intraOpThreads;
  private Integer interOpThreads;
  private String optimizationLevel;
  private String executionMode;
  private String nativeLogLevel;

  /** Intra-op threads per session (0: ONNX Runtime chooses). */
  public void setIntraOpThreads(Integer threads) {
    this.intraOpThreads = threads;
  }

  /** Inter-op threads per session (0: ONNX Runtime chooses). */
  public void setInterOpThreads(Integer threads) {
    this.interOpThreads = threads;
  }

  /** Graph optimisation level. */
  public void setOptimizationLevel(String level) {
    this.optimizationLevel = level;
  }

  /** Execution mode. */
  public void setExecutionMode(String mode) {
    this.executionMode = mode;
  }

  /** The least severe native log line ONNX Runtime writes. */
  public void setNativeLogLevel(String level) {
    this.nativeLogLevel = level;
  }

  /** Whether any option is set. */
  boolean isSet() {
    return intraOpThreads != null
        || interOpThreads != null
        || optimizationLevel != null
        || executionMode != null
        || nativeLogLevel != null;
  }

  /**
   * These options applied over {@code base}.
   *
   * @param prefix the properties' prefix, for messages ({@code mlops.session})
   */
  SessionOptions applyTo(SessionOptions base, String prefix) {
    SessionOptions.Builder b = base.toBuilder();
    if (intraOpThreads != null) {
      b.intraOpThreads(
          (int) Settings.atLeast(prefix + ".intra-op-threads", intraOpThreads.longValue(), 0));
    }
    if (interOpThreads != null) {
      b.interOpThreads(
          (int) Settings.atLeast(prefix + ".inter-op-threads", interOpThreads.longValue(), 0));
    }
    if (optimizationLevel != null) {
      b.optimizationLevel(
          Settings.choice(
              prefix + ".optimization-level",
              optimizationLevel,
              SessionOptions.OptimizationLevel.class));
    }
    if (executionMode != null) {
      b.executionMode(
          Settings.choice(
              prefix + ".execution-mode", executionMode, SessionOptions.ExecutionMode.class));
    }
    if (nativeLogLevel != null) {
      b.nativeLogLevel(
          Settings.choice(
              prefix + ".native-log-level", nativeLogLevel, SessionOptions.LogLevel.class));
    }
    return b.build();
  }
}
