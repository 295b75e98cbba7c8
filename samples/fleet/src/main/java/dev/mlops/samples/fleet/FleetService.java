package dev.mlops.samples.fleet;

import dev.mlops.api.Codecs;
import dev.mlops.api.Predictor;
import dev.mlops.api.event.LifecycleEvent;
import dev.mlops.runtime.Mlops;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One instance of a service in the fleet: the lines a service writes to serve the registry's {@code
 * production} alias, plus a caller that keeps it busy. It prints when it switches version, and its
 * call counts when stdin says {@code stop}.
 */
public final class FleetService {

  private FleetService() {}

  /** {@code <name> <registry URI>}. */
  public static void main(String[] args) throws Exception {
    String name = args[0];
    URI registry = URI.create(args[1]);
    // What a service needs: the registry's URI and the alias to follow.
    try (Mlops mlops = Mlops.builder().registry(registry).build()) {
      Predictor<float[], float[]> predictor =
          mlops.predictor("models:/cancer@production", Codecs.floatRow());

      mlops.addListener(
          e -> {
            if (e instanceof LifecycleEvent.VersionSwapped s) {
              say(
                  name
                      + " switched v"
                      + s.fromVersion()
                      + " -> v"
                      + s.toVersion()
                      + " at "
                      + micros(s.time()));
            }
          });
      float[] row = new float[30];
      AtomicBoolean stop = new AtomicBoolean();
      AtomicLong calls = new AtomicLong();
      AtomicLong failed = new AtomicLong();
      Thread caller =
          new Thread(
              () -> {
                while (!stop.get()) {
                  try {
                    predictor.predict(row);
                    calls.incrementAndGet();
                  } catch (RuntimeException ex) {
                    failed.incrementAndGet();
                  }
                }
              },
              name + "-caller");
      caller.start();
      say(name + " ready serving v" + predictor.predict(row).version());
      BufferedReader in =
          new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      for (String line; (line = in.readLine()) != null && !line.equals("stop"); ) {
        // wait for stop
      }
      stop.set(true);
      caller.join();
      say(name + " done calls=" + calls.get() + " failed=" + failed.get());
    }
    System.exit(0);
  }

  static long micros(Instant t) {
    return t.getEpochSecond() * 1_000_000L + t.getNano() / 1_000;
  }

  private static synchronized void say(String line) {
    System.out.println(line);
    System.out.flush();
  }
}
