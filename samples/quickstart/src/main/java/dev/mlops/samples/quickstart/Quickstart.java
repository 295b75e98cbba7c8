package dev.mlops.samples.quickstart;

import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.Codecs;
import dev.mlops.api.Lineage;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.Prediction;
import dev.mlops.api.Predictor;
import dev.mlops.api.Registration;
import dev.mlops.api.Tensor;
import dev.mlops.api.event.LifecycleEvent;
import dev.mlops.metrics.InMemoryMetricSink;
import dev.mlops.metrics.LatencySummary;
import dev.mlops.runtime.Mlops;
import dev.mlops.testmodels.TestModels;
import dev.mlops.testmodels.TestSet;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * The quickstart: register two versions of a breast-cancer classifier, serve predictions from
 * several threads with the {@code production} alias on v1, promote v2 while the threads keep
 * calling, and print what each version served, its latency and its accuracy on held-out data.
 */
public final class Quickstart {

  private static final int CALLERS = 4;
  private static final long PHASE_MILLIS = 1_500;

  private Quickstart() {}

  /** Runs the quickstart; the registry lives in a temporary directory. */
  public static void main(String[] args) throws Exception {
    run(System.out, PHASE_MILLIS);
  }

  /**
   * What the run observed, per version: calls served and calls whose label matched.
   *
   * @param served calls served per version
   * @param correct correct labels per version
   * @param failed calls that threw
   * @param sessionsOpened sessions opened
   * @param sessionsClosed sessions closed
   */
  record Summary(Map<Long, Long> served, Map<Long, Long> correct, long failed, long sessionsOpened, long sessionsClosed) {}

  static Summary run(PrintStream out, long phaseMillis) throws Exception {
    Path home = Files.createTempDirectory("mlops-quickstart");
    TestSet heldOut = TestModels.breastCancerTestSet();
    InMemoryMetricSink metrics = new InMemoryMetricSink();

    try (Mlops mlops = Mlops.builder().localRegistry(home.resolve("registry")).metricSink(metrics).build()) {
      // 1. Register two trained versions with their lineage.
      ModelVersion v1 = register(mlops, home, TestModels.BREAST_CANCER_V1, "logistic regression", "run-logreg", heldOut);
      ModelVersion v2 = register(mlops, home, TestModels.BREAST_CANCER_V2, "MLP (32, 16)", "run-mlp", heldOut);
      out.printf("registered %s  sha256 %s  %s%n", v1.ref(), v1.digest().substring(0, 16), v1.signature());
      out.printf("registered %s  sha256 %s  %s%n", v2.ref(), v2.digest().substring(0, 16), v2.signature());

      // 2. Production starts on v1.
      mlops.registry().setAlias("cancer", "production", 1, AuditInfo.by("alice", "first release"));
      mlops.addListener(e -> {
        if (e instanceof LifecycleEvent.VersionSwapped) {
          LifecycleEvent.VersionSwapped s = (LifecycleEvent.VersionSwapped) e;
          out.printf("swapped %s from v%d to v%d%n", s.target(), s.fromVersion(), s.toVersion());
        }
      });

      // 3. Callers predict continuously; the predictor follows the alias.
      Map<Long, LongAdder> served = new ConcurrentHashMap<>();
      Map<Long, LongAdder> correct = new ConcurrentHashMap<>();
      LongAdder failed = new LongAdder();
      AtomicBoolean stop = new AtomicBoolean();
      try (Predictor<float[], float[]> predictor =
          mlops.predictor("models:/cancer@production", Codecs.floatRow("probabilities"))) {
        CountDownLatch running = new CountDownLatch(CALLERS);
        List<Thread> callers = new ArrayList<>();
        for (int t = 0; t < CALLERS; t++) {
          int first = t;
          Thread caller = new Thread(() -> {
            running.countDown();
            for (int i = first; !stop.get(); i++) {
              int row = i % heldOut.size();
              try {
                Prediction<float[]> p = predictor.predict(heldOut.features()[row]);
                int label = p.value()[1] > p.value()[0] ? 1 : 0;
                served.computeIfAbsent(p.version(), k -> new LongAdder()).increment();
                if (label == heldOut.labels()[row]) {
                  correct.computeIfAbsent(p.version(), k -> new LongAdder()).increment();
                }
              } catch (RuntimeException e) {
                failed.increment();
              }
            }
          }, "caller-" + t);
          caller.start();
          callers.add(caller);
        }
        running.await();
        Thread.sleep(phaseMillis);

        // 4. Promote v2 under load: in-flight calls finish on v1, then every call goes to v2.
        out.println("moving production to v2 while " + CALLERS + " threads keep calling ...");
        mlops.registry().setAlias("cancer", "production", 2, AuditInfo.by("bob", "v2 is more accurate on held-out data"));
        Thread.sleep(phaseMillis);
        stop.set(true);
        for (Thread caller : callers) {
          caller.join();
        }
      }

      // 5. What happened.
      out.println();
      out.printf("%-8s %10s %10s %10s %10s %10s%n", "version", "calls", "p50 µs", "p99 µs", "accuracy", "reported");
      for (Map.Entry<Long, LongAdder> e : new TreeMap<>(served).entrySet()) {
        long version = e.getKey();
        long calls = e.getValue().sum();
        LatencySummary latency = metrics.latency("cancer", version);
        double accuracy = correct.getOrDefault(version, new LongAdder()).sum() / (double) calls;
        ModelVersion v = version == 1 ? v1 : v2;
        out.printf("v%-7d %10d %10.1f %10.1f %10.4f %10.4f%n", version, calls,
            latency.p50Nanos() / 1e3, latency.p99Nanos() / 1e3, accuracy, v.lineage().metrics().get("accuracy"));
      }
      out.printf("failed calls: %d%n", failed.sum());
      out.println();
      out.println(metrics.report());
      out.println("audit log:");
      mlops.registry().auditLog().forEach(a ->
          out.printf("  %s %-6s %-14s %s %s  \"%s\"%n", a.time(), a.actor(), a.action(), a.model(), a.details(), a.reason()));
      Mlops.SessionStats sessions = mlops.sessionStats();
      out.printf("sessions opened %d, closed %d%n", sessions.opened(), sessions.closed());
      out.println("registry directory: " + home.resolve("registry"));
      Map<Long, Long> servedCounts = new TreeMap<>();
      Map<Long, Long> correctCounts = new TreeMap<>();
      served.forEach((k, v) -> servedCounts.put(k, v.sum()));
      correct.forEach((k, v) -> correctCounts.put(k, v.sum()));
      return new Summary(servedCounts, correctCounts, failed.sum(), sessions.opened(), sessions.closed());
    }
  }

  private static ModelVersion register(Mlops mlops, Path home, String file, String description, String run, TestSet heldOut) {
    Path model = TestModels.copy(file, home.resolve("training-output").resolve(run));
    return mlops.registry().register(
        Registration.builder("cancer", ArtifactSource.file(model))
            .description(description)
            .tag("framework", "scikit-learn")
            .lineage(new Lineage(run, "sklearn.datasets.load_breast_cancer, stratified 75/25, seed 42",
                Map.of("accuracy", TestModels.reportedAccuracy(file))))
            .inputExample(Map.of("features", Tensor.ofFloats(heldOut.features()[0].clone(), 1, 30)))
            .build(),
        AuditInfo.by("ci-pipeline", "trained by " + run));
  }
}
