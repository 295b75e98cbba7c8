package dev.mlops.registry.postgres;

import dev.mlops.api.AuditAction;
import dev.mlops.api.AuditDetails;
import dev.mlops.api.AuditEntry;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.AuditQuery;
import dev.mlops.api.Codecs;
import dev.mlops.api.ConflictException;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.Prediction;
import dev.mlops.api.Predictor;
import dev.mlops.api.Registration;
import dev.mlops.api.event.LifecycleEvent;
import dev.mlops.runtime.Mlops;
import dev.mlops.runtime.registry.GovernedRegistry;
import dev.mlops.runtime.registry.RegistryProvider;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A process of a fleet test, on the registry URI it is given: an {@code instance} that serves an
 * alias under load, or a {@code writer} that races compare-and-sets or registers versions. It talks
 * to the test over stdin and stdout, one line per message.
 */
public final class FleetProcess {

  private static final AuditInfo WRITER = AuditInfo.by("fleet-writer", "fleet test");

  private FleetProcess() {}

  /**
   * {@code instance <uri> <model> <alias> <callers>} or {@code writer <uri> <model> <alias>
   * <threads>}.
   */
  public static void main(String[] args) throws Exception {
    URI uri = URI.create(args[1]);
    switch (args[0]) {
      case "instance" -> instance(uri, args[2], args[3], Integer.parseInt(args[4]));
      case "writer" -> writer(uri, args[2], args[3], Integer.parseInt(args[4]));
      default -> throw new IllegalArgumentException("unknown mode " + args[0]);
    }
    System.exit(0);
  }

  static long micros(Instant t) {
    return t.getEpochSecond() * 1_000_000L + t.getNano() / 1_000;
  }

  private static long nowMicros() {
    return micros(Instant.now());
  }

  private static synchronized void say(String line) {
    System.out.println(line);
    System.out.flush();
  }

  // ---------------------------------------------------------------- instance

  /** One caller's calls: start and end in epoch microseconds, and the version that answered. */
  private static final class Calls {
    long[] start = new long[1 << 16];
    long[] end = new long[1 << 16];
    byte[] version = new byte[1 << 16];
    int n;

    void add(long s, long e, long v) {
      if (n == start.length) {
        start = Arrays.copyOf(start, n * 2);
        end = Arrays.copyOf(end, n * 2);
        version = Arrays.copyOf(version, n * 2);
      }
      start[n] = s;
      end[n] = e;
      version[n] = (byte) v;
      n++;
    }
  }

  private static void instance(URI uri, String model, String alias, int callers) throws Exception {
    try (Mlops mlops = Mlops.builder().registry(uri).build()) {
      mlops.addListener(
          e -> {
            if (e instanceof LifecycleEvent.VersionSwapped s) {
              say("swapped " + s.toVersion() + " " + micros(s.time()));
            } else if (e instanceof LifecycleEvent.ModelLoadFailed f) {
              say(
                  "load-failed "
                      + f.version()
                      + " "
                      + f.cause().getClass().getSimpleName()
                      + " "
                      + String.valueOf(f.cause().getMessage()).replace('\n', ' '));
            }
          });
      Predictor<float[], float[]> p =
          mlops.predictor("models:/" + model + "@" + alias, Codecs.floatRow());
      float[] row = new float[30];
      long first = p.predict(row).version();
      AtomicBoolean stop = new AtomicBoolean();
      AtomicLong failed = new AtomicLong();
      AtomicReference<String> firstFailure = new AtomicReference<>();
      List<Calls> all = new ArrayList<>();
      List<Thread> threads = new ArrayList<>();
      CountDownLatch started = new CountDownLatch(callers);
      for (int i = 0; i < callers; i++) {
        Calls calls = new Calls();
        all.add(calls);
        Thread t =
            new Thread(
                () -> {
                  started.countDown();
                  while (!stop.get()) {
                    long s = nowMicros();
                    try {
                      Prediction<float[]> r = p.predict(row);
                      calls.add(s, nowMicros(), r.version());
                    } catch (RuntimeException e) {
                      failed.incrementAndGet();
                      firstFailure.compareAndSet(null, e.toString());
                    }
                  }
                },
                "caller-" + i);
        threads.add(t);
        t.start();
      }
      started.await();
      say("ready " + first);

      BufferedReader in =
          new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      for (String line; (line = in.readLine()) != null; ) {
        if (line.equals("state")) {
          var feed = mlops.state().registryFeed().orElseThrow();
          say(
              "state connected="
                  + feed.connected()
                  + " reconnects="
                  + feed.reconnects()
                  + " resyncs="
                  + feed.resyncs()
                  + " serving="
                  + p.predict(row).version());
        } else if (line.equals("stop")) {
          break;
        }
      }
      stop.set(true);
      for (Thread t : threads) {
        t.join();
      }
      // The alias's targets over time, from the audit log: entry times precede their commits.
      List<long[]> moves = new ArrayList<>();
      for (AuditEntry e :
          mlops
              .registry()
              .audit(AuditQuery.builder().model(model).actions(AuditAction.SET_ALIAS).build())) {
        if (alias.equals(e.details().get(AuditDetails.ALIAS))) {
          moves.add(
              new long[] {micros(e.time()), Long.parseLong(e.details().get(AuditDetails.TO))});
        }
      }
      long total = 0;
      long violations = 0;
      String firstViolation = null;
      for (Calls c : all) {
        for (int i = 0; i < c.n; i++) {
          total++;
          if (!allowed(moves, c.start[i], c.end[i], c.version[i])) {
            violations++;
            if (firstViolation == null) {
              firstViolation =
                  "call from " + c.start[i] + " to " + c.end[i] + " answered by " + c.version[i];
            }
          }
        }
      }
      say(
          "result calls="
              + total
              + " failed="
              + failed.get()
              + " violations="
              + violations
              + " firstFailure="
              + firstFailure.get()
              + " firstViolation="
              + firstViolation);
    }
  }

