package dev.mlops.metrics.drift;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.Codecs;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.Predictor;
import dev.mlops.api.Registration;
import dev.mlops.runtime.Mlops;
import dev.mlops.runtime.local.LocalModelRegistry;
import dev.mlops.runtime.registry.GovernedRegistry;
import dev.mlops.testmodels.TestModels;
import dev.mlops.testmodels.TestSet;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The acceptance test of drift monitoring, on the real breast-cancer classifier served by the real
 * runtime. The fixtures ship only the 143 held-out rows, so the first 71 stand in for the training
 * data (the baseline, stored with the version as an attachment) and the other 72 are the traffic.
 */
class DriftMonitorFixtureTest {

  private static final AuditInfo ALICE = AuditInfo.by("alice", "drift test");
  private static final int SPLIT = 71;
  private static final Set<Integer> SHIFTED = Set.of(0, 7);
  private static final double TOLERANCE = 1e-12;

  // With 71 reference rows and a 72-row window, sampling noise alone gives PSI up to ~0.7, KS up
  // to ~0.19 and out-of-range rates up to ~0.08 on these features (the defaults are for windows of
  // a thousand rows); a 3-sigma shift gives PSI above 7, KS above 0.87 and out-of-range rates
  // above 0.19. The thresholds sit between.
  private static final double PSI_THRESHOLD = 2.0;
  private static final double KS_THRESHOLD = 0.5;
  private static final double OUT_OF_RANGE_THRESHOLD = 0.15;

  @TempDir Path tmp;

  @Test
  void heldOutRowsRaiseNoAlarmAndRowsShiftedByThreeSigmaRaiseAlarmsOnExactlyTheShiftedFeatures() {
    TestSet test = TestModels.breastCancerTestSet();
    float[][] reference = Arrays.copyOfRange(test.features(), 0, SPLIT);
    float[][] heldOut = Arrays.copyOfRange(test.features(), SPLIT, test.size());
    int width = reference[0].length;
    List<String> names = new ArrayList<>();
    for (int i = 0; i < width; i++) {
      names.add("f" + i);
    }
    float[][] shifted = new float[heldOut.length][];
    for (int r = 0; r < heldOut.length; r++) {
      shifted[r] = heldOut[r].clone();
    }
    for (int f : SHIFTED) {
      float delta =
          (float) (3 * IndependentDrift.populationStd(IndependentDrift.column(reference, f)));
      for (float[] row : shifted) {
        row[f] += delta;
      }
    }

    try (GovernedRegistry registry = LocalModelRegistry.open(tmp.resolve("registry"))) {
      Path model = TestModels.copy(TestModels.BREAST_CANCER_V1, tmp.resolve("source"));
      // Version 1 only serves to compute the model's predictions on the reference rows.
      registry.register(Registration.builder("cancer", ArtifactSource.file(model)).build(), ALICE);
      float[] referencePredictions;
      try (Mlops plain = Mlops.builder().registry(registry).build();
          Predictor<float[], float[]> p =
              plain.predictor("models:/cancer/1", Codecs.floatRow("probabilities"))) {
        referencePredictions = positiveClass(p, reference);
      }
      DriftBaseline baseline =
          DriftBaseline.builder()
              .features(names, reference)
              .feature(DriftBaseline.PREDICTION, referencePredictions)
              .build();
      ModelVersion v2 =
          registry.register(
              Registration.builder("cancer", ArtifactSource.file(model))
                  .attachment(DriftBaseline.ATTACHMENT_NAME, baseline.toBytes())
                  .build(),
              ALICE);

      List<DriftAlarm> alarms = new CopyOnWriteArrayList<>();
      DriftMonitor monitor =
          DriftMonitor.builder()
              .baselineAttachment(registry, DriftBaseline.ATTACHMENT_NAME)
              .window(heldOut.length)
              .threshold(DriftMetric.PSI, PSI_THRESHOLD)
              .threshold(DriftMetric.KS_STATISTIC, KS_THRESHOLD)
              .threshold(DriftMetric.OUT_OF_RANGE_RATE, OUT_OF_RANGE_THRESHOLD)
              .listener(alarms::add)
              .build();
      try (Mlops mlops = Mlops.builder().registry(registry).observers(monitor).build();
          Predictor<float[], float[]> predictor =
              mlops.predictor("models:/cancer/2", Codecs.floatRow("probabilities"))) {

        // 1. Traffic like the reference: evaluated once the 72-row window is full, no alarm.
        float[] heldOutPredictions = positiveClass(predictor, heldOut);
        assertThat(alarms).isEmpty();
        List<DriftStats> stats = monitor.stats();
        assertThat(stats)
            .extracting(DriftStats::feature)
            .containsExactlyElementsOf(withPrediction(names));
        assertThat(stats)
            .allSatisfy(
                s -> {
                  assertThat(s.model()).isEqualTo("cancer");
                  assertThat(s.version()).isEqualTo(v2.version());
                  assertThat(s.windowRows()).isEqualTo(heldOut.length);
                  assertThat(s.observed()).isEqualTo(heldOut.length);
                });
        assertMatchesIndependentComputation(
            stats, reference, referencePredictions, heldOut, heldOutPredictions);

        // 2. The same rows with features 0 and 7 shifted by 3 standard deviations.
        float[] shiftedPredictions = positiveClass(predictor, shifted);
        stats = monitor.stats();
        assertMatchesIndependentComputation(
            stats, reference, referencePredictions, shifted, shiftedPredictions);
        assertThat(alarms)
            .allSatisfy(
                a -> {
                  assertThat(a.state()).isEqualTo(DriftAlarm.State.RAISED);
                  assertThat(a.model()).isEqualTo("cancer");
                  assertThat(a.version()).isEqualTo(2);
                });
        Set<String> alarmedInputs =
            alarms.stream()
                .map(DriftAlarm::feature)
                .filter(f -> !f.equals(DriftBaseline.PREDICTION))
                .collect(Collectors.toSet());
        assertThat(alarmedInputs).containsExactlyInAnyOrder("f0", "f7");
        for (String f : List.of("f0", "f7")) {
          assertThat(alarms.stream().filter(a -> a.feature().equals(f)).map(DriftAlarm::metric))
              .as(f)
              .containsExactlyInAnyOrder(
                  DriftMetric.PSI, DriftMetric.KS_STATISTIC, DriftMetric.OUT_OF_RANGE_RATE);
        }
        for (DriftAlarm a : alarms) {
          DriftStats s =
              stats.stream().filter(x -> x.feature().equals(a.feature())).findFirst().orElseThrow();
          assertThat(a.value()).isEqualTo(s.value(a.metric()));
        }
        // The prediction alarms exactly where its own measures cross the thresholds.
        DriftStats prediction = stats.get(stats.size() - 1);
        Set<DriftMetric> expectedPredictionAlarms = new java.util.HashSet<>();
        if (prediction.psi() > PSI_THRESHOLD) {
          expectedPredictionAlarms.add(DriftMetric.PSI);
        }
        if (prediction.ksStatistic() > KS_THRESHOLD) {
          expectedPredictionAlarms.add(DriftMetric.KS_STATISTIC);
        }
        if (prediction.outOfRangeRate() > OUT_OF_RANGE_THRESHOLD) {
          expectedPredictionAlarms.add(DriftMetric.OUT_OF_RANGE_RATE);
        }
        assertThat(
                alarms.stream()
                    .filter(a -> a.feature().equals(DriftBaseline.PREDICTION))
                    .map(DriftAlarm::metric))
            .containsExactlyInAnyOrderElementsOf(expectedPredictionAlarms);
        assertThat(monitor.activeAlarms()).containsExactlyInAnyOrderElementsOf(alarms);

        // 3. Still shifted: the measures stay above their thresholds, so no new alarm.
        int raised = alarms.size();
        positiveClass(predictor, shifted);
        assertThat(alarms).hasSize(raised);

        // 4. Back to normal: each alarm is cleared, once.
        positiveClass(predictor, heldOut);
        assertThat(alarms).hasSize(2 * raised);
        List<DriftAlarm> cleared = alarms.subList(raised, alarms.size());
        assertThat(cleared)
            .allSatisfy(a -> assertThat(a.state()).isEqualTo(DriftAlarm.State.CLEARED));
        assertThat(cleared.stream().map(a -> a.feature() + "/" + a.metric()))
            .containsExactlyInAnyOrderElementsOf(
                alarms.subList(0, raised).stream()
                    .map(a -> a.feature() + "/" + a.metric())
                    .collect(Collectors.toList()));
        assertThat(monitor.activeAlarms()).isEmpty();
        assertThat(monitor.stats().get(0).observed()).isEqualTo(4L * heldOut.length);
      }
    }
  }

