package dev.mlops.api;

import java.util.Objects;

/**
 * How the engine runs one loaded model: its thread counts, graph optimisation, execution mode and
 * how much the native engine logs. Set on the runtime for every model ({@code
 * Mlops.builder().sessionOptions(...)}) and overridable per predictor; two predictors with
 * different options on one version load a session each. Immutable and thread-safe.
 *
 * <p>The defaults ({@link #DEFAULTS}) suit a service where many callers share few cores: one
 * intra-op and one inter-op thread per session, every graph optimisation, sequential execution,
 * native log level {@link LogLevel#WARNING}. Give a large model that few callers share more
 * intra-op threads.
 *
 * @param intraOpThreads threads inside one operator; 0 lets the engine choose (one per core)
 * @param interOpThreads threads across operators in {@link ExecutionMode#PARALLEL} mode; 0 lets the
 *     engine choose
 * @param optimizationLevel graph optimisations applied when the session is created
 * @param executionMode whether independent operators may run at the same time
 * @param nativeLogLevel the least severe native log line the engine writes (to stderr, where the
 *     engine cannot hand its lines to SLF4J)
 */
public record SessionOptions(
    int intraOpThreads,
    int interOpThreads,
    OptimizationLevel optimizationLevel,
    ExecutionMode executionMode,
    LogLevel nativeLogLevel) {

  /**
   * One intra-op and one inter-op thread, all optimisations, sequential, native log level WARNING.
   */
  public static final SessionOptions DEFAULTS =
      new SessionOptions(1, 1, OptimizationLevel.ALL, ExecutionMode.SEQUENTIAL, LogLevel.WARNING);

  /** Validates. */
  public SessionOptions {
    if (intraOpThreads < 0) {
      throw new IllegalArgumentException(
          "intraOpThreads must be >= 0 (0: the engine chooses) but was " + intraOpThreads);
    }
    if (interOpThreads < 0) {
      throw new IllegalArgumentException(
          "interOpThreads must be >= 0 (0: the engine chooses) but was " + interOpThreads);
    }
    Objects.requireNonNull(optimizationLevel, "optimizationLevel");
    Objects.requireNonNull(executionMode, "executionMode");
    Objects.requireNonNull(nativeLogLevel, "nativeLogLevel");
  }

  /** A builder starting from {@link #DEFAULTS}. */
  public static Builder builder() {
    return new Builder(DEFAULTS);
  }

  /** A builder starting from these options, to change a few of them. */
  public Builder toBuilder() {
    return new Builder(this);
  }

  /** Graph optimisations, from none to all (ONNX Runtime's levels). */
  public enum OptimizationLevel {
    /** No graph optimisation. */
    NONE,
    /** Semantics-preserving rewrites such as constant folding and redundant-node removal. */
    BASIC,
    /** Basic plus node fusions. */
    EXTENDED,
    /** Every optimisation, including layout changes. */
    ALL
  }

  /** Whether independent operators of one run may execute at the same time. */
  public enum ExecutionMode {
    /** One operator at a time (intra-op threads still apply inside each). */
    SEQUENTIAL,
    /** Independent branches of the graph run at the same time on the inter-op threads. */
    PARALLEL
  }

  /** Severity of native engine log lines, least severe first. */
  public enum LogLevel {
    /** Everything, for debugging the engine. */
    VERBOSE,
    /** Informational lines and above. */
    INFO,
    /** Warnings and above. */
    WARNING,
    /** Errors and above. */
    ERROR,
    /** Only fatal errors. */
    FATAL
  }

  /** Builder for {@link SessionOptions}. Not thread-safe. */
  public static final class Builder {
    private int intraOpThreads;
    private int interOpThreads;
    private OptimizationLevel optimizationLevel;
    private ExecutionMode executionMode;
    private LogLevel nativeLogLevel;

    private Builder(SessionOptions from) {
      this.intraOpThreads = from.intraOpThreads;
      this.interOpThreads = from.interOpThreads;
      this.optimizationLevel = from.optimizationLevel;
      this.executionMode = from.executionMode;
      this.nativeLogLevel = from.nativeLogLevel;
    }

    /** Threads inside one operator (default 1; 0 lets the engine choose). */
    public Builder intraOpThreads(int threads) {
      this.intraOpThreads = threads;
      return this;
    }

    /** Threads across operators in parallel mode (default 1; 0 lets the engine choose). */
    public Builder interOpThreads(int threads) {
      this.interOpThreads = threads;
      return this;
    }

    /** Graph optimisation level (default {@link OptimizationLevel#ALL}). */
    public Builder optimizationLevel(OptimizationLevel level) {
      this.optimizationLevel = Objects.requireNonNull(level, "level");
      return this;
    }

    /** Execution mode (default {@link ExecutionMode#SEQUENTIAL}). */
    public Builder executionMode(ExecutionMode mode) {
      this.executionMode = Objects.requireNonNull(mode, "mode");
      return this;
    }

    /** Least severe native log line written (default {@link LogLevel#WARNING}). */
    public Builder nativeLogLevel(LogLevel level) {
      this.nativeLogLevel = Objects.requireNonNull(level, "level");
      return this;
    }

    /**
     * Builds the options.
     *
     * @throws IllegalArgumentException if a thread count is negative
     */
    public SessionOptions build() {
      return new SessionOptions(
          intraOpThreads, interOpThreads, optimizationLevel, executionMode, nativeLogLevel);
    }
  }
}
