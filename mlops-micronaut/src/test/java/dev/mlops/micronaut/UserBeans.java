package dev.mlops.micronaut;

import dev.mlops.api.Codec;
import dev.mlops.api.Codecs;
import dev.mlops.api.ModelRef;
import dev.mlops.api.ModelSignature;
import dev.mlops.api.Predictor;
import dev.mlops.api.Tensor;
import dev.mlops.metrics.InMemoryMetricSink;
import dev.mlops.runtime.Mlops;
import dev.mlops.runtime.SwapMode;
import io.micronaut.context.annotation.Factory;
import io.micronaut.context.annotation.Replaces;
import io.micronaut.context.annotation.Requires;
import jakarta.inject.Named;
import jakarta.inject.Singleton;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** Beans an application defines to replace or add to the defaults, each behind a test property. */
@Factory
class UserBeans {

  /** A sink of the application's, which the default runtime must pick up. */
  @Singleton
  @Requires(property = "test.user-sink", value = "true")
  InMemoryMetricSink userSink() {
    return new InMemoryMetricSink();
  }

  /** The application's own "cancer" predictor: pinned to v2. */
  @Singleton
  @Named("cancer")
  @Replaces(value = Predictor.class, named = "cancer")
  @Requires(property = "test.user-cancer", value = "true")
  Predictor<float[], float[]> userCancer(Mlops mlops) {
    return mlops.predictor("models:/cancer/2", Codecs.floatRow("probabilities"));
  }

  /** An application runtime of its own, replacing the default one. */
  @Singleton
  @Requires(property = "test.user-mlops", value = "true")
  Mlops userMlops(@io.micronaut.context.annotation.Value("${test.user-mlops-dir}") String dir) {
    return Mlops.builder().localRegistry(java.nio.file.Path.of(dir)).build();
  }

  /**
   * A resource-preserving "big" predictor whose codec holds its call (and the call's lease on the
   * version) while {@link Gate#hold} is closed, so that a test can keep a swap in its gap.
   */
  @Singleton
  @Named("big")
  @Replaces(value = Predictor.class, named = "big")
  @Requires(property = "test.gated-big", value = "true")
  Predictor<float[], float[]> gatedBig(Mlops mlops, Gate gate) {
    return mlops
        .newPredictor(ModelRef.parse("models:/cancer@production"), gate.codec())
        .swapMode(SwapMode.RESOURCE_PRESERVING)
        .swapGapTimeout(Duration.ofSeconds(30))
        .build();
  }

  /** Holds calls whose first feature is {@link #HOLD} until released. */
  @Singleton
  static final class Gate {
    static final float HOLD = 12345f;
    final CountDownLatch entered = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);

    Codec<float[], float[]> codec() {
      Codec<float[], float[]> inner = Codecs.floatRow("probabilities");
      return new Codec<>() {
        @Override
        public Map<String, Tensor> encode(float[] input, ModelSignature signature) {
          if (input[0] == HOLD) {
            entered.countDown();
            try {
              if (!release.await(30, TimeUnit.SECONDS)) {
                throw new IllegalStateException("the gate was not released within 30 s");
              }
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
          return inner.encode(input, signature);
        }

        @Override
        public float[] decode(Map<String, Tensor> outputs, ModelSignature signature) {
          return inner.decode(outputs, signature);
        }

        @Override
        public java.util.Set<String> outputs(ModelSignature signature) {
          return inner.outputs(signature);
        }
      };
    }
  }
}