  private static void assertMatchesIndependentComputation(
      List<DriftStats> stats,
      float[][] reference,
      float[] referencePredictions,
      float[][] window,
      float[] windowPredictions) {
    for (int c = 0; c < stats.size(); c++) {
      boolean isPrediction = c == reference[0].length;
      float[] ref = isPrediction ? referencePredictions : IndependentDrift.column(reference, c);
      float[] win = isPrediction ? windowPredictions : IndependentDrift.column(window, c);
      DriftStats s = stats.get(c);
      double ks = IndependentDrift.ks(ref, win);
      assertThat(s.psi())
          .as("psi of %s", s.feature())
          .isCloseTo(IndependentDrift.psi(ref, win, 10), within(TOLERANCE));
      assertThat(s.ksStatistic()).as("ks of %s", s.feature()).isCloseTo(ks, within(TOLERANCE));
      assertThat(s.ksPValue())
          .as("ks p-value of %s", s.feature())
          .isCloseTo(IndependentDrift.ksPValue(ks, ref.length, win.length), within(1e-6));
      assertThat(s.outOfRangeRate())
          .as("out-of-range rate of %s", s.feature())
          .isEqualTo(IndependentDrift.outOfRangeRate(ref, win));
      assertThat(s.nanRate()).isZero();
      assertThat(s.p05())
          .as("p05 of %s", s.feature())
          .isEqualTo(IndependentDrift.quantile(win, 0.05));
      assertThat(s.p50())
          .as("p50 of %s", s.feature())
          .isEqualTo(IndependentDrift.quantile(win, 0.50));
      assertThat(s.p95())
          .as("p95 of %s", s.feature())
          .isEqualTo(IndependentDrift.quantile(win, 0.95));
      double[] histogram = IndependentDrift.proportions(win, IndependentDrift.edges(ref, 10));
      assertThat(s.binProportions()).hasSize(histogram.length);
      for (int i = 0; i < histogram.length; i++) {
        assertThat(s.binProportions().get(i)).isCloseTo(histogram[i], within(TOLERANCE));
      }
    }
  }

  private static float[] positiveClass(Predictor<float[], float[]> predictor, float[][] rows) {
    float[] out = new float[rows.length];
    for (int r = 0; r < rows.length; r++) {
      out[r] = predictor.predict(rows[r]).value()[1];
    }
    return out;
  }

  private static List<String> withPrediction(List<String> names) {
    List<String> all = new ArrayList<>(names);
    all.add(DriftBaseline.PREDICTION);
    return all;
  }
}
