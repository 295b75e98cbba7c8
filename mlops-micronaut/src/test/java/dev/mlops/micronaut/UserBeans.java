package dev.mlops.micronaut;

import dev.mlops.api.Codecs;
import dev.mlops.api.Predictor;
import dev.mlops.metrics.InMemoryMetricSink;
import dev.mlops.runtime.Mlops;
import io.micronaut.context.annotation.Factory;
import io.micronaut.context.annotation.Replaces;
import io.micronaut.context.annotation.Requires;
import jakarta.inject.Named;
import jakarta.inject.Singleton;
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

  /** A drift monitor of the application's, against the held-out rows as baseline. */
  @Singleton
  @Requires(property = "test.drift", value = "true")
  dev.mlops.metrics.drift.DriftMonitor drift() {
    float[][] rows = dev.mlops.testmodels.TestModels.breastCancerTestSet().features();
    java.util.List<String> names = new java.util.ArrayList<>();
    for (int i = 0; i < rows[0].length; i++) {
      names.add("f" + i);
    }
    return dev.mlops.metrics.drift.DriftMonitor.builder()
        .baseline(dev.mlops.metrics.drift.DriftBaseline.compute(names, rows))
        .window(50)
        .build();
  }

  /** The application's DataSource, on the test's PostgreSQL database. */
  @Singleton
  @Requires(property = "test.jdbc-url")
  javax.sql.DataSource dataSource(
      @io.micronaut.context.annotation.Value("${test.jdbc-url}") String url) {
    org.postgresql.ds.PGSimpleDataSource ds = new org.postgresql.ds.PGSimpleDataSource();
    ds.setURL(url);
    return ds;
  }

  /** ONNX Runtime, with a gate that holds the next load with two intra-op threads. */
  @Singleton
  @io.micronaut.context.annotation.Bean(preDestroy = "close")
  @Requires(property = "test.gated-engine", value = "true")
  GatedEngine gatedEngine() {
    return new GatedEngine();
  }

  /** Delegates to the real engine; once armed, the next open with 2 intra-op threads waits. */
  static final class GatedEngine implements dev.mlops.api.spi.InferenceEngine {
    private final dev.mlops.api.spi.InferenceEngine delegate =
        dev.mlops.runtime.onnx.OnnxRuntimeEngine.builder().build();
    final java.util.concurrent.atomic.AtomicBoolean armed =
        new java.util.concurrent.atomic.AtomicBoolean();
    final CountDownLatch entered = new CountDownLatch(1);
    final CountDownLatch gate = new CountDownLatch(1);

    @Override
    public String name() {
      return "gated-" + delegate.name();
    }

    @Override
    public dev.mlops.api.spi.ModelSession open(dev.mlops.api.ArtifactLocation artifact) {
      return open(artifact, dev.mlops.api.SessionOptions.DEFAULTS);
    }

    @Override
    public dev.mlops.api.spi.ModelSession open(
        dev.mlops.api.ArtifactLocation artifact, dev.mlops.api.SessionOptions options) {
      if (options.intraOpThreads() == 2 && armed.compareAndSet(true, false)) {
        entered.countDown();
        try {
          if (!gate.await(60, TimeUnit.SECONDS)) {
            throw new IllegalStateException("the test never opened the gate");
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException(e);
        }
      }
      return delegate.open(artifact, options);
    }

    @Override
    public void close() {
      delegate.close();
    }
  }
}
