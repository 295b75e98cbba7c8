package dev.mlops.runtime;

import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.ClosedException;
import dev.mlops.api.Codecs;
import dev.mlops.api.Predictor;
import dev.mlops.api.Registration;
import dev.mlops.testmodels.TestModels;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * Child JVM for {@link ShutdownIT}: starts a runtime with {@code closeOnShutdown()}, keeps eight
 * threads calling it, and calls {@code System.exit(0)}. A shutdown hook registered after the
 * runtime's waits (bounded) for the runtime's hook to drain, then prints the session counts and how
 * the calls ended, for the parent to check.
 *
 * <p>Usage: {@code ShutdownHookChild <scratch directory>}.
 */
public final class ShutdownHookChild {

  private static final int CALLERS = 8;

  private ShutdownHookChild() {}

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    AuditInfo audit = AuditInfo.by("child", "shutdown test");
    Mlops mlops =
        Mlops.builder()
            .localRegistry(dir.resolve("registry"))
            .drainTimeout(Duration.ofSeconds(10))
            .closeOnShutdown()
            .build();
    mlops
        .registry()
        .register(
            Registration.builder(
                    "tiny",
                    ArtifactSource.file(TestModels.copy(TestModels.TINY, dir.resolve("src"))))
                .build(),
            audit);
    mlops.registry().setAlias("tiny", "production", 1, audit);
    Predictor<float[], float[]> p = mlops.predictor("models:/tiny@production", Codecs.floatRow());

    LongAdder ok = new LongAdder();
    LongAdder refused = new LongAdder();
    LongAdder other = new LongAdder();
    for (int t = 0; t < CALLERS; t++) {
      Thread th =
          new Thread(
              () -> {
                float[] x = {1f, 2f, 3f, 4f};
                for (; ; ) {
                  try {
                    p.predict(x);
                    ok.increment();
                  } catch (ClosedException e) {
                    refused.increment();
                    return;
                  } catch (RuntimeException | Error e) {
                    other.increment();
                    e.printStackTrace(System.out);
                    return;
                  }
                }
              },
              "child-caller-" + t);
      th.setDaemon(true);
      th.start();
    }

    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  // Hooks run concurrently, in no set order: wait for the runtime's hook to drain.
                  long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                  Mlops.SessionStats s = mlops.sessionStats();
                  while ((s.opened() != s.closed() || s.loaded() != 0)
                      && System.nanoTime() < deadline) {
                    try {
                      Thread.sleep(5);
                    } catch (InterruptedException e) {
                      Thread.currentThread().interrupt();
                      break;
                    }
                    s = mlops.sessionStats();
                  }
                  System.out.println(
                      "SESSIONS opened="
                          + s.opened()
                          + " closed="
                          + s.closed()
                          + " loaded="
                          + s.loaded());
                  System.out.println(
                      "CALLS ok="
                          + ok.sum()
                          + " refused="
                          + refused.sum()
                          + " other="
                          + other.sum());
                  System.out.flush();
                },
                "child-report"));

    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (ok.sum() < 10_000 && System.nanoTime() < deadline) {
      Thread.sleep(1);
    }
    System.out.println("EXITING after " + ok.sum() + " calls");
    System.out.flush();
    System.exit(0);
  }
}
