package dev.mlops.spring.boot;

import dev.mlops.api.spi.InferenceEngine;
import dev.mlops.api.spi.MetricSink;
import dev.mlops.api.spi.PredictionObserver;
import dev.mlops.metrics.CompositeMetricSink;
import dev.mlops.metrics.Slf4jMetricSink;
import dev.mlops.runtime.Mlops;
import dev.mlops.runtime.registry.GovernedRegistry;
import java.net.URI;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import org.springframework.beans.factory.BeanNotOfRequiredTypeException;
import org.springframework.beans.factory.NoSuchBeanDefinitionException;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.util.unit.DataSize;

/**
 * The beans both Boot lines share: the registry, the runtime, the predictor factory, one predictor
 * bean per {@code mlops.predictors.<name>}, their health, the shutdown lifecycle, the Micrometer
 * sink and binders, and the {@code mlops} endpoint. Imported by the Boot-line auto-configuration
 * ({@code MlopsAutoConfiguration}); not an auto-configuration itself. Every bean yields to one of
 * the application's ({@code @ConditionalOnMissingBean}).
 */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(MlopsProperties.class)
@Import({
  PredictorBeans.class,
  MlopsConfiguration.FleetRegistryConfiguration.class,
  MlopsMicrometerConfiguration.class,
  MlopsEndpointConfiguration.class
})
public class MlopsConfiguration {

  /** The name of the registry bean this configuration derives from the runtime. */
  public static final String REGISTRY_BEAN = "mlopsRegistry";

  static final String URL = MlopsProperties.PREFIX + ".registry.url";

  static final String URL_ACCEPTED =
      "a directory path, a file: URI, 'postgresql:' (fleet mode on the application's DataSource"
          + " bean, with mlops-registry-postgres) or a postgresql://host:port/database URI";

  /** For Spring. */
  public MlopsConfiguration() {}

  /**
   * The runtime. Its registry is the application's {@code GovernedRegistry} bean if it has one,
   * else the one {@code mlops.registry.url} names; its engine the application's {@code
   * InferenceEngine} bean, else ONNX Runtime (owned and closed by the runtime). Every {@code
   * MetricSink} and {@code PredictionObserver} bean is attached.
   */
  @Bean(destroyMethod = "close")
  @ConditionalOnMissingBean
  public Mlops mlops(
      MlopsProperties properties,
      ConfigurableListableBeanFactory beanFactory,
      ObjectProvider<GovernedRegistry> registries,
      ObjectProvider<InferenceEngine> engines,
      ObjectProvider<MetricSink> sinks,
      ObjectProvider<PredictionObserver> observers) {
    MlopsProperties.Runtime r = properties.getRuntime();
    Mlops.Builder b = Mlops.builder();
    GovernedRegistry given =
        beanFactory.containsBeanDefinition(REGISTRY_BEAN) ? null : registries.getIfUnique();
    if (given != null) {
      b.registry(given);
    } else {
      b.registry(registryUri(properties.getRegistry().getUrl()));
    }
    InferenceEngine engine = engines.getIfUnique();
    if (engine != null) {
      b.engine(engine);
    }
    List<MetricSink> all = new java.util.ArrayList<>(sinks.orderedStream().toList());
    if (properties.getMetrics().isSlf4j()) {
      all.add(Slf4jMetricSink.builder().build());
    }
    if (all.size() == 1) {
      b.metricSink(all.get(0));
    } else if (all.size() > 1) {
      b.metricSink(CompositeMetricSink.of(all.toArray(MetricSink[]::new)));
    }
    List<PredictionObserver> obs = observers.orderedStream().toList();
    if (!obs.isEmpty()) {
      b.observers(obs.toArray(PredictionObserver[]::new));
    }
    if (r.getCacheBudget() != null) {
      DataSize budget = r.getCacheBudget();
      b.sessionCacheBudget(
          checked(
                  ".runtime.cache-budget",
                  budget,
                  !budget.isNegative(),
                  "a size >= 0, e.g. 512MB or 2GB")
              .toBytes());
    }
    if (r.getDrainTimeout() != null) {
      Duration d = r.getDrainTimeout();
      b.drainTimeout(
          checked(".runtime.drain-timeout", d, !d.isNegative(), "a duration >= 0, e.g. 30s"));
    }
    if (r.getWarmUp() != null) {
      b.warmUp(r.getWarmUp());
    }
    if (r.getWarmUpDeadline() != null) {
      Duration d = r.getWarmUpDeadline();
      b.warmUpDeadline(
          checked(".runtime.warm-up-deadline", d, positive(d), "a positive duration, e.g. 30s"));
    }
    if (r.getStaggerSwaps() != null) {
      Duration d = r.getStaggerSwaps();
      b.staggerSwaps(
          checked(".runtime.stagger-swaps", d, !d.isNegative(), "a duration >= 0, e.g. 10s"));
    }
    if (!r.isRolloutDecisions()) {
      b.rolloutDecisions(false);
    }
    if (r.getExecutor() != null) {
      b.executor(
          bean(
              beanFactory,
              MlopsProperties.PREFIX + ".runtime.executor",
              r.getExecutor(),
              ExecutorService.class));
    }
    if (r.getSwapExecutor() != null) {
      b.swapExecutor(
          bean(
              beanFactory,
              MlopsProperties.PREFIX + ".runtime.swap-executor",
              r.getSwapExecutor(),
              Executor.class));
    }
    if (r.getShadowCapacity() != null) {
      int copies = r.getShadowCapacity();
      b.shadowCapacity(checked(".runtime.shadow-capacity", copies, copies >= 1, "a count >= 1"));
    }
    if (r.getShadowDeadline() != null) {
      Duration d = r.getShadowDeadline();
      b.shadowDeadline(
          checked(".runtime.shadow-deadline", d, positive(d), "a positive duration, e.g. 10s"));
    }
    if (r.getShadowExecutor() != null) {
      b.shadowExecutor(
          bean(
              beanFactory,
              MlopsProperties.PREFIX + ".runtime.shadow-executor",
              r.getShadowExecutor(),
              Executor.class));
    }
    return b.build();
  }

