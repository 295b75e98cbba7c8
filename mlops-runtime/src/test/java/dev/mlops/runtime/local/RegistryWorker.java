package dev.mlops.runtime.local;

import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.ConflictException;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.Registration;
import dev.mlops.runtime.registry.GovernedRegistry;
import dev.mlops.testmodels.TestModels;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * The child JVM of the multi-process and crash tests. It reports progress as lines on stdout (the
 * test's only channel back; the registry itself logs to stderr):
 *
 * <pre>
 * register ROOT MODEL COUNT ACTOR WORKDIR   READY, waits for GO on stdin, then REGISTERED n per version, DONE
 * cas ROOT MODEL ALIAS ATTEMPTS ACTOR MAXV  READY, waits for GO, then CAS ok=X conflicts=Y, DONE
 * loop ROOT MODEL WORKDIR JUNKFILES JUNKKB  READY, then REGISTERED n per version until killed
 * stall ROOT MODEL BYTES                    registers from a stream that blocks after BYTES: STAGING
 * </pre>
 *
 * <p>It halts itself when the test JVM goes away or after {@link #MAX_LIFETIME_S} seconds, so a
 * failed or aborted test never leaves it running.
 */
final class RegistryWorker {

  static final long MAX_LIFETIME_S = 120;

  private static final PrintStream OUT = System.out;

  private RegistryWorker() {}

  public static void main(String[] args) throws Exception {
    startWatchdog();
    Path root = Path.of(args[1]);
    String model = args[2];
    try (GovernedRegistry registry = LocalModelRegistry.open(root)) {
      switch (args[0]) {
        case "register":
          register(registry, model, Integer.parseInt(args[3]), args[4], Path.of(args[5]));
          break;
        case "cas":
          cas(
              registry,
              model,
              args[3],
              Integer.parseInt(args[4]),
              args[5],
              Long.parseLong(args[6]));
          break;
        case "loop":
          loop(
              registry,
              model,
              Path.of(args[3]),
              Integer.parseInt(args[4]),
              Integer.parseInt(args[5]));
          break;
        case "stall":
          stall(registry, model, Integer.parseInt(args[3]));
          break;
        default:
          throw new IllegalArgumentException("unknown mode " + args[0]);
      }
    }
    say("DONE");
  }

  private static void register(
      GovernedRegistry registry, String model, int count, String actor, Path workDir)
      throws IOException {
    Path file = TestModels.copy(TestModels.BREAST_CANCER_V1, workDir);
    awaitGo();
    for (int i = 0; i < count; i++) {
      ModelVersion v =
          registry.register(
              Registration.builder(model, ArtifactSource.file(file))
                  .tag("seq", Integer.toString(i))
                  .build(),
              AuditInfo.by(actor, "multi-process test"));
      say("REGISTERED " + v.version());
    }
  }

  private static void cas(
      GovernedRegistry registry,
      String model,
      String alias,
      int attempts,
      String actor,
      long maxVersion)
      throws IOException {
    awaitGo();
    int ok = 0;
    int conflicts = 0;
    for (int i = 0; i < attempts; i++) {
      long current = registry.aliases(model).getOrDefault(alias, 0L);
      long next = current % maxVersion + 1;
      try {
        registry.compareAndSetAlias(
            model, alias, current, next, AuditInfo.by(actor, casReason(current, next)));
        ok++;
      } catch (ConflictException e) {
        conflicts++;
      }
    }
    say("CAS ok=" + ok + " conflicts=" + conflicts);
  }

  /**
   * The audit reason of a compare-and-set, so the test can match what was expected with what was
   * replaced.
   */
  static String casReason(long expected, long next) {
    return "expected " + expected + ", set " + next;
  }

  private static void loop(
      GovernedRegistry registry, String model, Path workDir, int junkFiles, int junkKb)
      throws IOException {
    Path artifact = Files.createDirectories(workDir.resolve("artifact"));
    TestModels.copy(TestModels.BREAST_CANCER_V1, artifact);
    Random random = new Random(ProcessHandle.current().pid());
    byte[] junk = new byte[junkKb * 1024];
    for (int i = 0; i < junkFiles; i++) {
      random.nextBytes(junk);
      Files.write(
          Files.createDirectories(artifact.resolve("data")).resolve("weights-" + i + ".bin"), junk);
    }
    say("READY");
    for (int i = 0; ; i++) {
      ModelVersion v =
          registry.register(
              Registration.builder(
                      model, ArtifactSource.directory(artifact, TestModels.BREAST_CANCER_V1))
                  .tag("seq", Integer.toString(i))
                  .build(),
              AuditInfo.by("crasher", "crash test"));
      say("REGISTERED " + v.version());
    }
  }

  private static void stall(GovernedRegistry registry, String model, int bytes) {
    InputStream stalling =
        new InputStream() {
          private int left = bytes;

          @Override
          public int read() {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
          }

          @Override
          public int read(byte[] b, int off, int len) {
            if (left == 0) {
              say("STAGING");
              sleepForever();
              return -1;
            }
            int n = Math.min(len, left);
            java.util.Arrays.fill(b, off, off + n, (byte) 7);
            left -= n;
            return n;
          }
        };
    registry.register(
        Registration.builder(model, ArtifactSource.stream(stalling, "model.onnx")).build(),
        AuditInfo.by("staller", "crash test"));
    throw new IllegalStateException("the stalling registration returned");
  }

  private static void awaitGo() throws IOException {
    say("READY");
    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String line = in.readLine();
    if (!"GO".equals(line)) {
      throw new IllegalStateException("expected GO on stdin but read " + line);
    }
  }

  private static void say(String line) {
    synchronized (OUT) {
      OUT.println(line);
      OUT.flush();
    }
  }

  private static void sleepForever() {
    while (true) {
      try {
        TimeUnit.SECONDS.sleep(MAX_LIFETIME_S);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  private static void startWatchdog() {
    ProcessHandle.current()
        .parent()
        .ifPresent(parent -> parent.onExit().thenRun(() -> Runtime.getRuntime().halt(3)));
    Thread t =
        new Thread(
            () -> {
              try {
                TimeUnit.SECONDS.sleep(MAX_LIFETIME_S);
              } catch (InterruptedException e) {
                return;
              }
              System.err.println(
                  "RegistryWorker: still running after " + MAX_LIFETIME_S + " s; halting");
              Runtime.getRuntime().halt(4);
            },
            "worker-watchdog");
    t.setDaemon(true);
    t.start();
  }
}
