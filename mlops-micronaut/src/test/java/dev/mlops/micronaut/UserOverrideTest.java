package dev.mlops.micronaut;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mlops.api.Predictor;
import dev.mlops.metrics.InMemoryMetricSink;
import dev.mlops.runtime.Mlops;
import dev.mlops.testmodels.TestModels;
import io.micronaut.context.ApplicationContext;
import io.micronaut.inject.qualifiers.Qualifiers;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UserOverrideTest {

  @TempDir Path dir;

  @Test
  void anApplicationPredictorReplacesTheConfiguredOneAndItsSinkIsUsed() {
    Path models = TestRegistry.create(dir);
    float[] row = TestModels.breastCancerTestSet().features()[0];
    try (ApplicationContext ctx =
        ApplicationContext.run(
            Map.of(
                "mlops.registry.url", models.toString(),
                "mlops.predictors.cancer.model", "models:/cancer@production",
                "mlops.predictors.tiny.model", "models:/tiny/1",
                "test.user-cancer", "true",
                "test.user-sink", "true"))) {
      Consumer consumer = ctx.getBean(Consumer.class);
      assertThat(consumer.cancer.target().toString()).isEqualTo("models:/cancer/2");
      assertThat(consumer.cancer.predict(row).version()).isEqualTo(2);
      assertThat(consumer.tiny.target().toString()).isEqualTo("models:/tiny/1");
      assertThat(ctx.getBeansOfType(Predictor.class)).hasSize(2);
      // The configured cancer predictor was never built: the runtime serves v2 and tiny only.
      assertThat(ctx.getBean(Mlops.class).state().predictors())
          .extracting(p -> p.target().toString())
          .containsExactlyInAnyOrder("models:/cancer/2", "models:/tiny/1");

      consumer.tiny.predict(new float[4]);
      consumer.tiny.predict(new float[4]);
      InMemoryMetricSink sink = ctx.getBean(InMemoryMetricSink.class);
      assertThat(sink.count("cancer", 2)).isEqualTo(1);
      assertThat(sink.count("tiny", 1)).isEqualTo(2);
    }
  }

  @Test
  void anApplicationRuntimeReplacesTheDefaultOne() {
    Path models = TestRegistry.create(dir);
    try (ApplicationContext ctx =
        ApplicationContext.run(
            Map.of(
                "test.user-mlops", "true",
                "test.user-mlops-dir", models.toString(),
                "mlops.predictors.tiny.model", "models:/tiny/1"))) {
      Mlops mlops = ctx.getBean(Mlops.class);
      assertThat(ctx.getBeansOfType(Mlops.class)).containsExactly(mlops);
      Predictor<?, ?> tiny = ctx.getBean(Predictor.class, Qualifiers.byName("tiny"));
      assertThat(mlops.state().predictors())
          .singleElement()
          .satisfies(p -> assertThat(p.target()).isEqualTo(tiny.target()));
    }
  }
}
