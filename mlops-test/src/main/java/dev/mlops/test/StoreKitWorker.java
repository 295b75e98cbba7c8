package dev.mlops.test;

import dev.mlops.api.ModelVersion;
import dev.mlops.api.spi.ModelStore;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * The child JVM of {@link ModelStoreCompatibilityKit}'s process checks. Its first two arguments
 * name a {@link ModelStoreCompatibilityKit.StoreFactory} class and the location it opens; then:
 *
 * <pre>
 * insert MODEL COUNT ACTOR   READY, waits for GO on stdin, then INSERTED n per version, DONE
 * loop MODEL ACTOR BYTES     READY, then INSERTED n per version (side files of BYTES each) until killed
 * rollout MODEL ALIAS EXPECTED ACTOR  writes the sample rollout record at EXPECTED + 1, then
 *                            ROLLOUT n (its new revision) or REFUSED, DONE
 * </pre>
 *
 * <p>Stdout is the parent's only channel back, so the worker writes its protocol lines there and
 * nothing else. It halts itself when the parent JVM goes away or after {@link #MAX_LIFETIME_S}
 * seconds, so a failed or aborted check never leaves it running.
 */
final class StoreKitWorker {

  static final long MAX_LIFETIME_S = 300;

  /** Side files of this many bytes each in {@code insert} mode. */
  static final int SMALL_SIDE_FILES = 1024;

  private static final PrintStream OUT = System.out;

  private StoreKitWorker() {}

  public static void main(String[] args) throws Exception {
    startWatchdog();
    ModelStoreCompatibilityKit.StoreFactory factory =
        (ModelStoreCompatibilityKit.StoreFactory)
            Class.forName(args[0]).getDeclaredConstructor().newInstance();
    try (ModelStore store = factory.open(args[1])) {
      String model = args[3];
      switch (args[2]) {
        case "insert":
          insert(store, model, Integer.parseInt(args[4]), args[5]);
          break;
        case "loop":
          loop(store, model, args[4], Integer.parseInt(args[5]));
          break;
        case "rollout":
          rollout(store, model, args[4], Long.parseLong(args[5]), args[6]);
          break;
        default:
          throw new IllegalArgumentException("unknown mode " + args[2]);
      }
    }
    say("DONE");
  }

  private static void insert(ModelStore store, String model, int count, String actor)
      throws IOException {
    say("READY");
    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String line = in.readLine();
    if (!"GO".equals(line)) {
      throw new IllegalStateException("expected GO on stdin but read " + line);
    }
    for (int i = 0; i < count; i++) {
      ModelVersion v =
          store.insertVersion(
              model,
              n ->
                  StoreSamples.newVersion(
                      model, n, actor, StoreSamples.sideFiles(n, SMALL_SIDE_FILES)));
      say("INSERTED " + v.version());
    }
  }

  private static void loop(ModelStore store, String model, String actor, int bytes) {
    say("READY");
    while (true) {
      ModelVersion v =
          store.insertVersion(
              model,
              n -> StoreSamples.newVersion(model, n, actor, StoreSamples.sideFiles(n, bytes)));
      say("INSERTED " + v.version());
    }
  }

  private static void rollout(
      ModelStore store, String model, String alias, long expected, String actor) {
    java.util.OptionalLong revision =
        store.compareAndSetRollout(
            model,
            alias,
            expected,
            StoreSamples.rolloutRecord(model, alias, expected + 1, actor),
            StoreSamples.rolloutWritten(model, alias, expected + 1, actor));
    say(revision.isPresent() ? "ROLLOUT " + revision.getAsLong() : "REFUSED");
  }

  private static void say(String line) {
    synchronized (OUT) {
      OUT.println(line);
      OUT.flush();
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
                  "StoreKitWorker: still running after " + MAX_LIFETIME_S + " s; halting");
              Runtime.getRuntime().halt(4);
            },
            "kit-worker-watchdog");
    t.setDaemon(true);
    t.start();
  }
}
