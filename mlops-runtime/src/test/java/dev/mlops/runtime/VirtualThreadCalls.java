package dev.mlops.runtime;

import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.Codecs;
import dev.mlops.api.Predictor;
import dev.mlops.api.Registration;
import dev.mlops.testmodels.TestModels;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The child JVM of {@link VirtualThreadIT}, run on a JDK 21 or newer: {@code calls} one-row
 * predictions, each on a new virtual thread (at most {@code inFlight} at once), sampling the live
 * direct buffers ({@link BufferPoolMXBean} {@code direct}) and the resident set as it goes. Prints
 * one {@code RESULT} line. Built for Java 17, so virtual threads are reached by reflection.
 *
 * <p>Usage: {@code VirtualThreadCalls <scratch directory> <calls> <inFlight>}.
 */
public final class VirtualThreadCalls {

  private VirtualThreadCalls() {}

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    int calls = Integer.parseInt(args[1]);
    int inFlight = Integer.parseInt(args[2]);
    ExecutorService virtual =
        (ExecutorService) Executors.class.getMethod("newVirtualThreadPerTaskExecutor").invoke(null);
    BufferPoolMXBean direct =
        ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
            .filter(b -> b.getName().equals("direct"))
            .findFirst()
            .orElseThrow();
    AtomicLong failures = new AtomicLong();
    AtomicLong done = new AtomicLong();
    AtomicLong virtualThreads = new AtomicLong();
    List<Long> rss = new ArrayList<>();
    long maxDirect;
    long directBefore;
    try (Mlops mlops = Mlops.builder().localRegistry(dir.resolve("registry")).build()) {
      Path model = TestModels.copy(TestModels.BREAST_CANCER_V1, dir.resolve("model.onnx"));
      mlops
          .registry()
          .register(
              Registration.builder("cancer", ArtifactSource.file(model)).build(),
              AuditInfo.by("test", "virtual threads"));
      try (Predictor<float[], float[]> p = mlops.predictor("models:/cancer/1", Codecs.floatRow())) {
        p.predict(new float[30]); // loaded and warm before the count starts
        directBefore = direct.getCount();
        maxDirect = directBefore;
        Semaphore room = new Semaphore(inFlight);
        for (int i = 0; i < calls; i++) {
          room.acquire();
          float[] row = new float[30];
          row[i % 30] = i % 7;
          virtual.execute(
              () -> {
                try {
                  if (isVirtual(Thread.currentThread())) {
                    virtualThreads.incrementAndGet();
                  }
                  if (p.predict(row).value().length != 2) {
                    failures.incrementAndGet();
                  }
                } catch (RuntimeException e) {
                  failures.incrementAndGet();
                } finally {
                  done.incrementAndGet();
                  room.release();
                }
              });
          if (i % 1_000 == 0) {
            maxDirect = Math.max(maxDirect, direct.getCount());
          }
          if ((i + 1) % (calls / 10) == 0) {
            rss.add(rssKiB());
          }
        }
        virtual.shutdown();
        if (!virtual.awaitTermination(5, TimeUnit.MINUTES)) {
          throw new IllegalStateException("calls still running after 5 minutes");
        }
        maxDirect = Math.max(maxDirect, direct.getCount());
      }
    }
    System.out.println(
        "RESULT calls="
            + done.get()
            + " virtual="
            + virtualThreads.get()
            + " failures="
            + failures.get()
            + " directBefore="
            + directBefore
            + " directMax="
            + maxDirect
            + " rssKiB="
            + rss);
  }

  private static boolean isVirtual(Thread t) {
    try {
      return (Boolean) Thread.class.getMethod("isVirtual").invoke(t);
    } catch (ReflectiveOperationException e) {
      return false;
    }
  }

  private static long rssKiB() throws java.io.IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    return -1;
  }
}
