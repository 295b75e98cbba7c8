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
import dev.mlops.metrics.CompositeMetricSink;
import dev.mlops.metrics.InMemoryMetricSink;
import dev.mlops.metrics.LatencySummary;
import dev.mlops.metrics.MicrometerMetricSink;
import dev.mlops.metrics.drift.DriftAlarm;
import dev.mlops.metrics.drift.DriftBaseline;
import dev.mlops.metrics.drift.DriftMetric;
import dev.mlops.metrics.drift.DriftMonitor;
import dev.mlops.runtime.Mlops;
import dev.mlops.runtime.local.LocalModelRegistry;
import dev.mlops.runtime.registry.GovernedRegistry;
import dev.mlops.testmodels.TestModels;
import dev.mlops.testmodels.TestSet;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * The quickstart: register two versions of a breast-cancer classifier with lineage and a drift
 * baseline, serve predictions from several threads with the {@code production} alias on v1, promote
 * v2 while the threads keep calling, print what each version served, its latency and accuracy, the
 * Micrometer meters and the audit log, then send shifted data and show the drift alarm.
 */
public final class Quickstart {

  private static final int CALLERS = 4;
  private static final long PHASE_MILLIS = 1_500;

  /** Held-out rows that stand in for the training data the drift baseline is computed from. */
  private static final int REFERENCE_ROWS = 71;

  private Quickstart() {}

  /** Runs the quickstart; the registry lives in a temporary directory. */
  public static void main(String[] args) throws Exception {
    run(System.out, PHASE_MILLIS);
  }

  /**
   * What the run observed.
   *
   * @param served calls served per version
   * @param correct correct labels per version
   * @param failed calls that threw
   * @param sessionsOpened sessions opened
   * @param sessionsClosed sessions closed
   * @param driftAlarms features whose drift alarm was raised
   */
  record Summary(
      Map<Long, Long> served,
      Map<Long, Long> correct,
      long failed,
      long sessionsOpened,
      long sessionsClosed,
      List<String> driftAlarms) {}

