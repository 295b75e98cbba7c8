package dev.mlops.samples.canary;

import dev.mlops.api.AnalysisPolicy;
import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.CallOptions;
import dev.mlops.api.Codecs;
import dev.mlops.api.Prediction;
import dev.mlops.api.Predictor;
import dev.mlops.api.Registration;
import dev.mlops.api.RolloutSpec;
import dev.mlops.api.event.LifecycleEvent;
import dev.mlops.metrics.InMemoryMetricSink;
import dev.mlops.metrics.ShadowSummary;
import dev.mlops.runtime.Mlops;
import dev.mlops.runtime.RuntimeState;
import dev.mlops.testmodels.TestModels;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A canary with automatic rollback, in one process: production serves v1 of a classifier; first a
 * challenger, v3, sees every call's inputs as a shadow (weight 0, shadow 100 %) and is compared
 * with v1 while no caller gets its answers; then a candidate that fails on 5 % of its inputs gets
 * 20 % of the calls and is rolled back by the analysis; then v3 steps through 10, 50 and 100 % and
 * is promoted. Callers never change: they call the alias.
 */
public final class CanarySample {

  private static final AuditInfo OPS = AuditInfo.by("ops", "canary sample");

  private CanarySample() {}

  /**
   * What the run saw.
   *
   * @param calls calls per arm and version, such as {@code candidate/v2}
   * @param failures failed calls per arm
   * @param ends how each rollout ended, with its reason
   * @param shadow the runtime's count of shadow copies: run, dropped and failed
   * @param shadowRollout what the metric sink recorded of the shadow rollout's copies: also how far
   *     v3's answers were from v1's
   */
  public record Summary(
      Map<String, Long> calls,
      Map<String, Long> failures,
      List<String> ends,
      RuntimeState.Shadow shadow,
      ShadowSummary shadowRollout) {}

  /** Runs the sample and prints what happens. */
  public static void main(String[] args) throws Exception {
    run(System.out);
  }

  /** Runs the sample, printing to {@code out}. */
  public static Summary run(PrintStream out) throws Exception {
    Path dir = Files.createTempDirectory("mlops-canary-");
    Map<String, AtomicLong> calls = new ConcurrentHashMap<>();
    Map<String, AtomicLong> failures = new ConcurrentHashMap<>();
    List<String> ends = new java.util.concurrent.CopyOnWriteArrayList<>();
    InMemoryMetricSink metrics = new InMemoryMetricSink();
    try (Mlops mlops =
        Mlops.builder().localRegistry(dir.resolve("registry")).metricSink(metrics).build()) {
      for (String file :
          List.of(
              TestModels.BREAST_CANCER_V1,
              TestModels.BREAST_CANCER_FLAKY,
              TestModels.BREAST_CANCER_V2)) {
        Path copy = TestModels.copy(file, dir.resolve(file));
        mlops
            .registry()
            .register(Registration.builder("cancer", ArtifactSource.file(copy)).build(), OPS);
      }
      mlops.registry().setAlias("cancer", "production", 1, OPS);
      out.println("production -> v1; v2 fails on 5 % of inputs; v3 is healthy");
      mlops.addListener(
          e -> {
            if (e instanceof LifecycleEvent.RolloutChanged c) {
              out.printf(
                  "rollout %s: %s, candidate v%d at %.0f %%%s (%s)%n",
                  c.rollout().id(),
                  c.change(),
                  c.rollout().candidate(),
                  c.rollout().weightPercent(),
                  c.rollout().shadow() > 0
                      ? String.format(", shadow %.0f %%", c.rollout().shadowPercent())
                      : "",
                  c.reason());
              if (!c.rollout().active()) {
                ends.add(c.change() + ": " + c.reason());
              }
            }
          });

      // The service: callers of the alias, with a request key per user.
      Predictor<float[], float[]> predictor =
          mlops.predictor("models:/cancer@production", Codecs.floatRow());
      AtomicBoolean stop = new AtomicBoolean();
      List<Thread> callers = new ArrayList<>();
      for (int t = 0; t < 2; t++) {
        int seed = t;
        Thread caller =
            new Thread(
                () -> {
                  long i = 0;
                  while (!stop.get()) {
                    float[] row = new float[30];
                    if (i % 20 == 0) {
                      row[0] = TestModels.FLAKY_THRESHOLD * 5; // the input v2 cannot take
                    }
                    CallOptions key =
                        CallOptions.NONE.requestKey("user-" + (seed * 1_000_003 + i++));
                    try {
                      Prediction<float[]> p = predictor.predict(row, key);
                      calls
                          .computeIfAbsent(
                              p.arm().tag() + "/v" + p.version(), k -> new AtomicLong())
                          .incrementAndGet();
                    } catch (RuntimeException ex) {
                      failures.computeIfAbsent("failed", k -> new AtomicLong()).incrementAndGet();
                    }
                  }
                },
                "caller-" + t);
        callers.add(caller);
        caller.start();
      }

      // Champion/challenger: v3 runs on a copy of every call, off the callers' threads.
      String shadowRollout =
          mlops
              .registry()
              .startRollout("cancer", "production", RolloutSpec.of(3).shadowPercent(100), OPS)
              .id();
      Thread.sleep(1_500);
      mlops.registry().abortRollout("cancer", "production", AuditInfo.by("ops", "compared"));
      awaitEnds(ends, 1);

      AnalysisPolicy analysis =
          AnalysisPolicy.builder().maxErrorRate(0.01).minRequests(100).failureThreshold(3).build();
      mlops
          .registry()
          .startRollout(
              "cancer",
              "production",
              RolloutSpec.of(2).weightPercent(20).every(Duration.ofMillis(500)).analysis(analysis),
              OPS);
      awaitEnds(ends, 2);
      mlops
          .registry()
          .startRollout(
              "cancer",
              "production",
              RolloutSpec.of(3).steps(10, 50, 100).every(Duration.ofMillis(500)).analysis(analysis),
              OPS);
      awaitEnds(ends, 3);
      stop.set(true);
      for (Thread c : callers) {
        c.join();
      }
      while (mlops.state().shadow().inFlight() > 0) {
        Thread.sleep(5); // the shadow phase's last copies finish
      }
      RuntimeState.Shadow shadow = mlops.state().shadow();
      ShadowSummary compared = metrics.shadow("cancer", shadowRollout);
      out.printf(
          "shadow of v3: %d copies run (%d dropped, %d failed), class changed on %d, largest"
              + " probability difference from v1 %.3g%n",
          compared.copies(),
          compared.dropped(),
          compared.failed(),
          compared.argmaxDifferences(),
          compared.maxAbsDifference());
      Map<String, Long> counts = new TreeMap<>();
      calls.forEach((k, v) -> counts.put(k, v.get()));
      Map<String, Long> failed = new TreeMap<>();
      failures.forEach((k, v) -> failed.put(k, v.get()));
      out.println("calls by arm and version: " + counts);
      out.println("failed calls: " + failed.getOrDefault("failed", 0L));
      out.println("production -> v" + mlops.registry().aliases("cancer").get("production"));
      out.print(metrics.report());
      return new Summary(counts, failed, List.copyOf(ends), shadow, compared);
    }
  }

  /** Waits until {@code n} rollouts have ended (their last event arrived). */
  private static void awaitEnds(List<String> ends, int n) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (ends.size() < n) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("rollout " + n + " did not end within 60 s: " + ends);
      }
      Thread.sleep(20);
    }
  }
}
