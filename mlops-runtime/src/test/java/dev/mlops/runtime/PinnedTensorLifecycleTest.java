package dev.mlops.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mlops.api.ClosedException;
import dev.mlops.api.Codecs;
import dev.mlops.api.Predictor;
import dev.mlops.runtime.onnx.OnnxRuntimeEngine;
import dev.mlops.testmodels.TestModels;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pinned input tensors on real sessions: each is closed exactly once per session, through hot
 * swaps, cache evictions and a runtime closed with calls in flight; none is closed under a run (no
 * call fails except those refused because the runtime closed).
 */
class PinnedTensorLifecycleTest {

  @TempDir Path tmp;

  @Test
  void everyPinnedTensorIsClosedOnceThroughSwapsEvictionsAndACloseWithCallsInFlight()
      throws Exception {
    OnnxRuntimeEngine engine = OnnxRuntimeEngine.builder().build();
    AtomicBoolean stop = new AtomicBoolean();
    AtomicLong calls = new AtomicLong();
    AtomicLong closedRefusals = new AtomicLong();
    AtomicLong otherFailures = new AtomicLong();
    List<Thread> callers = new ArrayList<>();
    try {
      Mlops mlops =
          Mlops.builder()
              .localRegistry(tmp.resolve("registry"))
              .engine(engine)
              // Room for one classifier: every swap evicts the version swapped from.
              .sessionCacheBudget(1)
              .build();
      HotSwapFixtures.register(mlops, "cancer", TestModels.BREAST_CANCER_V1, tmp);
      HotSwapFixtures.register(mlops, "cancer", TestModels.BREAST_CANCER_V2, tmp);
      mlops.registry().setAlias("cancer", "production", 1, HotSwapFixtures.OPS);
      Predictor<float[], float[]> p =
          mlops.predictor("models:/cancer@production", Codecs.floatRow());
      for (int t = 0; t < 8; t++) {
        Thread caller =
            new Thread(
                () -> {
                  float[] row = new float[30];
                  while (!stop.get()) {
                    try {
                      p.predict(row);
                      calls.incrementAndGet();
                    } catch (ClosedException e) {
                      closedRefusals.incrementAndGet();
                    } catch (RuntimeException e) {
                      otherFailures.incrementAndGet();
                    }
                  }
                },
                "caller-" + t);
        callers.add(caller);
        caller.start();
      }
      for (int i = 0; i < 6; i++) {
        long to = i % 2 == 0 ? 2 : 1;
        mlops.registry().setAlias("cancer", "production", to, HotSwapFixtures.OPS);
        HotSwapFixtures.awaitServing(p, to);
        long before = calls.get();
        HotSwapFixtures.await(
            () -> calls.get() > before + 1_000, Duration.ofSeconds(20), "calls on v" + to);
      }
      // Evicted sessions close on the runtime's closer thread, soon after their last call.
      HotSwapFixtures.await(
          () -> mlops.sessionStats().closed() >= 6, Duration.ofSeconds(20), "6 sessions closed");
      OnnxRuntimeEngine.PinnedTensors during = engine.pinnedTensors();
      // Sessions of evicted versions closed their tensors; the serving one keeps its pool.
      assertThat(during.made()).isPositive();
      assertThat(during.closed()).isPositive().isLessThan(during.made());
      mlops.close(); // the callers are still calling
      stop.set(true);
      HotSwapFixtures.joinAll(callers, Duration.ofSeconds(30));
      OnnxRuntimeEngine.PinnedTensors after = engine.pinnedTensors();
      assertThat(mlops.sessionStats().opened()).isEqualTo(mlops.sessionStats().closed());
      assertThat(after.closed()).isEqualTo(after.made());
      // A pool per session and input, refilled per call: tensors are made per session, not per
      // call.
      long sessions = mlops.sessionStats().opened();
      long slots = Math.max(8, 2L * Runtime.getRuntime().availableProcessors());
      assertThat(after.made()).isLessThanOrEqualTo(sessions * 2 * slots);
      assertThat(after.made()).isLessThan(calls.get() / 100);
      assertThat(otherFailures.get()).isZero();
      assertThat(calls.get()).isGreaterThan(6_000);
    } finally {
      stop.set(true);
      for (Thread t : callers) {
        t.join(30_000);
      }
      engine.close();
    }
  }
}