  static Summary run(PrintStream out, long phaseMillis) throws Exception {
    Path home = Files.createTempDirectory("mlops-quickstart");
    TestSet heldOut = TestModels.breastCancerTestSet();
    List<String> features =
        IntStream.range(0, 30).mapToObj(i -> "f" + i).collect(Collectors.toList());
    byte[] baseline =
        DriftBaseline.compute(features, Arrays.copyOfRange(heldOut.features(), 0, REFERENCE_ROWS))
            .toBytes();

    // Metrics: an in-memory sink for the summary table, Micrometer for the service's registry.
    InMemoryMetricSink memory = new InMemoryMetricSink();
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    MicrometerMetricSink micrometer = MicrometerMetricSink.create();
    micrometer.bindTo(meters);

    // Drift: each version's baseline is read from the registry, where it is stored with the
    // version. The held-out data is small (71 reference rows, windows of 72 rows), so the
    // thresholds are wider than the defaults, which are meant for windows of about 1,000 rows.
    GovernedRegistry registry = LocalModelRegistry.open(home.resolve("registry"));
    DriftMonitor drift =
        DriftMonitor.builder()
            .baselineAttachment(registry, DriftBaseline.ATTACHMENT_NAME)
            .ignorePrediction()
            .window(heldOut.size() - REFERENCE_ROWS)
            .threshold(DriftMetric.PSI, 2.0)
            .threshold(DriftMetric.KS_STATISTIC, 0.5)
            .threshold(DriftMetric.OUT_OF_RANGE_RATE, 0.18)
            .build();

    Mlops mlops =
        Mlops.builder()
            .registry(registry)
            .metricSink(CompositeMetricSink.of(memory, micrometer))
            .observers(drift)
            .build();
    // Closed by hand below, before the last figures are printed; close is idempotent.
    try (registry;
        mlops) {
      // 1. Register two trained versions with their lineage and drift baseline.
      ModelVersion v1 =
          register(
              mlops,
              home,
              TestModels.BREAST_CANCER_V1,
              "logistic regression",
              "run-logreg",
              heldOut,
              baseline);
      ModelVersion v2 =
          register(
              mlops,
              home,
              TestModels.BREAST_CANCER_V2,
              "MLP (32, 16)",
              "run-mlp",
              heldOut,
              baseline);
      out.printf(
          "registered %s  sha256 %s  %s%n", v1.ref(), v1.digest().substring(0, 16), v1.signature());
      out.printf(
          "registered %s  sha256 %s  %s%n", v2.ref(), v2.digest().substring(0, 16), v2.signature());

      // 2. Production starts on v1.
      mlops.registry().setAlias("cancer", "production", 1, AuditInfo.by("alice", "first release"));
      mlops.addListener(
          e -> {
            if (e instanceof LifecycleEvent.VersionSwapped) {
              LifecycleEvent.VersionSwapped s = (LifecycleEvent.VersionSwapped) e;
              out.printf(
                  "swapped %s from v%d to v%d%n", s.target(), s.fromVersion(), s.toVersion());
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
          Thread caller =
              new Thread(
                  () -> {
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
                  },
                  "caller-" + t);
          caller.start();
          callers.add(caller);
        }
        running.await();
        Thread.sleep(phaseMillis);

        // 4. Promote v2 under load: in-flight calls finish on v1, then every call goes to v2.
        out.println("moving production to v2 while " + CALLERS + " threads keep calling ...");
        mlops
            .registry()
            .setAlias(
                "cancer",
                "production",
                2,
                AuditInfo.by("bob", "v2 is more accurate on held-out data"));
        Thread.sleep(phaseMillis);
        stop.set(true);
        for (Thread caller : callers) {
          caller.join();
        }

        // 5. What happened.
        out.println();
        out.printf(
            "%-8s %10s %10s %10s %10s %10s%n",
            "version", "calls", "p50 µs", "p99 µs", "accuracy", "reported");
        for (Map.Entry<Long, LongAdder> e : new TreeMap<>(served).entrySet()) {
          long version = e.getKey();
          long calls = e.getValue().sum();
          LatencySummary latency = memory.latency("cancer", version);
          double accuracy = correct.getOrDefault(version, new LongAdder()).sum() / (double) calls;
          ModelVersion v = version == 1 ? v1 : v2;
          out.printf(
              "v%-7d %10d %10.1f %10.1f %10.4f %10.4f%n",
              version,
              calls,
              latency.p50Nanos() / 1e3,
              latency.p99Nanos() / 1e3,
              accuracy,
              v.lineage().metrics().get("accuracy"));
        }
        out.printf("failed calls: %d%n", failed.sum());
        out.println();
        out.println("Micrometer meters:");
        meters.getMeters().stream()
            .filter(
                m ->
                    m.getId().getName().startsWith("mlops.")
                        && !m.getId().getName().startsWith("mlops.drift"))
            .sorted(
                Comparator.comparing((Meter m) -> m.getId().getName())
                    .thenComparing(m -> m.getId().getTags().toString()))
            .forEach(m -> out.println("  " + describe(m)));

        // 6. Data drift: the same rows with two features shifted by about three standard
        // deviations.
        out.println();
        out.println(
            "sending held-out rows with 'mean radius' (f0) and 'mean concave points' (f7) shifted ...");
        for (int i = REFERENCE_ROWS; i < heldOut.size(); i++) {
          float[] shifted = heldOut.features()[i].clone();
          shifted[0] += 10.5f;
          shifted[7] += 0.12f;
          predictor.predict(shifted);
        }
      }
      // The monitor evaluates every full window on its own; evaluate now so the last window
      // (exactly the shifted rows) is judged before we print.
      drift.evaluate();
      // The alarms active now: the window holds exactly the shifted rows. (A window of live
      // traffic this small can also cross a threshold by chance and clear again; those alarms
      // went to the listener and are over.)
      List<DriftAlarm> active = drift.activeAlarms();
      List<String> raised =
          active.stream().map(DriftAlarm::feature).distinct().sorted().collect(Collectors.toList());
      active.forEach(
          a ->
              out.printf(
                  "  drift alarm on v%d %s: %s = %.3f (threshold %.2f)%n",
                  a.version(), a.feature(), a.metric().tag(), a.value(), a.threshold()));

      out.println();
      out.println("audit log:");
      mlops
          .registry()
          .auditLog()
          .forEach(
              a ->
                  out.printf(
                      "  %s %-11s %-9s %s %s  \"%s\"%n",
                      a.time(), a.actor(), a.action(), a.model(), a.details(), a.reason()));
      out.println("registry directory: " + home.resolve("registry"));
      mlops.close();
      Mlops.SessionStats closedStats = mlops.sessionStats();
      out.printf("sessions opened %d, closed %d%n", closedStats.opened(), closedStats.closed());
      Map<Long, Long> servedCounts = new TreeMap<>();
      Map<Long, Long> correctCounts = new TreeMap<>();
      served.forEach((k, v) -> servedCounts.put(k, v.sum()));
      correct.forEach((k, v) -> correctCounts.put(k, v.sum()));
      return new Summary(
          servedCounts,
          correctCounts,
          failed.sum(),
          closedStats.opened(),
          closedStats.closed(),
          raised);
    }
  }

  private static String describe(Meter m) {
    String tags =
        m.getId().getTags().stream()
            .map(t -> t.getKey() + "=" + t.getValue())
            .collect(Collectors.joining(","));
    if (m instanceof Timer) {
      Timer t = (Timer) m;
      return String.format(
          "%s{%s} count=%d mean=%.1fµs max=%.1fµs",
          m.getId().getName(),
          tags,
          t.count(),
          t.mean(TimeUnit.MICROSECONDS),
          t.max(TimeUnit.MICROSECONDS));
    }
    StringBuilder sb = new StringBuilder(m.getId().getName()).append('{').append(tags).append('}');
    m.measure()
        .forEach(
            s ->
                sb.append(' ')
                    .append(s.getStatistic().getTagValueRepresentation())
                    .append('=')
                    .append(String.format("%.0f", s.getValue())));
    return sb.toString();
  }

  private static ModelVersion register(
      Mlops mlops,
      Path home,
      String file,
      String description,
      String run,
      TestSet heldOut,
      byte[] baseline) {
    Path model = TestModels.copy(file, home.resolve("training-output").resolve(run));
    ModelVersion v =
        mlops
            .registry()
            .register(
                Registration.builder("cancer", ArtifactSource.file(model))
                    .description(description)
                    .tag("framework", "scikit-learn")
                    .lineage(
                        new Lineage(
                            run,
                            "sklearn.datasets.load_breast_cancer, stratified 75/25, seed 42",
                            Map.of("accuracy", TestModels.reportedAccuracy(file))))
                    .inputExample(
                        Map.of("features", Tensor.ofFloats(heldOut.features()[0].clone(), 1, 30)))
                    .attachment(DriftBaseline.ATTACHMENT_NAME, baseline)
                    .build(),
                AuditInfo.by("ci-pipeline", "trained by " + run));
    return v;
  }
}
