package dev.mlops.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.mlops.api.ArtifactFile;
import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.Codecs;
import dev.mlops.api.InvalidInputException;
import dev.mlops.api.ModelSignature;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.Predictor;
import dev.mlops.api.Registration;
import dev.mlops.api.event.LifecycleEvent;
import dev.mlops.api.event.LifecycleEvent.ModelLoadFailed;
import dev.mlops.api.event.LifecycleEvent.ModelLoaded;
import dev.mlops.api.event.LifecycleEvent.ModelUnloaded;
import dev.mlops.api.event.LifecycleEvent.VersionDeleted;
import dev.mlops.api.event.LifecycleEvent.VersionRegistered;
import dev.mlops.api.spi.MetricSink;
import dev.mlops.api.spi.Outcome;
import dev.mlops.api.spi.PredictionEvent;
import dev.mlops.runtime.Mlops;
import dev.mlops.runtime.local.LocalModelRegistry;
import dev.mlops.runtime.registry.GovernedRegistry;
import dev.mlops.testmodels.TestModels;
import dev.mlops.testmodels.TestSet;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.distribution.DistributionStatisticConfig;
import io.micrometer.core.instrument.distribution.HistogramSnapshot;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MicrometerMetricSinkTest {

  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  private static final AuditInfo ALICE = AuditInfo.by("alice", "test");

  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  @TempDir Path tmp;

  /**
   * Drives the sink with the real runtime. The prediction counts are fixed by the test; the rest
   * (how many lifecycle events, which versions stay cached) is the runtime's policy, so the
   * expected meters are computed, by a separate straightforward path, from the events the runtime
   * delivered to a recording sink beside this one.
   */
  @Test
  void namesTagsAndCountsAreExactAfterPredictionsOnTwoVersionsOfARealModel() throws Exception {
    MicrometerMetricSink sink = MicrometerMetricSink.create();
    sink.bindTo(registry);
    RecordingSink recorder = new RecordingSink();
    TestSet test = TestModels.breastCancerTestSet();
    Mlops mlops =
        Mlops.builder()
            .localRegistry(tmp.resolve("registry"))
            .metricSink(CompositeMetricSink.of(sink, recorder))
            .build();
    try (mlops) {
      ModelVersion v1 = register(mlops, TestModels.BREAST_CANCER_V1);
      ModelVersion v2 = register(mlops, TestModels.BREAST_CANCER_V2);
      assertThat(v1.sizeBytes())
          .isNotEqualTo(v2.sizeBytes()); // so that the weight tells them apart
      mlops.registry().setAlias("cancer", "production", 1, ALICE);
      CountDownLatch swapped = new CountDownLatch(1);
      mlops.addListener(
          e -> {
            if (e instanceof LifecycleEvent.VersionSwapped) {
              swapped.countDown();
            }
          });
      try (Predictor<float[], float[]> predictor =
          mlops.predictor("models:/cancer@production", Codecs.floatRow())) {
        for (int i = 0; i < 5; i++) {
          assertThat(predictor.predict(test.features()[i]).version()).isEqualTo(1);
        }
        for (int i = 0; i < 2; i++) {
          assertThatThrownBy(() -> predictor.predict(new float[] {1f, 2f, 3f}))
              .isInstanceOf(InvalidInputException.class);
        }
        mlops.registry().setAlias("cancer", "production", 2, ALICE);
        assertThat(swapped.await(30, TimeUnit.SECONDS)).as("swap to v2").isTrue();
        for (int i = 0; i < 8; i++) {
          assertThat(predictor.predict(test.features()[i]).version()).isEqualTo(2);
        }

        Map<String, Double> meters = snapshot(registry);
        assertThat(meters).isEqualTo(expectedMeters(recorder));
        // What the test itself fixes, whatever the runtime's policies.
        assertThat(meters)
            .containsEntry(
                "mlops.predictions{arm=stable,model=cancer,outcome=success,version=1}", 5.0)
            .containsEntry(
                "mlops.predictions{arm=stable,model=cancer,outcome=invalid_input,version=1}", 2.0)
            .containsEntry(
                "mlops.predictions{arm=stable,model=cancer,outcome=success,version=2}", 8.0)
            .containsEntry("mlops.batch.size{model=cancer,version=2}", 8.0)
            .containsEntry("mlops.lifecycle.events{event=version_registered,model=cancer}", 2.0)
            .containsEntry("mlops.lifecycle.events{event=alias_moved,model=cancer}", 2.0)
            .containsEntry("mlops.lifecycle.events{event=version_swapped,model=cancer}", 1.0)
            .containsEntry("mlops.model.loads{model=cancer,outcome=success,version=1}", 1.0)
            .containsEntry("mlops.model.loads{model=cancer,outcome=success,version=2}", 1.0)
            .containsEntry("mlops.swaps{model=cancer,version=2}", 1.0)
            .containsEntry(
                "mlops.versions.loaded{model=cancer}", (double) mlops.sessionStats().loaded());
        assertThat(meters.keySet().stream().filter(k -> k.startsWith("mlops.predictions")))
            .hasSize(3);
        assertThat(meters.get("mlops.cache.weight{}"))
            .isIn((double) v2.sizeBytes(), (double) v1.sizeBytes() + v2.sizeBytes());

        Timer success2 =
            timer("mlops.predictions", "model", "cancer", "version", "2", "outcome", "success");
        assertThat(success2.totalTime(TimeUnit.NANOSECONDS)).isPositive();
        assertThat(success2.max(TimeUnit.NANOSECONDS)).isPositive();
        assertThat(registry.get("mlops.batch.size").tags("version", "2").summary().totalAmount())
            .isEqualTo(8.0);
        assertThat(registry.get("mlops.cache.weight").gauge().getId().getBaseUnit())
            .isEqualTo("bytes");
      }
    }
    // Closed: every session is gone.
    assertThat(snapshot(registry)).isEqualTo(expectedMeters(recorder));
    assertThat(registry.get("mlops.versions.loaded").gauge().value()).isZero();
    assertThat(registry.get("mlops.cache.weight").gauge().value()).isZero();
    assertThat(
            registry
                .get("mlops.lifecycle.events")
                .tags("event", "model_unloaded")
                .counter()
                .count())
        .isEqualTo(2.0);
  }

  /** Keeps every event. */
  private static final class RecordingSink implements MetricSink {
    final List<PredictionEvent> predictions = new CopyOnWriteArrayList<>();
    final List<LifecycleEvent> lifecycle = new CopyOnWriteArrayList<>();
    final List<dev.mlops.api.spi.ShadowEvent> shadow = new CopyOnWriteArrayList<>();

    @Override
    public void onPrediction(PredictionEvent event) {
      predictions.add(event);
    }

    @Override
    public void onShadow(dev.mlops.api.spi.ShadowEvent event) {
      shadow.add(event);
    }

    @Override
    public void onLifecycle(LifecycleEvent event) {
      lifecycle.add(event);
    }
  }

  /** The meters the documented mapping gives for these events, computed naively. */
  private static Map<String, Double> expectedMeters(RecordingSink recorder) {
    Map<String, Double> m = new TreeMap<>();
    for (PredictionEvent e : recorder.predictions) {
      String mv = "model=" + e.model() + ",";
      m.merge(
          "mlops.predictions{arm="
              + e.arm().tag()
              + ","
              + mv
              + "outcome="
              + e.outcome().name().toLowerCase(java.util.Locale.ROOT)
              + ",version="
              + e.version()
              + "}",
          1.0,
          Double::sum);
      if (e.batchSize() > 0) {
        m.merge("mlops.batch.size{" + mv + "version=" + e.version() + "}", 1.0, Double::sum);
      }
      if (e.queueNanos() > 0) {
        m.merge("mlops.queue.time{" + mv + "version=" + e.version() + "}", 1.0, Double::sum);
      }
    }
    Map<String, Long> sizes = new HashMap<>();
    Map<String, Integer> open = new HashMap<>();
    Set<String> modelsLoaded = new TreeSet<>();
    for (LifecycleEvent e : recorder.lifecycle) {
      String kind;
      if (e instanceof VersionRegistered) {
        kind = "version_registered";
        ModelVersion v = ((VersionRegistered) e).version();
        sizes.put(v.name() + "/" + v.version(), v.sizeBytes());
      } else if (e instanceof LifecycleEvent.AliasMoved) {
        kind = "alias_moved";
      } else if (e instanceof LifecycleEvent.AliasDeleted) {
        kind = "alias_deleted";
      } else if (e instanceof LifecycleEvent.VersionArchived) {
        kind = "version_archived";
      } else if (e instanceof VersionDeleted) {
        kind = "version_deleted";
      } else if (e instanceof ModelLoaded) {
        kind = "model_loaded";
        ModelLoaded l = (ModelLoaded) e;
        String v = "model=" + l.model() + ",version=" + l.version();
        m.merge(
            "mlops.model.loads{model="
                + l.model()
                + ",outcome=success,version="
                + l.version()
                + "}",
            1.0,
            Double::sum);
        m.merge("mlops.model.load.time{" + v + "}", 1.0, Double::sum);
        open.merge(l.model() + "/" + l.version(), 1, Integer::sum);
        modelsLoaded.add(l.model());
      } else if (e instanceof ModelLoadFailed) {
        kind = "model_load_failed";
        ModelLoadFailed f = (ModelLoadFailed) e;
        m.merge(
            "mlops.model.loads{model="
                + f.model()
                + ",outcome=failure,version="
                + f.version()
                + "}",
            1.0,
            Double::sum);
      } else if (e instanceof LifecycleEvent.VersionSwapped) {
        kind = "version_swapped";
        LifecycleEvent.VersionSwapped s = (LifecycleEvent.VersionSwapped) e;
        m.merge(
            "mlops.swaps{model=" + s.model() + ",version=" + s.toVersion() + "}", 1.0, Double::sum);
      } else if (e instanceof LifecycleEvent.SwapRefused) {
        kind = "swap_refused";
        LifecycleEvent.SwapRefused r = (LifecycleEvent.SwapRefused) e;
        m.merge(
            "mlops.swaps.refused{model=" + r.model() + ",version=" + r.toVersion() + "}",
            1.0,
            Double::sum);
      } else if (e instanceof LifecycleEvent.WarmUpFailed) {
        kind = "warm_up_failed";
        LifecycleEvent.WarmUpFailed w = (LifecycleEvent.WarmUpFailed) e;
        m.merge(
            "mlops.warmup.failures{model=" + w.model() + ",version=" + w.version() + "}",
            1.0,
            Double::sum);
      } else {
        kind = "model_unloaded";
        ModelUnloaded u = (ModelUnloaded) e;
        open.merge(u.model() + "/" + u.version(), -1, Integer::sum);
      }
      m.merge(
          "mlops.lifecycle.events{event=" + kind + ",model=" + e.model() + "}", 1.0, Double::sum);
    }
    double weight = 0;
    for (String model : modelsLoaded) {
      double loaded = 0;
      for (Map.Entry<String, Integer> o : open.entrySet()) {
        if (o.getKey().startsWith(model + "/") && o.getValue() > 0) {
          loaded++;
          weight += sizes.getOrDefault(o.getKey(), 0L);
        }
      }
      m.put("mlops.versions.loaded{model=" + model + "}", loaded);
    }
    m.put("mlops.cache.weight{}", weight);
    return m;
  }

  @Test
  void timersPublishNoClientSidePercentilesOrHistogramByDefault() {
    Map<String, DistributionStatisticConfig> requested = new TreeMap<>();
    registry
        .config()
        .meterFilter(
            new MeterFilter() {
              @Override
              public DistributionStatisticConfig configure(
                  Meter.Id id, DistributionStatisticConfig config) {
                requested.put(id.getName(), config);
                return config;
              }
            });
    MicrometerMetricSink sink = MicrometerMetricSink.create();
    sink.bindTo(registry);
    for (int i = 1; i <= 100; i++) {
      sink.onPrediction(
          new PredictionEvent("m", 1, i * 1_000_000L, i * 1_000L, 1, Outcome.SUCCESS, ""));
    }
    for (String name : List.of("mlops.predictions", "mlops.queue.time")) {
      HistogramSnapshot snapshot = registry.get(name).timer().takeSnapshot();
      assertThat(snapshot.count()).as(name).isEqualTo(100);
      assertThat(snapshot.percentileValues()).as(name).isEmpty();
      assertThat(snapshot.histogramCounts()).as(name).isEmpty();
      assertThat(requested.get(name).isPercentileHistogram()).as(name).isNotEqualTo(Boolean.TRUE);
      assertThat(requested.get(name).getPercentiles()).as(name).isNullOrEmpty();
    }
  }

  @Test
  void percentilesAndHistogramAreOptIn() {
    Map<String, DistributionStatisticConfig> requested = new TreeMap<>();
    registry
        .config()
        .meterFilter(
            new MeterFilter() {
              @Override
              public DistributionStatisticConfig configure(
                  Meter.Id id, DistributionStatisticConfig config) {
                requested.put(id.getName(), config);
                return config;
              }
            });
    MicrometerMetricSink sink =
        MicrometerMetricSink.builder().percentiles(0.5, 0.99).percentileHistogram().build();
    sink.bindTo(registry);
    for (int i = 1; i <= 100; i++) {
      sink.onPrediction(
          new PredictionEvent("m", 1, i * 1_000_000L, i * 1_000L, 1, Outcome.SUCCESS, ""));
    }
    HistogramSnapshot snapshot = registry.get("mlops.predictions").timer().takeSnapshot();
    assertThat(snapshot.percentileValues())
        .extracting(v -> v.percentile())
        .containsExactly(0.5, 0.99);
    for (String timer : List.of("mlops.predictions", "mlops.queue.time")) {
      assertThat(requested.get(timer).isPercentileHistogram()).as(timer).isTrue();
      assertThat(requested.get(timer).getPercentiles()).as(timer).containsExactly(0.5, 0.99);
    }
  }

  @Test
  void edgeValuesAreRecordedAsDocumented() {
    MicrometerMetricSink sink = MicrometerMetricSink.create();
    sink.bindTo(registry);
    sink.onPrediction(new PredictionEvent("m", 3, -5L, 0L, 0, Outcome.OVERLOADED, ""));
    sink.onPrediction(new PredictionEvent("m", 3, 2_000L, 0L, 4, Outcome.SUCCESS, "k"));
    sink.onPrediction(new PredictionEvent("m", 3, 3_000L, 7_000L, 4, Outcome.SUCCESS, "k"));

    Timer overloaded =
        timer("mlops.predictions", "model", "m", "version", "3", "outcome", "overloaded");
    assertThat(overloaded.count()).isEqualTo(1);
    assertThat(overloaded.totalTime(TimeUnit.NANOSECONDS)).isZero();
    DistributionSummary batch = registry.get("mlops.batch.size").summary();
    assertThat(batch.count()).as("batch size 0 is left out").isEqualTo(2);
    assertThat(batch.totalAmount()).isEqualTo(8.0);
    assertThat(batch.getId().getBaseUnit()).isEqualTo("rows");
    Timer queue = registry.get("mlops.queue.time").timer();
    assertThat(queue.count()).as("only calls that waited").isEqualTo(1);
    assertThat(queue.totalTime(TimeUnit.NANOSECONDS)).isEqualTo(7_000.0);
    assertThat(registry.getMeters())
        .allSatisfy(m -> assertThat(m.getId().getTags()).noneMatch(t -> t.getValue().equals("k")));
  }

  @Test
  void thePredictionPathUsesCachedMetersNotRegistryLookups() {
    MicrometerMetricSink sink = MicrometerMetricSink.create();
    sink.bindTo(registry);
    PredictionEvent event = new PredictionEvent("m", 1, 1_000L, 0L, 1, Outcome.SUCCESS, "");
    sink.onPrediction(event);
    Timer cached = registry.get("mlops.predictions").timer();
    registry.remove(cached);
    for (int i = 0; i < 99; i++) {
      sink.onPrediction(event);
    }
    // Were the registry consulted, it would have made a new timer; the cached one got every call.
    assertThat(registry.find("mlops.predictions").timer()).isNull();
    assertThat(cached.count()).isEqualTo(100);
  }

  @Test
  void eventsBeforeBindingAreDroppedButLoadedVersionsAreTrackedForTheGauges() {
    MicrometerMetricSink sink = MicrometerMetricSink.create();
    sink.onLifecycle(new VersionRegistered(T0, version("m", 1, 300L)));
    sink.onLifecycle(new ModelLoaded(T0, "m", 1, 1_000L));
    sink.onPrediction(new PredictionEvent("m", 1, 1_000L, 0L, 1, Outcome.SUCCESS, ""));
    sink.bindTo(registry);
    assertThat(snapshot(registry))
        .isEqualTo(Map.of("mlops.versions.loaded{model=m}", 1.0, "mlops.cache.weight{}", 300.0));
  }

  @Test
  void loadedVersionsAndWeightFollowLoadsAndUnloadsEvenOutOfOrder() {
    MicrometerMetricSink sink = MicrometerMetricSink.create();
    sink.bindTo(registry);
    sink.onLifecycle(new VersionRegistered(T0, version("m", 1, 100L)));
    sink.onLifecycle(new VersionRegistered(T0, version("m", 2, 250L)));
    sink.onLifecycle(new VersionRegistered(T0, version("other", 1, 7L)));
    sink.onLifecycle(new ModelLoaded(T0, "m", 1, 1L));
    sink.onLifecycle(new ModelLoaded(T0, "m", 2, 1L));
    sink.onLifecycle(new ModelLoaded(T0, "other", 1, 1L));
    assertGauges(2, 1, 357);
    // A reload of v2 reported before the unload of its previous session.
    sink.onLifecycle(new ModelLoaded(T0, "m", 2, 1L));
    sink.onLifecycle(new ModelUnloaded(T0, "m", 2));
    assertGauges(2, 1, 357);
    sink.onLifecycle(new ModelUnloaded(T0, "m", 2));
    assertGauges(1, 1, 107);
    sink.onLifecycle(new ModelUnloaded(T0, "m", 9)); // never seen loaded
    sink.onLifecycle(new ModelLoadFailed(T0, "m", 9, new IllegalStateException("x")));
    sink.onLifecycle(new ModelLoaded(T0, "m", 5, 1L)); // registered before the sink: size unknown
    assertGauges(2, 1, 107);
    sink.onLifecycle(new VersionDeleted(T0, "other", 1, "alice"));
    assertGauges(2, 1, 100);
    assertThat(
            registry
                .get("mlops.model.loads")
                .tags("version", "9", "outcome", "failure")
                .counter()
                .count())
        .isEqualTo(1.0);
    assertThat(
            registry.get("mlops.model.loads").tags("model", "m", "outcome", "success").counters())
        .extracting(c -> c.getId().getTag("version") + "=" + c.count())
        .containsExactlyInAnyOrder("1=1.0", "2=2.0", "5=1.0");
  }

  @Test
  void artifactSizesComeFromTheRegistryForVersionsRegisteredBeforeTheSink() {
    try (GovernedRegistry models = LocalModelRegistry.open(tmp.resolve("registry"))) {
      ModelVersion v1 =
          models.register(
              Registration.builder(
                      "tiny",
                      ArtifactSource.file(TestModels.copy(TestModels.TINY, tmp.resolve("src"))))
                  .build(),
              ALICE);
      MicrometerMetricSink sink = MicrometerMetricSink.builder().artifactSizes(models).build();
      sink.bindTo(registry);
      sink.onLifecycle(new ModelLoaded(T0, "tiny", 1, 1L));
      sink.onLifecycle(new ModelLoaded(T0, "tiny", 7, 1L)); // no such version: weighs 0
      assertThat(registry.get("mlops.cache.weight").gauge().value())
          .isEqualTo((double) v1.sizeBytes())
          .isPositive();
    }
  }

  @Test
  void aSuppliedCacheWeightReplacesTheDerivedOne() {
    double[] weight = {1234.0};
    MicrometerMetricSink sink = MicrometerMetricSink.builder().cacheWeight(() -> weight[0]).build();
    sink.bindTo(registry);
    sink.onLifecycle(new VersionRegistered(T0, version("m", 1, 100L)));
    sink.onLifecycle(new ModelLoaded(T0, "m", 1, 1L));
    assertThat(registry.get("mlops.cache.weight").gauge().value()).isEqualTo(1234.0);
    weight[0] = 99.5;
    assertThat(registry.get("mlops.cache.weight").gauge().value()).isEqualTo(99.5);

    MicrometerMetricSink broken =
        MicrometerMetricSink.builder()
            .cacheWeight(
                () -> {
                  throw new IllegalStateException("no weight");
                })
            .build();
    SimpleMeterRegistry other = new SimpleMeterRegistry();
    broken.bindTo(other);
    assertThat(other.get("mlops.cache.weight").gauge().value()).isNaN();
  }

  @Test
  void bindsOnceToOneRegistry() {
    MicrometerMetricSink sink = MicrometerMetricSink.create();
    sink.bindTo(registry);
    sink.bindTo(registry);
    assertThat(registry.find("mlops.cache.weight").gauges()).hasSize(1);
    assertThatThrownBy(() -> sink.bindTo(new SimpleMeterRegistry()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("already bound")
        .hasMessageContaining("CompositeMeterRegistry");
    assertThat(sink.toString()).contains("SimpleMeterRegistry");
  }

  @Test
  void builderRejectsBadAndConflictingOptionsNamingThem() {
    assertThatThrownBy(() -> MicrometerMetricSink.builder().percentiles(0.5, 1.5))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("percentiles")
        .hasMessageContaining("1.5");
    assertThatThrownBy(() -> MicrometerMetricSink.builder().percentiles())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("percentiles");
    assertThatThrownBy(() -> MicrometerMetricSink.builder().percentiles(0.5).percentiles(0.9))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("percentiles");
    assertThatThrownBy(
            () -> MicrometerMetricSink.builder().percentileHistogram().percentileHistogram())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("percentileHistogram");
    try (GovernedRegistry models = LocalModelRegistry.open(tmp.resolve("r"))) {
      assertThatThrownBy(
              () -> MicrometerMetricSink.builder().cacheWeight(() -> 1.0).artifactSizes(models))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("artifactSizes")
          .hasMessageContaining("cacheWeight");
      assertThatThrownBy(
              () -> MicrometerMetricSink.builder().artifactSizes(models).cacheWeight(() -> 1.0))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("cacheWeight");
    }
  }

  private void assertGauges(int loadedM, int loadedOther, double weight) {
    assertThat(registry.get("mlops.versions.loaded").tag("model", "m").gauge().value())
        .isEqualTo(loadedM);
    assertThat(registry.get("mlops.versions.loaded").tag("model", "other").gauge().value())
        .isEqualTo(loadedOther);
    assertThat(registry.get("mlops.cache.weight").gauge().value()).isEqualTo(weight, within(0.0));
  }

  private Timer timer(String name, String... tags) {
    return registry.get(name).tags(tags).timer();
  }

  /** Every meter as {@code name{k=v,...}} (tags sorted by key) with its count or value. */
  static Map<String, Double> snapshot(MeterRegistry registry) {
    return registry.getMeters().stream()
        .collect(
            Collectors.toMap(
                m ->
                    m.getId().getName()
                        + m.getId().getTags().stream()
                            .map(t -> t.getKey() + "=" + t.getValue())
                            .collect(Collectors.joining(",", "{", "}")),
                MicrometerMetricSinkTest::countOrValue,
                (a, b) -> {
                  throw new AssertionError("duplicate meter id");
                },
                TreeMap::new));
  }

  private static double countOrValue(Meter m) {
    if (m instanceof Timer) {
      return ((Timer) m).count();
    } else if (m instanceof DistributionSummary) {
      return ((DistributionSummary) m).count();
    } else if (m instanceof Counter) {
      return ((Counter) m).count();
    } else if (m instanceof Gauge) {
      return ((Gauge) m).value();
    }
    throw new AssertionError("unexpected meter " + m.getId());
  }

  /**
   * A shadow-only rollout on real models: every stable call's copy on the candidate is timed under
   * its outcome and compared, and a dropped copy is counted.
   */
  @Test
  void shadowCallsAreTimedComparedAndDropsCounted() throws Exception {
    MicrometerMetricSink sink = MicrometerMetricSink.create();
    sink.bindTo(registry);
    RecordingSink recorder = new RecordingSink();
    TestSet test = TestModels.breastCancerTestSet();
    try (Mlops mlops =
        Mlops.builder()
            .localRegistry(tmp.resolve("registry"))
            .metricSink(CompositeMetricSink.of(sink, recorder))
            .swapExecutor(Runnable::run)
            .build()) {
      register(mlops, TestModels.BREAST_CANCER_V1);
      register(mlops, TestModels.BREAST_CANCER_V2);
      mlops.registry().setAlias("cancer", "production", 1, ALICE);
      String id =
          mlops
              .registry()
              .startRollout(
                  "cancer", "production", dev.mlops.api.RolloutSpec.of(2).shadowPercent(100), ALICE)
              .id();
      int n = 60;
      try (Predictor<float[], float[]> predictor =
          mlops.predictor("models:/cancer@production", Codecs.floatRow())) {
        for (int i = 0; i < n; i++) {
          assertThat(predictor.predict(test.features()[i]).version()).isEqualTo(1);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (mlops.state().shadow().mirrored() + mlops.state().shadow().dropped() < n
            || mlops.state().shadow().inFlight() > 0) {
          assertThat(System.nanoTime()).as("the shadow drains").isLessThan(deadline);
          Thread.sleep(2);
        }
      }
      long mirrored = mlops.state().shadow().mirrored();
      assertThat(mirrored).isEqualTo(n);
      Timer shadow =
          registry
              .get(MicrometerMetricSink.SHADOW_PREDICTIONS)
              .tags("model", "cancer", "rollout", id, "version", "2", "outcome", "success")
              .timer();
      assertThat(shadow.count()).isEqualTo(n);
      DistributionSummary diff =
          registry
              .get(MicrometerMetricSink.SHADOW_DIFFERENCE)
              .tags("model", "cancer", "rollout", id)
              .summary();
      assertThat(diff.count()).isEqualTo(n);
      // v2 is another model (an MLP): its probabilities differ from v1's logistic regression.
      assertThat(diff.max()).isGreaterThan(0);
      long argmaxDiffers =
          recorder.shadow.stream()
              .filter(e -> e.comparison().orElseThrow().argmaxDiffers())
              .count();
      assertThat(
              registry
                  .get(MicrometerMetricSink.SHADOW_ARGMAX_DIFFERENCES)
                  .tags("model", "cancer", "rollout", id)
                  .counter()
                  .count())
          .isEqualTo(argmaxDiffers);
      // The callers' own meter saw only the stable arm.
      assertThat(registry.find(MicrometerMetricSink.PREDICTIONS).tags("arm", "candidate").timers())
          .allSatisfy(t -> assertThat(t.count()).isZero());
    }
    sink.onShadow(
        new dev.mlops.api.spi.ShadowEvent(
            "cancer", "r1", 1, 2, true, Outcome.OVERLOADED, 0, java.util.Optional.empty()));
    assertThat(
            registry
                .get(MicrometerMetricSink.SHADOW_DROPPED)
                .tags("model", "cancer", "rollout", "r1")
                .counter()
                .count())
        .isEqualTo(1);
  }

  private ModelVersion register(Mlops mlops, String file) {
    return mlops
        .registry()
        .register(
            Registration.builder(
                    "cancer",
                    ArtifactSource.file(TestModels.copy(file, tmp.resolve("src-" + file))))
                .build(),
            ALICE);
  }

  private static ModelVersion version(String name, long version, long size) {
    String sha = "0".repeat(64);
    return ModelVersion.builder(name, version)
        .createdAt(T0)
        .createdBy("alice")
        .modelFile("model.onnx")
        .files(List.of(new ArtifactFile("model.onnx", size, sha)))
        .digest(sha)
        .signature(new ModelSignature(List.of(), List.of()))
        .build();
  }
}
