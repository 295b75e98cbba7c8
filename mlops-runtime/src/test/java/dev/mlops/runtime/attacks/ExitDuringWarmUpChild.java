package dev.mlops.runtime.attacks;

import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.Codecs;
import dev.mlops.api.ModelRef;
import dev.mlops.api.Registration;
import dev.mlops.runtime.Mlops;
import dev.mlops.runtime.testing.Graphs;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Child JVM for {@link Finding07ExitDuringWarmUpIT}: registers {@code loop-forever.onnx}, starts
 * loading it on a thread of its own with a one-hour warm-up deadline, waits until the load is in
 * flight and its warm-up inside ONNX Runtime, and calls {@code System.exit(0)}. Prints {@code
 * EXITING} first and, from the load thread, {@code LOAD ENDED <exception>} if the load ends before
 * the process does.
 *
 * <p>Usage: {@code ExitDuringWarmUpChild <scratch directory> <close-on-shutdown|plain>}.
 */
public final class ExitDuringWarmUpChild {

  private ExitDuringWarmUpChild() {}

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    Mlops.Builder b =
        Mlops.builder().localRegistry(dir.resolve("registry")).warmUpDeadline(Duration.ofHours(1));
    if (args[1].equals("close-on-shutdown")) {
      b.closeOnShutdown();
    }
    Mlops mlops = b.build();
    Path model = Graphs.copy("loop-forever.onnx", dir.resolve("src"));
    mlops
        .registry()
        .register(
            Registration.builder("loop", ArtifactSource.file(model)).build(),
            AuditInfo.by("child", "exit during warm-up"));
    Thread loader =
        new Thread(
            () -> {
              try {
                mlops.newPredictor(ModelRef.parse("models:/loop/1"), Codecs.floatRow()).build();
                System.out.println("LOAD ENDED without an error");
              } catch (RuntimeException e) {
                System.out.println("LOAD ENDED " + e);
              }
              System.out.flush();
            },
            "loader");
    loader.start();
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (mlops.state().loading().isEmpty() && System.nanoTime() < until) {
      Thread.sleep(1);
    }
    // The load is in flight; give its warm-up time to be deep inside the Loop.
    Thread.sleep(500);
    System.out.println("EXITING with " + mlops.state().loading().size() + " load(s) in flight");
    System.out.flush();
    System.exit(0);
  }
}
