package dev.mlops.runtime.onnx;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.mlops.api.ArtifactLocation;
import dev.mlops.api.ElementType;
import dev.mlops.api.ModelLoadException;
import dev.mlops.api.ModelSignature;
import dev.mlops.api.TensorSpec;
import dev.mlops.api.UnsafeModelException;
import dev.mlops.api.spi.InferenceEngine;
import dev.mlops.api.spi.ModelSession;
import dev.mlops.runtime.security.ExternalDataGuard;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The ONNX Runtime engine. Uses the process-wide {@link OrtEnvironment} (ONNX Runtime allows one
 * per process) and creates every session from a verified file path, after {@link
 * ExternalDataGuard} has checked that the model's external data stays among the artifact's files
 * (an {@link dev.mlops.api.UnsafeModelException} otherwise).
 *
 * <p>Thread-safe. By default each session runs with one intra-op and one inter-op thread, so
 * that many concurrent callers do not oversubscribe the cores; raise it with {@link
 * Builder#intraOpThreads(int)} for large models served to few callers.
 */
public final class OnnxRuntimeEngine implements InferenceEngine {

  private final OrtEnvironment env;
  private final int intraOpThreads;
  private final int interOpThreads;
  private final OrtSession.SessionOptions.OptLevel optLevel;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final java.util.concurrent.ScheduledExecutorService givenDeadlines;
  private volatile java.util.concurrent.ScheduledExecutorService ownDeadlines;

  private OnnxRuntimeEngine(Builder b) {
    this.env = OrtEnvironment.getEnvironment();
    this.intraOpThreads = b.intraOpThreads;
    this.interOpThreads = b.interOpThreads;
    this.optLevel = b.optLevel;
    this.givenDeadlines = b.deadlines;
  }

  /** Terminates runs at their deadline: the builder's scheduler, or one daemon thread made on first use. */
  java.util.concurrent.ScheduledExecutorService deadlines() {
    if (givenDeadlines != null) {
      return givenDeadlines;
    }
    java.util.concurrent.ScheduledExecutorService s = ownDeadlines;
    if (s == null) {
      synchronized (this) {
        s = ownDeadlines;
        if (s == null) {
          java.util.concurrent.ScheduledThreadPoolExecutor pool = new java.util.concurrent.ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "mlops-onnx-deadlines");
            t.setDaemon(true);
            return t;
          });
          pool.setRemoveOnCancelPolicy(true);
          ownDeadlines = s = pool;
        }
      }
    }
    return s;
  }

  /** An engine with default settings; also what {@link java.util.ServiceLoader} creates. */
  public OnnxRuntimeEngine() {
    this(new Builder());
  }

  /** Starts a builder. */
  public static Builder builder() {
    return new Builder();
  }

  @Override
  public String name() {
    return "onnxruntime";
  }

  @Override
  public ModelSession open(ArtifactLocation artifact) {
    if (closed.get()) {
      throw new dev.mlops.api.ClosedException("the ONNX Runtime engine is closed");
    }
    // Before ONNX Runtime reads a byte: refuse external data outside the artifact's own files.
    // A file the check cannot parse is left to ONNX Runtime's parser, whose error says more;
    // should that parser accept it anyway, the unchecked model is refused below.
    ModelLoadException unchecked = null;
    try {
      ExternalDataGuard.check(artifact);
    } catch (UnsafeModelException e) {
      throw e;
    } catch (ModelLoadException e) {
      unchecked = e;
    }
    String file = artifact.modelFile().toString();
    OrtSession session = null;
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
      options.setIntraOpNumThreads(intraOpThreads);
      options.setInterOpNumThreads(interOpThreads);
      options.setOptimizationLevel(optLevel);
      session = env.createSession(file, options);
      if (unchecked != null) {
        throw unchecked;
      }
      ModelSignature signature =
          new ModelSignature(specs(file, "input", session.getInputInfo()), specs(file, "output", session.getOutputInfo()));
      return new OnnxSession(this, env, session, signature);
    } catch (OrtException | RuntimeException e) {
      if (session != null) {
        closeQuietly(session);
      }
      if (e instanceof ModelLoadException) {
        throw new ModelLoadException("cannot load " + file + ": " + e.getMessage(), e);
      }
      throw new ModelLoadException(
          "ONNX Runtime cannot load " + file + ": expected a valid ONNX model but " + e.getMessage(), e);
    }
  }

  private static List<TensorSpec> specs(String file, String kind, Map<String, NodeInfo> infos) {
    List<TensorSpec> out = new ArrayList<>(infos.size());
    for (NodeInfo node : infos.values()) {
      if (!(node.getInfo() instanceof TensorInfo)) {
        throw new ModelLoadException(
            "model "
                + file
                + " has "
                + kind
                + " '"
                + node.getName()
                + "' of kind "
                + node.getInfo()
                + "; only tensor inputs and outputs are supported (export scikit-learn classifiers with zipmap=False)");
      }
      TensorInfo info = (TensorInfo) node.getInfo();
      out.add(TensorSpec.of(node.getName(), TensorConversions.elementType(info, node.getName()), dims(info.getShape())));
    }
    return out;
  }

  private static long[] dims(long[] shape) {
    long[] d = shape.clone();
    for (int i = 0; i < d.length; i++) {
      if (d[i] < 0) {
        d[i] = TensorSpec.DYNAMIC;
      }
    }
    return d;
  }

  static void closeQuietly(OrtSession session) {
    try {
      session.close();
    } catch (OrtException | RuntimeException ignored) {
      // Closing a half-built session can fail again; the load failure is what the caller needs.
    }
  }

  /**
   * Does not close the process-wide ONNX Runtime environment (other engines in the same process
   * may share it); marks the engine closed so it opens no new sessions.
   */
  @Override
  public void close() {
    closed.set(true);
    java.util.concurrent.ScheduledExecutorService s = ownDeadlines;
    if (s != null) {
      s.shutdownNow();
    }
  }

  @Override
  public String toString() {
    return "OnnxRuntimeEngine[intraOp=" + intraOpThreads + ", interOp=" + interOpThreads + ", opt=" + optLevel + "]";
  }

  /** Element types this engine can exchange with Java, for documentation and tests. */
  public static List<ElementType> supportedElementTypes() {
    return List.of(ElementType.values());
  }

  /** Builder for {@link OnnxRuntimeEngine}. Not thread-safe. */
  public static final class Builder {
    private int intraOpThreads = 1;
    private int interOpThreads = 1;
    private OrtSession.SessionOptions.OptLevel optLevel = OrtSession.SessionOptions.OptLevel.ALL_OPT;
    private java.util.concurrent.ScheduledExecutorService deadlines;

    private Builder() {}

    /** Threads ONNX Runtime uses inside one operator (default 1; 0 lets ONNX Runtime choose). */
    public Builder intraOpThreads(int threads) {
      if (threads < 0) {
        throw new IllegalArgumentException("intraOpThreads must be >= 0 but was " + threads);
      }
      this.intraOpThreads = threads;
      return this;
    }

    /** Threads ONNX Runtime uses across operators (default 1; 0 lets ONNX Runtime choose). */
    public Builder interOpThreads(int threads) {
      if (threads < 0) {
        throw new IllegalArgumentException("interOpThreads must be >= 0 but was " + threads);
      }
      this.interOpThreads = threads;
      return this;
    }

    /** Graph optimisation level (default: all optimisations). */
    public Builder optimizationLevel(OrtSession.SessionOptions.OptLevel level) {
      this.optLevel = java.util.Objects.requireNonNull(level, "level");
      return this;
    }

    /**
     * Scheduler that terminates runs at their deadline (default: one daemon thread, made on the
     * first call with a deadline and stopped by {@link OnnxRuntimeEngine#close()}). The caller
     * owns a scheduler given here.
     */
    public Builder deadlineScheduler(java.util.concurrent.ScheduledExecutorService scheduler) {
      this.deadlines = java.util.Objects.requireNonNull(scheduler, "scheduler");
      return this;
    }

    /** Builds the engine. */
    public OnnxRuntimeEngine build() {
      return new OnnxRuntimeEngine(this);
    }
  }
}
