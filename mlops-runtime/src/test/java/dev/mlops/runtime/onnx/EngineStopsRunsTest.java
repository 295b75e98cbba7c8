package dev.mlops.runtime.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mlops.api.ArtifactLocation;
import dev.mlops.api.ClosedException;
import dev.mlops.api.PredictionTimeoutException;
import dev.mlops.api.Tensor;
import dev.mlops.api.spi.ModelSession;
import dev.mlops.runtime.testing.Graphs;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The engine terminates the runs in progress on its sessions when it closes and waits for them to
 * leave ONNX Runtime: runs with and without a deadline of {@code loop-forever.onnx}, which never
 * ends by itself; it holds a reference on ONNX Runtime's environment.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class EngineStopsRunsTest {

  private static final Map<String, Tensor> X = Map.of("x", Tensor.ofFloats(new float[] {1}, 1));

  @TempDir Path tmp;

  @Test
  void closeTerminatesRunsWithAndWithoutADeadlineAndWaitsForThem() throws Exception {
    Path model = Graphs.copy("loop-forever.onnx", tmp);
    OnnxRuntimeEngine engine = new OnnxRuntimeEngine();
    ModelSession session = engine.open(new ArtifactLocation(tmp, model));
    List<Throwable> ended = new CopyOnWriteArrayList<>();
    Thread plain = runner(() -> session.run(X), ended, "plain");
    Thread timed =
        runner(() -> session.run(X, Set.of("y"), Duration.ofHours(1)), ended, "with-deadline");
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (engine.runsInProgress() < 2 && System.nanoTime() < until) {
      Thread.sleep(1);
    }
    assertThat(engine.runsInProgress()).as("runs in progress").isEqualTo(2);

    engine.close();

    assertThat(engine.runsInProgress()).as("runs in progress after close").isZero();
    plain.join(TimeUnit.SECONDS.toMillis(30));
    timed.join(TimeUnit.SECONDS.toMillis(30));
    assertThat(ended)
        .hasSize(2)
        .allSatisfy(
            e ->
                assertThat(e)
                    .isInstanceOf(ClosedException.class)
                    .hasMessage(
                        "the ONNX Runtime run was terminated: the ONNX Runtime engine is closing"));
    assertThatThrownBy(() -> session.run(X))
        .isInstanceOf(ClosedException.class)
        .hasMessageContaining("refuses new runs");
    session.close();
    assertThat(NativeRuns.environmentHeld()).as("reference on the environment").isTrue();
  }

  @Test
  void aDeadlineStillEndsARunOfTheLoopAsATimeout() {
    Path model = Graphs.copy("loop-forever.onnx", tmp);
    try (OnnxRuntimeEngine engine = new OnnxRuntimeEngine();
        ModelSession session = engine.open(new ArtifactLocation(tmp, model))) {
      assertThatThrownBy(() -> session.run(X, Set.of("y"), Duration.ofMillis(100)))
          .isInstanceOf(PredictionTimeoutException.class)
          .hasMessageContaining("deadline of PT0.1S");
      assertThat(engine.runsInProgress()).isZero();
    }
  }

  private static Thread runner(Runnable run, List<Throwable> ended, String name) {
    Thread t =
        new Thread(
            () -> {
              try {
                run.run();
                ended.add(new AssertionError("the run of the Loop returned"));
              } catch (Throwable e) {
                ended.add(e);
              }
            },
            name);
    t.start();
    return t;
  }
}
