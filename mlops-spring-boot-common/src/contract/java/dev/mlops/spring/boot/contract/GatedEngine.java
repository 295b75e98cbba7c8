package dev.mlops.spring.boot.contract;

import dev.mlops.api.ArtifactLocation;
import dev.mlops.api.ModelLoadException;
import dev.mlops.api.SessionOptions;
import dev.mlops.api.spi.InferenceEngine;
import dev.mlops.api.spi.ModelSession;
import dev.mlops.runtime.onnx.OnnxRuntimeEngine;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The real ONNX Runtime engine with a gate before each session opens, so that a test can hold a
 * load in progress (a resource-preserving swap's gap) or make every load fail.
 */
final class GatedEngine implements InferenceEngine {

  private final OnnxRuntimeEngine engine = OnnxRuntimeEngine.builder().build();
  private volatile CountDownLatch gate;
  private volatile boolean failing;
  private final java.util.concurrent.atomic.AtomicInteger failedOpens =
      new java.util.concurrent.atomic.AtomicInteger();

  /** Opens wait until {@link #release()}. */
  void hold() {
    gate = new CountDownLatch(1);
  }

  /** Lets every waiting and later open through. */
  void release() {
    CountDownLatch g = gate;
    gate = null;
    if (g != null) {
      g.countDown();
    }
  }

  /** Every later open fails. */
  void fail() {
    failing = true;
  }

  /** How many opens {@link #fail()} has failed. */
  int failedOpens() {
    return failedOpens.get();
  }

  private void pass() {
    CountDownLatch g = gate;
    if (g != null) {
      try {
        if (!g.await(20, TimeUnit.SECONDS)) {
          throw new ModelLoadException("the test's gate stayed closed for 20 s");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new ModelLoadException("interrupted at the test's gate", e);
      }
    }
    if (failing) {
      failedOpens.incrementAndGet();
      throw new ModelLoadException("the test makes every load fail");
    }
  }

  @Override
  public String name() {
    return engine.name();
  }

  @Override
  public ModelSession open(ArtifactLocation artifact) {
    pass();
    return engine.open(artifact);
  }

  @Override
  public ModelSession open(ArtifactLocation artifact, SessionOptions options) {
    pass();
    return engine.open(artifact, options);
  }

  @Override
  public void close() {
    release();
    engine.close();
  }
}