  /**
   * {@code value} when {@code accepted} holds of it; else a startup failure naming the property
   * ({@code mlops} followed by {@code property}), the value and {@code expected}.
   */
  private static <T> T checked(String property, T value, boolean accepted, String expected) {
    if (!accepted) {
      throw new MlopsPropertyException(
          MlopsProperties.PREFIX + property, String.valueOf(value), expected, null);
    }
    return value;
  }

  private static boolean positive(Duration d) {
    return !d.isNegative() && !d.isZero();
  }

  private static <T> T bean(
      ConfigurableListableBeanFactory bf, String property, String name, Class<T> type) {
    try {
      return bf.getBean(name, type);
    } catch (NoSuchBeanDefinitionException | BeanNotOfRequiredTypeException e) {
      throw new MlopsPropertyException(
          property, name, "the name of a bean of type " + type.getName(), e);
    }
  }

  /** The registry URI {@code mlops.registry.url} names (any scheme but the DataSource's). */
  static URI registryUri(String url) {
    if (url == null || url.isBlank()) {
      throw new MlopsPropertyException(URL, null, URL_ACCEPTED, null);
    }
    String u = url.trim();
    String lower = u.toLowerCase(Locale.ROOT);
    if (lower.equals("postgresql:")) {
      throw new MlopsPropertyException(
          URL,
          u,
          URL_ACCEPTED,
          new IllegalStateException(
              "'postgresql:' uses the application's DataSource bean through mlops-registry-postgres;"
                  + " add that module and a DataSource"));
    }
    if (lower.startsWith("postgresql://") || lower.startsWith("file:")) {
      try {
        return URI.create(u);
      } catch (IllegalArgumentException e) {
        throw new MlopsPropertyException(URL, u, URL_ACCEPTED, e);
      }
    }
    int colon = u.indexOf(':');
    if (colon > 1 && u.substring(0, colon).matches("[A-Za-z][A-Za-z0-9+.-]*")) {
      throw new MlopsPropertyException(
          URL,
          u,
          URL_ACCEPTED,
          new IllegalArgumentException("the scheme '" + u.substring(0, colon) + ":' is unknown"));
    }
    try {
      return Path.of(u).toAbsolutePath().toUri();
    } catch (InvalidPathException e) {
      throw new MlopsPropertyException(URL, u, URL_ACCEPTED, e);
    }
  }

  /** The registry the runtime serves from, as a bean (closed by the runtime, not by Spring). */
  @Bean(name = REGISTRY_BEAN, destroyMethod = "")
  @ConditionalOnMissingBean(GovernedRegistry.class)
  public GovernedRegistry mlopsRegistry(Mlops mlops) {
    return mlops.registry();
  }

  /** The factory of the configured predictors, and of predictors with the application's codec. */
  @Bean
  @ConditionalOnMissingBean
  public PredictorFactory mlopsPredictorFactory(Mlops mlops, MlopsProperties properties) {
    return new PredictorFactory(mlops, properties);
  }

  /** The health of each predictor, for the Boot line's health contributors and the endpoint. */
  @Bean(destroyMethod = "close")
  @ConditionalOnMissingBean
  public MlopsHealth mlopsHealth(Mlops mlops, PredictorFactory predictors) {
    return new MlopsHealth(mlops, predictors);
  }

  /** Closes the runtime after the web server has drained. */
  @Bean
  @ConditionalOnMissingBean
  public MlopsLifecycle mlopsLifecycle(Mlops mlops) {
    return new MlopsLifecycle(mlops, null);
  }

  /**
   * Fleet mode on the application's DataSource ({@code mlops.registry.url=postgresql:}): the
   * registry's metadata and artifacts in that database, followed through LISTEN/NOTIFY.
   */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(name = "dev.mlops.registry.postgres.PostgresModelStore")
  @ConditionalOnProperty(name = URL, havingValue = "postgresql:")
  @ConditionalOnMissingBean(GovernedRegistry.class)
  static class FleetRegistryConfiguration {

    @Bean(destroyMethod = "close")
    GovernedRegistry mlopsFleetRegistry(
        ObjectProvider<javax.sql.DataSource> dataSources, MlopsProperties properties) {
      javax.sql.DataSource ds = dataSources.getIfUnique();
      if (ds == null) {
        throw new MlopsPropertyException(
            URL,
            "postgresql:",
            URL_ACCEPTED,
            new IllegalStateException("no single DataSource bean was found"));
      }
      return FleetRegistry.open(ds, properties.getRegistry().getArtifactCache());
    }
  }
}
