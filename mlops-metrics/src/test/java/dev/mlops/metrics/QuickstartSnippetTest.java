package dev.mlops.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.Codecs;
import dev.mlops.api.Predictor;
import dev.mlops.api.Registration;
import dev.mlops.metrics.drift.DriftBaseline;
import dev.mlops.metrics.drift.DriftMeterBinder;
import dev.mlops.metrics.drift.DriftMetric;
import dev.mlops.metrics.drift.DriftMonitor;
import dev.mlops.runtime.Mlops;
import dev.mlops.runtime.local.LocalModelRegistry;
import dev.mlops.runtime.registry.GovernedRegistry;
import dev.mlops.testmodels.TestModels;
import dev.mlops.testmodels.TestSet;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The metrics-and-drift snippet handed to the quickstart, kept working here (prints replaced by a
 * list).
 */
class QuickstartSnippetTest {

  @TempDir Path dir;

  @Test
  void snippetShowsMetricsAndADriftAlarmOnTheShiftedFeatures() {
    List<String> out = new ArrayList<>();

    // --- snippet ---
    TestSet data = TestModels.breastCancerTestSet();
    float[][] reference =
        Arrays.copyOfRange(data.features(), 0, 71); // stands in for the training data
    float[][] traffic = Arrays.copyOfRange(data.features(), 71, data.size());
    List<String> names = IntStream.range(0, 30).mapToObj(i -> "f" + i).collect(Collectors.toList());

    try (GovernedRegistry registry = LocalModelRegistry.open(dir.resolve("registry"))) {
      registry.register(
          Registration.builder(
                  "cancer", ArtifactSource.file(TestModels.copy(TestModels.BREAST_CANCER_V2, dir)))
              .attachment(
                  DriftBaseline.ATTACHMENT_NAME, DriftBaseline.compute(names, reference).toBytes())
              .build(),
          AuditInfo.by("quickstart", "first version, with its drift baseline"));

      SimpleMeterRegistry meters = new SimpleMeterRegistry();
      MicrometerMetricSink micrometer =
          MicrometerMetricSink.builder().artifactSizes(registry).build();
      micrometer.bindTo(meters);
      DriftMonitor drift =
          DriftMonitor.builder()
              .baselineAttachment(registry, DriftBaseline.ATTACHMENT_NAME)
              .window(
                  traffic.length) // small data: evaluate every 72 rows, with thresholds to match
              .threshold(DriftMetric.PSI, 2.0)
              .threshold(DriftMetric.KS_STATISTIC, 0.5)
              .threshold(DriftMetric.OUT_OF_RANGE_RATE, 0.15)
              .listener(
                  a ->
                      out.add(
                          String.format(
                              "drift %s: %s %s = %.3f (threshold %.2f)",
                              a.state(), a.feature(), a.metric().tag(), a.value(), a.threshold())))
              .build();
      DriftMeterBinder.of(drift).bindTo(meters);

      try (Mlops mlops =
              Mlops.builder().registry(registry).metricSink(micrometer).observers(drift).build();
          Predictor<float[], float[]> cancer =
              mlops.predictor("models:/cancer/1", Codecs.floatRow("probabilities"))) {
        for (float[] row : traffic) {
          cancer.predict(row); // like the reference data: no alarm
        }
        for (float[] row : traffic) {
          float[] shifted = row.clone();
          shifted[0] += 10.5f; // mean radius, about +3 standard deviations
          shifted[7] += 0.12f; // mean concave points, about +3 standard deviations
          cancer.predict(shifted); // alarms on f0 and f7
        }
      }
      for (Timer t : meters.find(MicrometerMetricSink.PREDICTIONS).timers()) {
        out.add(
            String.format(
                "%s{model=%s,version=%s,outcome=%s} count=%d mean=%.3f ms",
                t.getId().getName(),
                t.getId().getTag("model"),
                t.getId().getTag("version"),
                t.getId().getTag("outcome"),
                t.count(),
                t.mean(TimeUnit.MILLISECONDS)));
      }
      out.add(
          String.format(
              "mlops.drift.psi{feature=f0} = %.3f",
              meters.get(DriftMeterBinder.PSI).tag("feature", "f0").gauge().value()));
    }
    // --- end of snippet ---

    List<String> alarms =
        out.stream().filter(l -> l.startsWith("drift RAISED")).collect(Collectors.toList());
    assertThat(alarms)
        .allMatch(l -> l.startsWith("drift RAISED: f0 ") || l.startsWith("drift RAISED: f7 "));
    assertThat(alarms).anyMatch(l -> l.startsWith("drift RAISED: f0 psi"));
    assertThat(alarms).anyMatch(l -> l.startsWith("drift RAISED: f7 psi"));
    assertThat(out)
        .anyMatch(
            l ->
                l.startsWith(
                    "mlops.predictions{model=cancer,version=1,outcome=success} count=144 "));
    assertThat(out.get(out.size() - 1)).startsWith("mlops.drift.psi{feature=f0} = ");
  }
}
