package dev.mlops.metrics.drift;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mlops.api.ArtifactFile;
import dev.mlops.api.ElementType;
import dev.mlops.api.ModelSignature;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.Tensor;
import dev.mlops.api.TensorSpec;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class DriftMeterBinderTest {

  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  private static final ModelSignature SIGNATURE =
      new ModelSignature(
          List.of(TensorSpec.of("x", ElementType.FLOAT, -1, 2)),
          List.of(TensorSpec.of("y", ElementType.INT64, -1)));
  private static final DriftBaseline BASELINE =
      DriftBaseline.compute(
          List.of("a", "b"), new float[][] {{1f, 10f}, {2f, 20f}, {3f, 30f}, {4f, 40f}});

  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  @Test
  void gaugesPerFeatureReadTheLatestEvaluationAndAlarmsAreCounted() {
    DriftMonitor monitor = DriftMonitor.builder().baseline(BASELINE).window(4).build();
    observe(monitor, version(1), 1f, 10f); // monitored before binding
    DriftMeterBinder.of(monitor).bindTo(registry);

    List<String> ids =
        registry.getMeters().stream()
            .map(DriftMeterBinderTest::id)
            .sorted()
            .collect(Collectors.toList());
    assertThat(ids)
        .containsExactly(
            "mlops.drift.ks{feature=a,model=m,version=1}",
            "mlops.drift.ks{feature=b,model=m,version=1}",
            "mlops.drift.nan.rate{feature=a,model=m,version=1}",
            "mlops.drift.nan.rate{feature=b,model=m,version=1}",
            "mlops.drift.out.of.range.rate{feature=a,model=m,version=1}",
            "mlops.drift.out.of.range.rate{feature=b,model=m,version=1}",
            "mlops.drift.psi{feature=a,model=m,version=1}",
            "mlops.drift.psi{feature=b,model=m,version=1}",
            "mlops.drift.quantile{feature=a,model=m,quantile=0.05,version=1}",
            "mlops.drift.quantile{feature=a,model=m,quantile=0.5,version=1}",
            "mlops.drift.quantile{feature=a,model=m,quantile=0.95,version=1}",
            "mlops.drift.quantile{feature=b,model=m,quantile=0.05,version=1}",
            "mlops.drift.quantile{feature=b,model=m,quantile=0.5,version=1}",
            "mlops.drift.quantile{feature=b,model=m,quantile=0.95,version=1}");
    assertThat(gauge("mlops.drift.psi", "a").value()).as("not evaluated yet").isNaN();

    observe(monitor, version(1), 1f, 20f);
    observe(monitor, version(1), 1f, 30f);
    observe(monitor, version(1), 100f, 40f); // window full: evaluated
    DriftStats a = monitor.stats().get(0);
    assertThat(gauge("mlops.drift.psi", "a").value())
        .isEqualTo(a.psi())
        .isEqualTo(IndependentDrift.psi(new float[] {1, 2, 3, 4}, new float[] {1, 1, 1, 100}, 10))
        .isPositive();
    assertThat(gauge("mlops.drift.ks", "a").value()).isEqualTo(a.ksStatistic()).isEqualTo(0.5);
    assertThat(gauge("mlops.drift.psi", "b").value()).isZero();
    assertThat(gauge("mlops.drift.out.of.range.rate", "a").value()).isEqualTo(0.25);
    assertThat(gauge("mlops.drift.nan.rate", "a").value()).isZero();
    assertThat(
            registry
                .get("mlops.drift.quantile")
                .tags("feature", "a", "quantile", "0.95")
                .gauge()
                .value())
        .isEqualTo(100.0);
    assertThat(
            registry
                .get("mlops.drift.alarms")
                .tags("feature", "a", "metric", "out_of_range_rate")
                .counter()
                .count())
        .isEqualTo(1.0);
    assertThat(
            registry
                .get("mlops.drift.alarms")
                .tags("feature", "a", "metric", "psi")
                .counter()
                .count())
        .isEqualTo(1.0);
    assertThat(registry.find("mlops.drift.alarms").counters())
        .extracting(c -> c.getId().getTag("feature") + "/" + c.getId().getTag("metric"))
        .containsExactlyInAnyOrder("a/psi", "a/ks_statistic", "a/out_of_range_rate");
  }

  @Test
  void versionsMonitoredLaterGetGaugesAndDroppedVersionsLoseThem() {
    DriftMonitor monitor =
        DriftMonitor.builder().baseline(BASELINE).window(1).maxVersions(1).build();
    DriftMeterBinder binder = DriftMeterBinder.of(monitor);
    binder.bindTo(registry);
    binder.bindTo(registry);
    assertThat(registry.getMeters()).isEmpty();
    observe(monitor, version(1), 1f, 10f);
    assertThat(registry.find("mlops.drift.psi").tag("version", "1").gauges()).hasSize(2);
    observe(monitor, version(2), 1f, 10f);
    assertThat(registry.find("mlops.drift.psi").tag("version", "1").gauges()).isEmpty();
    assertThat(registry.find("mlops.drift.psi").tag("version", "2").gauges()).hasSize(2);
    assertThat(registry.getMeters().stream().filter(m -> m instanceof Gauge))
        .as("7 gauges x 2 features")
        .hasSize(14);
    assertThatThrownBy(() -> binder.bindTo(new SimpleMeterRegistry()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("already bound");
  }

  private Gauge gauge(String name, String feature) {
    return registry.get(name).tags("feature", feature).gauge();
  }

  private static String id(Meter m) {
    return m.getId().getName()
        + m.getId().getTags().stream()
            .map(t -> t.getKey() + "=" + t.getValue())
            .collect(Collectors.joining(",", "{", "}"));
  }

  private static void observe(DriftMonitor monitor, ModelVersion version, float a, float b) {
    monitor.observe(
        version,
        Map.of("x", Tensor.ofFloats(new float[] {a, b}, 1, 2)),
        Map.of("y", Tensor.ofLongs(new long[] {1}, 1)));
  }

  private static ModelVersion version(long v) {
    String sha = "0".repeat(64);
    return ModelVersion.builder("m", v)
        .createdAt(T0)
        .createdBy("alice")
        .modelFile("model.onnx")
        .files(List.of(new ArtifactFile("model.onnx", 10, sha)))
        .digest(sha)
        .signature(SIGNATURE)
        .build();
  }
}