  /**
   * Whether a call may have been answered by {@code version}: the alias's target at some moment of
   * the call, or the target before the one in force when it started.
   */
  static boolean allowed(List<long[]> moves, long start, long end, long version) {
    int atStart = -1;
    for (int k = 0; k < moves.size(); k++) {
      long t = moves.get(k)[0];
      if (t <= start) {
        atStart = k;
      } else if (t <= end && moves.get(k)[1] == version) {
        return true; // moved during the call
      }
    }
    if (atStart < 0) {
      return false;
    }
    if (moves.get(atStart)[1] == version) {
      return true;
    }
    return atStart > 0 && moves.get(atStart - 1)[1] == version;
  }

  // ---------------------------------------------------------------- writer

  private static void writer(URI uri, String model, String alias, int threads) throws Exception {
    try (GovernedRegistry registry =
        RegistryProvider.openUri(
            uri, dev.mlops.runtime.onnx.OnnxRuntimeEngine.builder().build(), Clock.systemUTC())) {
      say("ready");
      BufferedReader in =
          new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      for (String line; (line = in.readLine()) != null; ) {
        String[] w = line.split(" ");
        if (w[0].equals("stop")) {
          break;
        }
        if (w[0].equals("cas")) {
          // cas <round> <expected> <target...>: each thread tries one target, all at once.
          String round = w[1];
          long expected = Long.parseLong(w[2]);
          CountDownLatch go = new CountDownLatch(1);
          List<Thread> ts = new ArrayList<>();
          for (int i = 0; i < threads; i++) {
            long target = Long.parseLong(w[3 + i % (w.length - 3)]);
            Thread t =
                new Thread(
                    () -> {
                      try {
                        go.await();
                        registry.compareAndSetAlias(model, alias, expected, target, WRITER);
                        say("won " + round + " " + target);
                      } catch (ConflictException e) {
                        say("lost " + round);
                      } catch (Exception e) {
                        say("error " + round + " " + e);
                      }
                    });
            ts.add(t);
            t.start();
          }
          go.countDown();
          for (Thread t : ts) {
            t.join();
          }
          say("done " + round);
        } else if (w[0].equals("register-loop")) {
          // register-loop <model file> <work dir>: registers new artifacts (the model and 8 MiB of
          // fresh bytes) until the process is killed.
          Path modelFile = Path.of(w[1]);
          Path work = Path.of(w[2]);
          java.util.Random random = new java.util.Random();
          for (int n = 0; ; n++) {
            Path dir = java.nio.file.Files.createDirectories(work.resolve("artifact-" + n));
            java.nio.file.Files.copy(modelFile, dir.resolve("model.onnx"));
            byte[] extra = new byte[8 << 20];
            random.nextBytes(extra);
            java.nio.file.Files.write(dir.resolve("extra.bin"), extra);
            ModelVersion v =
                registry.register(
                    Registration.builder(
                            model, dev.mlops.api.ArtifactSource.directory(dir, "model.onnx"))
                        .build(),
                    WRITER);
            say("registered " + v.version());
          }
        } else if (w[0].equals("register")) {
          // register <count> <file>: each thread registers count versions of the file.
          int count = Integer.parseInt(w[1]);
          Path file = Path.of(w[2]);
          List<Thread> ts = new ArrayList<>();
          for (int i = 0; i < threads; i++) {
            Thread t =
                new Thread(
                    () -> {
                      for (int j = 0; j < count; j++) {
                        try {
                          ModelVersion v =
                              registry.register(
                                  Registration.builder(
                                          model, dev.mlops.api.ArtifactSource.file(file))
                                      .build(),
                                  WRITER);
                          say("registered " + v.version());
                        } catch (RuntimeException e) {
                          say("error register " + e);
                        }
                      }
                    });
            ts.add(t);
            t.start();
          }
          for (Thread t : ts) {
            t.join();
          }
          say("done register");
        }
      }
    }
  }
}
