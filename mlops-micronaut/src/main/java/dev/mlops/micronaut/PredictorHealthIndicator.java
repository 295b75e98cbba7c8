package dev.mlops.micronaut;

import dev.mlops.api.ClosedException;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.Predictor;
import dev.mlops.runtime.Mlops;
import dev.mlops.runtime.SwapMode;
import io.micronaut.context.BeanContext;
import io.micronaut.context.annotation.EachBean;
import io.micronaut.core.async.publisher.Publishers;
import io.micronaut.health.HealthStatus;
import io.micronaut.inject.qualifiers.Qualifiers;
import io.micronaut.management.health.indicator.HealthIndicator;
import io.micronaut.management.health.indicator.HealthResult;
import io.micronaut.scheduling.TaskExecutors;
import jakarta.inject.Named;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import org.reactivestreams.Publisher;

/**
 * The health of one configured predictor, reported as {@code mlops-<name>}:
 *
 * <ul>
 *   <li>{@code UP} when the version its reference resolves to is loaded and warm (warm-up runs
 *       before a version takes traffic), or while an availability-preserving swap loads the next
 *       one and the current one keeps serving;
 *   <li>{@link #OUT_OF_SERVICE} during a resource-preserving swap's gap, when no version is loaded;
 *   <li>{@code DOWN} when the version it should serve failed to load (with the failure, and the
 *       version still serving, if any), or when no version is loaded after a failed swap, or when
 *       the runtime is closed.
 * </ul>
 *
 * <p>Details: {@code model} (the reference), {@code servingVersion}, {@code targetVersion}, {@code
 * swapMode} and, when there is one, {@code failure}. Thread-safe; reads the registry once per
 * check.
 */
@EachBean(PredictorProperties.class)
public final class PredictorHealthIndicator implements HealthIndicator {

  /** No version is serving for a moment: not DOWN, but not to be sent traffic. */
  public static final HealthStatus OUT_OF_SERVICE =
      new HealthStatus(
          "OUT_OF_SERVICE",
          "a resource-preserving swap is loading the next version",
          false,
          HealthStatus.DOWN.getSeverity().orElse(1000) - 1);

  private final PredictorProperties properties;
  private final BeanContext context;
  private final Mlops mlops;
  private final LoadEvents events;
  private final ExecutorService blocking;

  PredictorHealthIndicator(
      PredictorProperties properties,
      BeanContext context,
      Mlops mlops,
      LoadEvents events,
      @Named(TaskExecutors.BLOCKING) ExecutorService blocking) {
    this.properties = properties;
    this.context = context;
    this.mlops = mlops;
    this.events = events;
    this.blocking = blocking;
  }

  /** The indicator's name: {@code mlops-<predictor name>}. */
  String name() {
    return "mlops-" + properties.getName();
  }

  /** Checks on the blocking executor: the registry may be a database. */
  @Override
  public Publisher<HealthResult> getResult() {
    return Publishers.fromCompletableFuture(
        () -> CompletableFuture.supplyAsync(this::result, blocking));
  }

  private HealthResult result() {
    Map<String, Object> details = new LinkedHashMap<>();
    HealthStatus status = check(details);
    return HealthResult.builder(name(), status).details(details).build();
  }

  /** Computes the status and fills {@code details}. */
  HealthStatus check(Map<String, Object> details) {
    Predictor<?, ?> predictor =
        context.getBean(Predictor.class, Qualifiers.byName(properties.getName()));
    String model = predictor.target().name();
    Optional<ModelVersion> serving = predictor.servingVersion();
    details.put("model", predictor.target().toString());
    details.put("servingVersion", serving.map(ModelVersion::version).orElse(0L));
    SwapMode mode = properties.swapMode();
    details.put("swapMode", Settings.kebab(mode));
    // Not mlops.state(): it waits for a swap in progress, which is when health matters most.
    long target;
    try {
      target = mlops.registry().find(predictor.target()).map(ModelVersion::version).orElse(0L);
    } catch (ClosedException e) {
      details.put("failure", "the mlops runtime is closed");
      return HealthStatus.DOWN;
    } catch (RuntimeException e) {
      target = 0;
      details.put("registry", "cannot read: " + e.getMessage());
    }
    details.put("targetVersion", target);
    if (serving.isEmpty()) {
      Optional<LoadEvents.Failure> failure =
          target != 0 ? events.failure(model, target) : Optional.empty();
      if (failure.isPresent() || mode != SwapMode.RESOURCE_PRESERVING) {
        details.put(
            "failure",
            failure
                .map(f -> describe(f.cause()))
                .orElse("no version is loaded and no swap is in progress"));
        return HealthStatus.DOWN;
      }
      return OUT_OF_SERVICE;
    }
    long version = serving.get().version();
    if (target != 0 && target != version) {
      Optional<LoadEvents.Failure> failure = events.failure(model, target);
      if (failure.isPresent()) {
        details.put(
            "failure", "version " + target + " failed to load: " + describe(failure.get().cause()));
        return HealthStatus.DOWN;
      }
    }
    return HealthStatus.UP;
  }

  private static String describe(Throwable t) {
    return t.getMessage() == null ? t.toString() : t.getMessage();
  }
}
