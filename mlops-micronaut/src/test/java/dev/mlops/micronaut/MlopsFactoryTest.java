package dev.mlops.micronaut;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mlops.api.Prediction;
import dev.mlops.api.Predictor;
import dev.mlops.runtime.Mlops;
import dev.mlops.runtime.RuntimeState;
import dev.mlops.runtime.SwapMode;
import dev.mlops.testmodels.TestModels;
import dev.mlops.testmodels.TestSet;
import io.micronaut.context.ApplicationContext;
import io.micronaut.inject.qualifiers.Qualifiers;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MlopsFactoryTest {

  @TempDir Path dir;

  @Test
  void twoPredictorsAreNamedBeansServingTheirModels() {
    Path models = TestRegistry.create(dir);
    try (ApplicationContext ctx =
        ApplicationContext.run(
            Map.of(
                "mlops.registry.url", models.toString(),
                "mlops.predictors.cancer.model", "models:/cancer@production",
                "mlops.predictors.cancer.output", "probabilities",
                "mlops.predictors.cancer.keep-warm", "1",
                "mlops.predictors.tiny.model", "models:/tiny/1",
                "mlops.predictors.tiny.swap-mode", "resource-preserving",
                "mlops.predictors.tiny.deadline", "2s",
                "mlops.predictors.tiny.session.intra-op-threads", "2"))) {
      Consumer consumer = ctx.getBean(Consumer.class);
      TestSet test = TestModels.breastCancerTestSet();
      Prediction<float[]> p = consumer.cancer.predict(test.features()[0]);
      assertThat(p.version()).isEqualTo(1);
      assertThat(p.value()).hasSize(2);
      assertThat(p.value()[0] + p.value()[1])
          .isCloseTo(1f, org.assertj.core.data.Offset.offset(1e-5f));

      float[] x = {1f, 2f, 3f, 4f};
      float[] expected = TestModels.tinyOutput(x);
      assertThat(consumer.tiny.predict(x).value())
          .containsExactly(expected, org.assertj.core.data.Offset.offset(1e-5f));

      assertThat(consumer.cancer)
          .isSameAs(ctx.getBean(Predictor.class, Qualifiers.byName("cancer")));
      assertThat(consumer.tiny).isSameAs(ctx.getBean(Predictor.class, Qualifiers.byName("tiny")));
      assertThat(ctx.getBeansOfType(Predictor.class)).hasSize(2);

      // Both predictors are the runtime's, each with its options.
      RuntimeState state = ctx.getBean(Mlops.class).state();
      assertThat(state.predictors())
          .extracting(s -> s.target().toString(), RuntimeState.PredictorState::swapMode)
          .containsExactlyInAnyOrder(
              org.assertj.core.groups.Tuple.tuple(
                  "models:/cancer@production", SwapMode.AVAILABILITY_PRESERVING),
              org.assertj.core.groups.Tuple.tuple("models:/tiny/1", SwapMode.RESOURCE_PRESERVING));
      assertThat(state.loaded())
          .filteredOn(v -> v.model().equals("tiny"))
          .singleElement()
          .satisfies(v -> assertThat(v.options().intraOpThreads()).isEqualTo(2));
      assertThat(consumer.tiny.toString()).contains("deadline PT2S");
    }
  }

  @Test
  void closingTheContextClosesTheRuntimeAndEverySession() {
    Path models = TestRegistry.create(dir);
    Mlops mlops;
    try (ApplicationContext ctx =
        ApplicationContext.run(
            Map.of(
                "mlops.registry.url",
                models.toString(),
                "mlops.predictors.cancer.model",
                "models:/cancer@production"))) {
      mlops = ctx.getBean(Mlops.class);
      assertThat(mlops.sessionStats().loaded()).isEqualTo(1);
    }
    assertThat(mlops.state().open()).isFalse();
    assertThat(mlops.sessionStats().opened()).isEqualTo(mlops.sessionStats().closed());
  }
}
