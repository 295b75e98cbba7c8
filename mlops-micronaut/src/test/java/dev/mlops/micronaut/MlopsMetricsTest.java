package dev.mlops.micronaut;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mlops.api.Predictor;
import dev.mlops.metrics.MicrometerMetricSink;
import dev.mlops.metrics.drift.DriftMeterBinder;
import dev.mlops.testmodels.TestModels;
import io.micrometer.core.instrument.MeterRegistry;
import io.micronaut.context.ApplicationContext;
import io.micronaut.inject.qualifiers.Qualifiers;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MlopsMetricsTest {

  @TempDir Path dir;

  @Test
  @SuppressWarnings("unchecked")
  void predictionsAndDriftAreMetersOfTheApplicationsRegistry() {
    // The platform's Micrometer, not the root's newer one.
    assertThat(MeterRegistry.class.getPackage().getImplementationVersion()).startsWith("1.15.");
    Path models = TestRegistry.create(dir);
    try (ApplicationContext ctx =
        ApplicationContext.run(
            Map.of(
                "mlops.registry.url", models.toString(),
                "mlops.predictors.cancer.model", "models:/cancer@production",
                "mlops.predictors.cancer.output", "probabilities",
                "test.drift", "true"))) {
      Predictor<float[], float[]> cancer =
          ctx.getBean(Predictor.class, Qualifiers.byName("cancer"));
      float[][] rows = TestModels.breastCancerTestSet().features();
      for (int i = 0; i < 60; i++) {
        cancer.predict(rows[i]);
      }
      MeterRegistry registry = ctx.getBean(MeterRegistry.class);
      assertThat(
              registry
                  .get(MicrometerMetricSink.PREDICTIONS)
                  .tags("model", "cancer", "version", "1", "outcome", "success")
                  .timer()
                  .count())
          .isEqualTo(60);
      assertThat(
              registry
                  .get(MicrometerMetricSink.MODEL_LOADS)
                  .tags("model", "cancer", "version", "1", "outcome", "success")
                  .counter()
                  .count())
          .isEqualTo(1.0);
      // A PSI gauge per feature of the monitored version and one for its prediction.
      assertThat(registry.find(DriftMeterBinder.PSI).tags("model", "cancer").gauges()).hasSize(31);
      assertThat(
              registry
                  .find(DriftMeterBinder.PSI)
                  .tags("model", "cancer", "feature", "prediction")
                  .gauges())
          .hasSize(1);
    }
  }
}
