package dev.mlops.spring.boot;

import dev.mlops.api.spi.InferenceEngine;
import dev.mlops.runtime.Mlops;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

/**
 * Closes the mlops runtime when the application stops, after the web server has drained its
 * requests and stopped: {@link #PHASE} is below both the web server's graceful-shutdown phase
 * ({@code SmartLifecycle.DEFAULT_PHASE - 1024}) and its stop phase ({@code DEFAULT_PHASE - 2048}),
 * and Spring stops higher phases first. Closing the runtime stops new loads, closes the predictors,
 * waits for calls in flight, and terminates a load still in progress (its warm-up run in ONNX
 * Runtime) before closing the engine, so a swap that was loading when shutdown began ends without a
 * session left open.
 *
 * <p>ONNX Runtime's own JVM shutdown hook, which frees its native environment and could race a load
 * (onnxruntime#31352), is made harmless by the engine ({@code OnnxRuntimeEngine} holds a reference
 * of its own on that environment); this lifecycle adds the orderly close before it.
 */
public final class MlopsLifecycle implements SmartLifecycle {

  /** The phase: {@code SmartLifecycle.DEFAULT_PHASE - 4096}. */
  public static final int PHASE = SmartLifecycle.DEFAULT_PHASE - 4096;

  private static final Logger LOG = LoggerFactory.getLogger(MlopsLifecycle.class);

  private final Mlops mlops;
  private final InferenceEngine ownEngine;
  private volatile boolean running;

  /**
   * A lifecycle for a runtime.
   *
   * @param mlops the runtime to close
   * @param ownEngine an engine to close after it (the one the auto-configuration made), or null
   */
  public MlopsLifecycle(Mlops mlops, InferenceEngine ownEngine) {
    this.mlops = Objects.requireNonNull(mlops, "mlops");
    this.ownEngine = ownEngine;
  }

  @Override
  public void start() {
    running = true;
  }

  @Override
  public void stop() {
    running = false;
    long t0 = System.nanoTime();
    mlops.close();
    if (ownEngine != null) {
      ownEngine.close();
    }
    LOG.info(
        "mlops runtime closed in {} ms after the application stopped taking requests",
        (System.nanoTime() - t0) / 1_000_000);
  }

  @Override
  public boolean isRunning() {
    return running;
  }

  @Override
  public int getPhase() {
    return PHASE;
  }
}
