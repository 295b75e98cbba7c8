package dev.mlops.metrics.drift;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mlops.api.ArtifactFile;
import dev.mlops.api.ElementType;
import dev.mlops.api.ModelSignature;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.Tensor;
import dev.mlops.api.TensorSpec;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class DriftMonitorTest {

  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  private static final ModelSignature SIGNATURE =
      new ModelSignature(
          List.of(TensorSpec.of("features", ElementType.FLOAT, -1, 3)),
          List.of(
              TensorSpec.of("label", ElementType.INT64, -1),
              TensorSpec.of("probabilities", ElementType.FLOAT, -1, 2)));
  private static final ModelVersion V1 = version("m", 1, SIGNATURE);
  private static final ModelVersion V2 = version("m", 2, SIGNATURE);

  /** 100 reference rows: column 0 is 1..100, column 1 is 0..99 / 100, column 2 is constant 5. */
  private static final float[][] REFERENCE = new float[100][];

  static {
    for (int i = 0; i < 100; i++) {
      REFERENCE[i] = new float[] {i + 1, i / 100f, 5f};
    }
  }

  private static final DriftBaseline BASELINE =
      DriftBaseline.builder()
          .features(List.of("a", "b", "c"), REFERENCE)
          .feature(DriftBaseline.PREDICTION, column(REFERENCE, 1))
          .build();

  private final List<DriftAlarm> alarms = new CopyOnWriteArrayList<>();

  @Test
  void theWindowKeepsTheLastRowsAndIsEvaluatedEveryIntervalOnceFull() {
    DriftMonitor monitor =
        DriftMonitor.builder().baseline(BASELINE).window(4).evaluateEvery(2).build();
    for (int i = 1; i <= 3; i++) {
      observe(monitor, V1, row(i, 0.5f, 5f));
    }
    assertThat(monitor.stats()).as("window not full yet").isEmpty();
    observe(monitor, V1, row(4, 0.5f, 5f));
    assertThat(stat(monitor.stats(), "a").observed()).isEqualTo(4);
    observe(monitor, V1, row(5, 0.5f, 5f));
    assertThat(stat(monitor.stats(), "a").observed())
        .as("1 row since the last evaluation")
        .isEqualTo(4);
    observe(monitor, V1, row(6, 0.5f, 5f));
    DriftStats a = stat(monitor.stats(), "a");
    assertThat(a.observed()).isEqualTo(6);
    assertThat(a.windowRows()).isEqualTo(4);
    // The window holds rows 3..6.
    assertThat(a.p05()).isEqualTo(3.0);
    assertThat(a.p50()).isEqualTo(4.0);
    assertThat(a.p95()).isEqualTo(6.0);
    assertThat(a.binProportions())
        .containsExactly(1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
  }

  @Test
  void alarmsAreRaisedOncePerCrossingAndClearedWhenTheMeasureComesBack() {
    DriftMonitor monitor =
        DriftMonitor.builder()
            .baseline(BASELINE)
            .window(100)
            .threshold(DriftMetric.PSI, 0.5)
            .noThreshold(DriftMetric.KS_STATISTIC)
            .noThreshold(DriftMetric.OUT_OF_RANGE_RATE)
            .listener(alarms::add)
            .build();
    feed(monitor, V1, REFERENCE);
    assertThat(alarms).isEmpty();
    assertThat(stat(monitor.stats(), "a").psi()).isZero();

    float[][] shifted = shift(REFERENCE, 0, 50f);
    feed(monitor, V1, shifted);
    assertThat(alarms)
        .singleElement()
        .satisfies(
            alarm -> {
              assertThat(alarm.feature()).isEqualTo("a");
              assertThat(alarm.metric()).isEqualTo(DriftMetric.PSI);
              assertThat(alarm.state()).isEqualTo(DriftAlarm.State.RAISED);
              assertThat(alarm.threshold()).isEqualTo(0.5);
              assertThat(alarm.value())
                  .isEqualTo(IndependentDrift.psi(column(REFERENCE, 0), column(shifted, 0), 10));
            });
    feed(monitor, V1, shifted);
    feed(monitor, V1, shifted);
    assertThat(alarms).hasSize(1);
    assertThat(monitor.activeAlarms()).containsExactlyElementsOf(alarms);

    feed(monitor, V1, REFERENCE);
    assertThat(alarms).hasSize(2);
    assertThat(alarms.get(1).state()).isEqualTo(DriftAlarm.State.CLEARED);
    assertThat(alarms.get(1).value()).isZero();
    assertThat(monitor.activeAlarms()).isEmpty();
  }

  @Test
  void nanAndOutOfRangeRatesCountWindowRowsAndNanIsLeftOutOfTheDistribution() {
    DriftMonitor monitor =
        DriftMonitor.builder()
            .baseline(BASELINE)
            .window(10)
            .threshold(DriftMetric.NAN_RATE, 0.25)
            .noThreshold(DriftMetric.PSI)
            .noThreshold(DriftMetric.KS_STATISTIC)
            .noThreshold(DriftMetric.OUT_OF_RANGE_RATE)
            .listener(alarms::add)
            .build();
    float[][] rows = new float[10][];
    for (int i = 0; i < 10; i++) {
      rows[i] =
          row(
              i < 3 ? Float.NaN : i < 5 ? 1000f : i * 10,
              i == 9 ? Float.NEGATIVE_INFINITY : 0.5f,
              5f);
    }
    rows[5][0] = 100f; // the reference maximum and minimum are in range
    rows[6][0] = 1f;
    feed(monitor, V1, rows);
    DriftStats a = stat(monitor.stats(), "a");
    assertThat(a.nanRate()).isEqualTo(0.3);
    assertThat(a.outOfRangeRate()).as("1000 twice, above the maximum 100").isEqualTo(0.2);
    assertThat(a.binProportions().stream().mapToDouble(Double::doubleValue).sum())
        .isCloseTo(1.0, org.assertj.core.api.Assertions.within(1e-12));
    assertThat(a.ksStatistic())
        .isEqualTo(IndependentDrift.ks(column(REFERENCE, 0), column(rows, 0)));
    assertThat(a.p50()).isEqualTo(IndependentDrift.quantile(column(rows, 0), 0.5));
    assertThat(stat(monitor.stats(), "b").outOfRangeRate())
        .as("-infinity is out of range")
        .isEqualTo(0.1);
    assertThat(alarms)
        .singleElement()
        .satisfies(
            alarm -> {
              assertThat(alarm.feature()).isEqualTo("a");
              assertThat(alarm.metric()).isEqualTo(DriftMetric.NAN_RATE);
              assertThat(alarm.value()).isEqualTo(0.3);
            });
  }

  @Test
  void batchesRankOneInputsAndFloat64InputsAreReadRowByRow() {
    ModelSignature doubles =
        new ModelSignature(
            List.of(TensorSpec.of("x", ElementType.DOUBLE, 3)),
            List.of(TensorSpec.of("y", ElementType.DOUBLE, 1)));
    ModelVersion v = version("d", 1, doubles);
    DriftMonitor monitor = DriftMonitor.builder().baseline(BASELINE).window(5).build();
    for (int i = 0; i < 5; i++) {
      monitor.observe(
          v,
          Map.of("x", Tensor.ofDoubles(new double[] {i + 1, 0.5, 5}, 3)),
          Map.of("y", Tensor.ofDoubles(new double[] {i / 10.0}, 1)));
    }
    DriftMonitor batched = DriftMonitor.builder().baseline(BASELINE).window(5).build();
    float[][] rows = new float[5][];
    for (int i = 0; i < 5; i++) {
      rows[i] = row(i + 1, 0.5f, 5f);
    }
    batched.observe(V1, inputs(rows), outputs(new float[] {0f, 0.1f, 0.2f, 0.3f, 0.4f}));

    List<DriftStats> one = monitor.stats();
    List<DriftStats> other = batched.stats();
    assertThat(one).hasSize(4);
    assertThat(other).hasSize(4);
    for (int c = 0; c < 4; c++) {
      assertThat(one.get(c).feature()).isEqualTo(other.get(c).feature());
      assertThat(one.get(c).psi()).isEqualTo(other.get(c).psi());
      assertThat(one.get(c).ksStatistic()).isEqualTo(other.get(c).ksStatistic());
      assertThat(one.get(c).p50()).isEqualTo(other.get(c).p50());
    }
    assertThat(stat(other, DriftBaseline.PREDICTION).p50()).isEqualTo(0.2f);
  }

  @Test
  void thePredictionIsTheLastColumnOfTheFirstFloatOutputUnlessConfigured() {
    float[][] rows = {row(1, 0.1f, 5f), row(2, 0.2f, 5f)};
    float[] probabilities = {0.9f, 0.1f, 0.3f, 0.7f};
    Map<String, Tensor> outputs =
        Map.of(
            "probabilities",
            Tensor.ofFloats(probabilities, 2, 2),
            "label",
            Tensor.ofLongs(new long[] {0, 1}, 2));

    DriftMonitor byDefault = DriftMonitor.builder().window(2).build();
    byDefault.observe(V1, inputs(rows), outputs);
    assertThat(byDefault.stats())
        .extracting(DriftStats::feature)
        .containsExactly("f0", "f1", "f2", "prediction");
    assertThat(stat(byDefault.stats(), "prediction").p05()).isEqualTo(0.1f);
    assertThat(stat(byDefault.stats(), "prediction").p95()).isEqualTo(0.7f);

    DriftMonitor column0 =
        DriftMonitor.builder()
            .window(2)
            .prediction("probabilities", 0)
            .featureNames(List.of("x", "y", "z"))
            .build();
    column0.observe(V1, inputs(rows), outputs);
    assertThat(column0.stats())
        .extracting(DriftStats::feature)
        .containsExactly("x", "y", "z", "prediction");
    assertThat(stat(column0.stats(), "prediction").p95()).isEqualTo(0.9f);

    DriftMonitor inputsOnly = DriftMonitor.builder().window(2).ignorePrediction().build();
    inputsOnly.observe(V1, inputs(rows), outputs);
    assertThat(inputsOnly.stats())
        .extracting(DriftStats::feature)
        .containsExactly("f0", "f1", "f2");
  }

  @Test
  void withoutABaselineOnlyNanRatesAndQuantilesAreMeasured() {
    DriftMonitor monitor =
        DriftMonitor.builder()
            .baselines(v -> v.version() == 1 ? Optional.empty() : Optional.of(BASELINE))
            .window(2)
            .build();
    observe(monitor, V1, row(1, Float.NaN, 5f), row(2, 0.5f, 5f));
    DriftStats b = stat(monitor.stats(), "f1");
    assertThat(b.nanRate()).isEqualTo(0.5);
    assertThat(b.p50()).isEqualTo(0.5f);
    assertThat(b.psi()).isNaN();
    assertThat(b.ksStatistic()).isNaN();
    assertThat(b.ksPValue()).isNaN();
    assertThat(b.outOfRangeRate()).isNaN();
    assertThat(b.binProportions()).isEmpty();
    assertThat(monitor.activeAlarms())
        .as("NaN rate 0.5 is above the default 0.01; the prediction is column b")
        .extracting(a -> a.feature() + "/" + a.metric())
        .containsExactly("f1/NAN_RATE", "prediction/NAN_RATE");
  }

  @Test
  void aBaselineThatCannotBeLoadedLeavesTheVersionMonitoredWithoutIt() {
    DriftMonitor monitor =
        DriftMonitor.builder()
            .baselines(
                v -> {
                  throw new IllegalStateException("storage down");
                })
            .window(1)
            .build();
    observe(monitor, V1, row(1, 0.5f, 5f));
    assertThat(monitor.stats())
        .extracting(DriftStats::feature)
        .containsExactly("f0", "f1", "f2", "prediction");
    assertThat(monitor.stats()).allSatisfy(s -> assertThat(s.psi()).isNaN());
  }

  @Test
  void versionsAreMonitoredApartAndTheOldestIsDroppedBeyondTheLimit() {
    DriftMonitor monitor =
        DriftMonitor.builder().baseline(BASELINE).window(1).maxVersions(2).build();
    observe(monitor, V1, row(1, 0.5f, 5f));
    observe(monitor, V2, row(2, 0.5f, 5f));
    assertThat(
            monitor.stats().stream()
                .map(s -> s.version() + ":" + s.feature() + "=" + s.p50())
                .filter(s -> s.contains(":a=")))
        .containsExactly("1:a=1.0", "2:a=2.0");
    ModelVersion v3 = version("m", 3, SIGNATURE);
    observe(monitor, v3, row(3, 0.5f, 5f));
    assertThat(monitor.stats().stream().map(DriftStats::version).distinct())
        .containsExactly(2L, 3L);
    observe(monitor, V1, row(7, 0.5f, 5f)); // v1 starts again, from scratch; v2 is dropped
    assertThat(monitor.stats().stream().map(DriftStats::version).distinct())
        .containsExactly(1L, 3L);
    assertThat(stat(monitor.stats(), "a").observed()).isEqualTo(1);
  }

  @Test
  void unreadableInputsSkipTheVersionAndObserveNeverThrows() {
    ModelSignature ints =
        new ModelSignature(
            List.of(TensorSpec.of("ids", ElementType.INT64, -1, 3)),
            List.of(TensorSpec.of("y", ElementType.FLOAT, -1)));
    ModelVersion v = version("ints", 1, ints);
    DriftMonitor monitor = DriftMonitor.builder().window(1).build();
    assertThatCode(
            () ->
                monitor.observe(
                    v, Map.of("ids", Tensor.ofLongs(new long[] {1, 2, 3}, 1, 3)), Map.of()))
        .doesNotThrowAnyException();
    assertThat(monitor.evaluate()).isEmpty();

    DriftMonitor named = DriftMonitor.builder().input("missing").window(1).build();
    assertThatCode(() -> observe(named, V1, row(1, 2, 3))).doesNotThrowAnyException();
    assertThat(named.stats()).isEmpty();

    DriftMonitor narrow =
        DriftMonitor.builder().window(1).featureNames(List.of("only-one")).build();
    observe(narrow, V1, row(1, 2, 3));
    assertThat(narrow.stats()).isEmpty();

    DriftMonitor wrongWidthLater = DriftMonitor.builder().window(1).build();
    observe(wrongWidthLater, V1, row(1, 2, 3));
    assertThatCode(
            () ->
                wrongWidthLater.observe(
                    V1, Map.of("features", Tensor.ofFloats(new float[] {1, 2}, 1, 2)), Map.of()))
        .doesNotThrowAnyException();
    assertThat(stat(wrongWidthLater.stats(), "f0").observed()).isEqualTo(1);
  }

  @Test
  void aFailingListenerNeitherStopsOtherAlarmsNorReachesThePredictionThread() {
    List<DriftAlarm> seen = new ArrayList<>();
    DriftMonitor monitor =
        DriftMonitor.builder()
            .baseline(BASELINE)
            .window(100)
            .listener(
                a -> {
                  seen.add(a);
                  throw new IllegalStateException("listener bug");
                })
            .build();
    assertThatCode(() -> feed(monitor, V1, shift(shift(REFERENCE, 0, 500f), 1, 5f)))
        .doesNotThrowAnyException();
    assertThat(seen.stream().map(a -> a.feature() + "/" + a.metric()).collect(Collectors.toSet()))
        .contains(
            "a/PSI",
            "a/KS_STATISTIC",
            "a/OUT_OF_RANGE_RATE",
            "b/PSI",
            "b/KS_STATISTIC",
            "b/OUT_OF_RANGE_RATE");
  }

  @Test
  void aGivenExecutorRunsTheIntervalEvaluations() throws Exception {
    List<Runnable> tasks = new ArrayList<>();
    DriftMonitor monitor =
        DriftMonitor.builder().baseline(BASELINE).window(2).executor(tasks::add).build();
    observe(monitor, V1, row(1, 0.5f, 5f), row(2, 0.5f, 5f));
    assertThat(monitor.stats()).isEmpty();
    assertThat(tasks).hasSize(1);
    CountDownLatch done = new CountDownLatch(1);
    Thread evaluator =
        new Thread(
            () -> {
              tasks.get(0).run();
              done.countDown();
            });
    evaluator.start();
    assertThat(done.await(10, TimeUnit.SECONDS)).isTrue();
    assertThat(stat(monitor.stats(), "a").windowRows()).isEqualTo(2);
  }

  @Test
  void aKolmogorovSmirnovPValueThresholdAlarmsBelowIt() {
    DriftMonitor monitor =
        DriftMonitor.builder()
            .baseline(BASELINE)
            .window(100)
            .clock(Clock.fixed(T0, ZoneOffset.UTC))
            .threshold(DriftMetric.KS_P_VALUE, 0.001)
            .noThreshold(DriftMetric.PSI)
            .noThreshold(DriftMetric.KS_STATISTIC)
            .noThreshold(DriftMetric.OUT_OF_RANGE_RATE)
            .listener(alarms::add)
            .build();
    feed(monitor, V1, shift(REFERENCE, 0, 30f));
    DriftStats a = stat(monitor.stats(), "a");
    assertThat(a.ksStatistic()).isCloseTo(0.3, org.assertj.core.api.Assertions.within(1e-12));
    assertThat(a.ksPValue())
        .isCloseTo(
            IndependentDrift.ksPValue(0.3, 100, 100), org.assertj.core.api.Assertions.within(1e-6))
        .isLessThan(0.001);
    assertThat(alarms)
        .singleElement()
        .satisfies(
            alarm -> {
              assertThat(alarm.metric()).isEqualTo(DriftMetric.KS_P_VALUE);
              assertThat(alarm.feature()).isEqualTo("a");
              assertThat(alarm.time()).isEqualTo(T0);
              assertThat(alarm.value()).isEqualTo(a.ksPValue());
            });
  }

  @Test
  void builderRejectsBadAndConflictingOptionsNamingThem() {
    assertThatThrownBy(
            () -> DriftMonitor.builder().baseline(BASELINE).baselines(v -> Optional.empty()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("baseline source was already set");
    assertThatThrownBy(() -> DriftMonitor.builder().prediction("p", 1).ignorePrediction())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("ignorePrediction");
    assertThatThrownBy(() -> DriftMonitor.builder().prediction("p", -1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("column");
    assertThatThrownBy(() -> DriftMonitor.builder().window(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("window");
    assertThatThrownBy(() -> DriftMonitor.builder().window(5).window(6))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("window");
    assertThatThrownBy(() -> DriftMonitor.builder().threshold(DriftMetric.KS_P_VALUE, 1.0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("KS_P_VALUE");
    assertThatThrownBy(() -> DriftMonitor.builder().threshold(DriftMetric.NAN_RATE, 1.5))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("NAN_RATE");
    assertThatThrownBy(
            () ->
                DriftMonitor.builder().threshold(DriftMetric.PSI, 0.1).noThreshold(DriftMetric.PSI))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("PSI");
    assertThatThrownBy(() -> DriftMonitor.builder().featureNames(List.of("a", "a")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("featureNames");
    assertThatThrownBy(() -> DriftMonitor.builder().featureNames(List.of("prediction")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("prediction");
    assertThat(DriftMonitor.builder().window(10).build().toString())
        .contains("window=10", "evaluateEvery=10");
  }

  // ---------------------------------------------------------------- helpers

  private static void feed(DriftMonitor monitor, ModelVersion version, float[][] rows) {
    for (float[] r : rows) {
      observe(monitor, version, r);
    }
  }

  private static void observe(DriftMonitor monitor, ModelVersion version, float[]... rows) {
    float[] predictions = new float[rows.length];
    for (int i = 0; i < rows.length; i++) {
      predictions[i] = rows[i][1];
    }
    monitor.observe(version, inputs(rows), outputs(predictions));
  }

  private static Map<String, Tensor> inputs(float[][] rows) {
    float[] flat = new float[rows.length * 3];
    for (int i = 0; i < rows.length; i++) {
      System.arraycopy(rows[i], 0, flat, i * 3, 3);
    }
    return Map.of("features", Tensor.ofFloats(flat, rows.length, 3));
  }

  /** Outputs whose positive-class probability is the given value. */
  private static Map<String, Tensor> outputs(float[] positive) {
    float[] probabilities = new float[positive.length * 2];
    long[] labels = new long[positive.length];
    for (int i = 0; i < positive.length; i++) {
      probabilities[2 * i] = 1f - positive[i];
      probabilities[2 * i + 1] = positive[i];
      labels[i] = positive[i] > 0.5f ? 1 : 0;
    }
    return Map.of(
        "label",
        Tensor.ofLongs(labels, positive.length),
        "probabilities",
        Tensor.ofFloats(probabilities, positive.length, 2));
  }

  private static float[] row(float a, float b, float c) {
    return new float[] {a, b, c};
  }

  private static float[][] shift(float[][] rows, int column, float by) {
    float[][] out = new float[rows.length][];
    for (int i = 0; i < rows.length; i++) {
      out[i] = rows[i].clone();
      out[i][column] += by;
    }
    return out;
  }

  private static float[] column(float[][] rows, int c) {
    return IndependentDrift.column(rows, c);
  }

  private static DriftStats stat(List<DriftStats> stats, String feature) {
    return stats.stream()
        .filter(s -> s.feature().equals(feature))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no stats for " + feature + " in " + stats));
  }

  private static ModelVersion version(String name, long version, ModelSignature signature) {
    String sha = "0".repeat(64);
    return ModelVersion.builder(name, version)
        .createdAt(T0)
        .createdBy("alice")
        .modelFile("model.onnx")
        .files(List.of(new ArtifactFile("model.onnx", 10, sha)))
        .digest(sha)
        .signature(signature)
        .build();
  }
}
