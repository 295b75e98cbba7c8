package dev.mlops.micronaut;

import dev.mlops.api.Codec;
import dev.mlops.api.MlopsException;
import dev.mlops.api.ModelRef;
import dev.mlops.api.Predictor;
import dev.mlops.api.spi.InferenceEngine;
import dev.mlops.api.spi.MetricSink;
import dev.mlops.api.spi.PredictionObserver;
import dev.mlops.metrics.CompositeMetricSink;
import dev.mlops.runtime.Mlops;
import dev.mlops.runtime.PredictorBuilder;
import dev.mlops.runtime.registry.GovernedRegistry;
import io.micronaut.context.BeanProvider;
import io.micronaut.context.annotation.EachBean;
import io.micronaut.context.annotation.Factory;
import io.micronaut.context.annotation.Requires;
import io.micronaut.context.exceptions.ConfigurationException;
import jakarta.inject.Singleton;
import java.net.URI;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import javax.sql.DataSource;

/**
 * Makes the beans of mlops: the {@link Mlops} runtime (from {@link MlopsProperties} and {@link
 * RegistryProperties}, with every {@link MetricSink} and {@link PredictionObserver} bean of the
 * application, and its {@link InferenceEngine} bean if it has one, which it then closes itself),
 * its {@link GovernedRegistry}, and one {@link Predictor} per {@code mlops.predictors.<name>}
 * entry, qualified {@code @Named("<name>")} and loaded at startup.
 *
 * <p>An application replaces a default with a bean of its own: an {@code Mlops} bean replaces the
 * runtime (this factory then makes none), and a bean annotated {@code @Replaces(value =
 * Predictor.class, named = "<name>")} replaces one predictor. The runtime is closed when the
 * context stops, after the HTTP server (see {@link MlopsShutdown}).
 */
@Factory
public class MlopsFactory {

  private static final Pattern SCHEME = Pattern.compile("^[a-zA-Z][a-zA-Z0-9+.-]+:.*");

  /**
   * The runtime.
   *
   * @throws ConfigurationException naming the property when a property is wrong
   */
  @Singleton
  @Requires(missingBeans = Mlops.class)
  Mlops mlops(
      MlopsProperties properties,
      RegistryProperties registry,
      BeanProvider<DataSource> dataSource,
      List<MetricSink> sinks,
      List<PredictionObserver> observers,
      BeanProvider<InferenceEngine> engine,
      MlopsShutdown shutdown) {
    Mlops.Builder b = properties.applyTo(Mlops.builder());
    if (engine.isPresent()) {
      b.engine(engine.get());
    }
    if (sinks.size() == 1) {
      b.metricSink(sinks.get(0));
    } else if (sinks.size() > 1) {
      b.metricSink(CompositeMetricSink.of(sinks.toArray(MetricSink[]::new)));
    }
    if (!observers.isEmpty()) {
      b.observers(observers.toArray(PredictionObserver[]::new));
    }
    AutoCloseable owned = openRegistry(b, registry, dataSource);
    Mlops mlops;
    try {
      mlops = b.build();
    } catch (MlopsException | IllegalArgumentException | IllegalStateException e) {
      closeQuietly(owned);
      throw new ConfigurationException(
          "cannot start mlops on mlops.registry.url=" + registry.url().orElse("") + ": " + e, e);
    }
    if (owned != null) {
      shutdown.own(mlops, owned);
    }
    return mlops;
  }

  /** The runtime's registry. */
  @Singleton
  GovernedRegistry registry(Mlops mlops) {
    return mlops.registry();
  }

  /**
   * One predictor per {@code mlops.predictors} entry, built and loaded at startup by {@link
   * PredictorStartup} (unless the application replaces it).
   *
   * @throws ConfigurationException naming the property when a property is wrong, or the entry when
   *     its model cannot be served
   */
  @EachBean(PredictorProperties.class)
  Predictor<?, ?> predictor(PredictorProperties properties, Mlops mlops, LoadEvents events) {
    ModelRef ref = properties.modelRef();
    return build(mlops, ref, properties.codec(), properties);
  }

  private static <I, O> Predictor<I, O> build(
      Mlops mlops, ModelRef ref, Codec<I, O> codec, PredictorProperties properties) {
    PredictorBuilder<I, O> b =
        properties.applyTo(mlops.newPredictor(ref, codec), mlops.sessionOptions());
    properties.deadline().ifPresent(b::defaultDeadline);
    Predictor<I, O> p;
    try {
      p = b.build();
    } catch (MlopsException e) {
      throw new ConfigurationException(
          "mlops.predictors."
              + properties.getName()
              + ": cannot serve "
              + ref
              + ": "
              + e.getMessage(),
          e);
    }
    return p;
  }

  private static AutoCloseable openRegistry(
      Mlops.Builder b, RegistryProperties registry, BeanProvider<DataSource> dataSource) {
    String url =
        registry
            .url()
            .orElseThrow(
                () ->
                    new ConfigurationException(
                        "mlops.registry.url: expected a directory (/var/lib/models), a"
                            + " postgresql://host:port/database URI, or postgresql: to use the"
                            + " application's DataSource, but found none"));
    if (url.equals("postgresql:")) {
      if (!dataSource.isPresent()) {
        throw new ConfigurationException(
            "mlops.registry.url: postgresql: uses the application's DataSource bean, but the"
                + " context has none; configure one (datasources.default.*) or give a"
                + " postgresql://host:port/database URI");
      }
      GovernedRegistry opened;
      try {
        opened = PostgresRegistries.open(dataSource.get(), registry);
      } catch (NoClassDefFoundError e) {
        throw new ConfigurationException(
            "mlops.registry.url: postgresql: needs dev.mlops:mlops-registry-postgres on the class"
                + " path, but it is missing",
            e);
      }
      b.registry(opened);
      return opened;
    }
    if (url.startsWith("postgresql://")) {
      try {
        b.registry(URI.create(url));
      } catch (IllegalArgumentException e) {
        throw new ConfigurationException("mlops.registry.url: " + e.getMessage(), e);
      }
      return null;
    }
    if (url.startsWith("file:")) {
      try {
        b.localRegistry(Path.of(URI.create(url)));
      } catch (IllegalArgumentException e) {
        throw new ConfigurationException(
            "mlops.registry.url: expected a file: URI of a directory but found '" + url + "'", e);
      }
      return null;
    }
    if (SCHEME.matcher(url).matches() && !url.matches("^[a-zA-Z]:[\\\\/].*")) {
      throw new ConfigurationException(
          "mlops.registry.url: expected a directory, a file: URI, a postgresql://host:port/database"
              + " URI, or postgresql: but found '"
              + url
              + "'");
    }
    try {
      b.localRegistry(Path.of(url));
    } catch (InvalidPathException e) {
      throw new ConfigurationException(
          "mlops.registry.url: expected a directory but found '" + url + "': " + e.getMessage(), e);
    }
    return null;
  }

  static void closeQuietly(AutoCloseable c) {
    if (c == null) {
      return;
    }
    try {
      c.close();
    } catch (Exception e) {
      org.slf4j.LoggerFactory.getLogger(MlopsFactory.class).debug("closing {} failed", c, e);
    }
  }

  static Optional<String> nonBlank(String s) {
    return Optional.ofNullable(s).filter(v -> !v.isBlank());
  }
}
