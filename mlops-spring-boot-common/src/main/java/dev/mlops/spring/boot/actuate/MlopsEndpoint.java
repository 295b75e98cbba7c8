package dev.mlops.spring.boot.actuate;

import dev.mlops.api.AuditInfo;
import dev.mlops.api.ConflictException;
import dev.mlops.api.InvalidModelRefException;
import dev.mlops.api.ModelNotFoundException;
import dev.mlops.api.ModelRegistry;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.PermissionDeniedException;
import dev.mlops.api.Predictor;
import dev.mlops.api.Rollout;
import dev.mlops.api.RolloutSpec;
import dev.mlops.runtime.Mlops;
import dev.mlops.runtime.RuntimeState;
import dev.mlops.spring.boot.MlopsHealth;
import dev.mlops.spring.boot.PredictorFactory;
import java.security.Principal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;
import org.springframework.boot.actuate.endpoint.annotation.WriteOperation;
import org.springframework.boot.actuate.endpoint.web.WebEndpointResponse;
import org.springframework.lang.Nullable;

/**
 * The {@code mlops} Actuator endpoint.
 *
 * <ul>
 *   <li>{@code GET /actuator/mlops}: every model with its versions, aliases and rollouts; what each
 *       predictor serves and its health; the session cache; rollouts' shadow copies (run, dropped,
 *       failed, in flight, capacity, deadline); the registry's change feed.
 *   <li>{@code GET /actuator/mlops/{model}}: one model.
 *   <li>{@code POST /actuator/mlops/{model}} with a JSON body, when {@code
 *       mlops.endpoint.writes-enabled=true}: {@code {"action":"move-alias","alias":"production",
 *       "version":2}}, {@code {"action":"start-rollout","alias":"production","version":2,
 *       "weight":10}} (weight in percent) or {@code {"action":"abort-rollout","alias":
 *       "production"}}, each with an optional {@code "reason"}. A write needs an authenticated
 *       principal, whose name is the actor in the registry's audit log; without one it is refused
 *       with 401, and with writes off with 403.
 * </ul>
 *
 * <p>Thread-safe; reads take a {@link Mlops#state()} snapshot and read the registry.
 */
@Endpoint(id = MlopsEndpoint.ID)
public final class MlopsEndpoint {

  /** The endpoint id: {@value}. */
  public static final String ID = "mlops";

  private static final Logger LOG = LoggerFactory.getLogger(MlopsEndpoint.class);

  private final Mlops mlops;
  private final PredictorFactory predictors;
  private final MlopsHealth health;
  private final boolean writesEnabled;

  /**
   * An endpoint over a runtime.
   *
   * @param mlops the runtime
   * @param predictors the factory of the configured predictors
   * @param health their health
   * @param writesEnabled whether the write operation may change the registry
   */
  public MlopsEndpoint(
      Mlops mlops, PredictorFactory predictors, MlopsHealth health, boolean writesEnabled) {
    this.mlops = Objects.requireNonNull(mlops, "mlops");
    this.predictors = Objects.requireNonNull(predictors, "predictors");
    this.health = Objects.requireNonNull(health, "health");
    this.writesEnabled = writesEnabled;
  }

  /** Everything: models, predictors, cache, shadow copies, change feed. */
  @ReadOperation
  public Map<String, Object> mlops() {
    ModelRegistry registry = mlops.registry();
    Map<String, Object> out = new LinkedHashMap<>();
    List<Object> models = new ArrayList<>();
    for (String name : registry.models()) {
      models.add(model(registry, name));
    }
    out.put("models", models);
    out.put("predictors", predictorStates());
    RuntimeState state = mlops.state();
    Map<String, Object> cache = new LinkedHashMap<>();
    cache.put("sessionsOpened", state.sessions().opened());
    cache.put("sessionsClosed", state.sessions().closed());
    cache.put("loaded", state.sessions().loaded());
    cache.put("cachedBytes", state.sessions().cachedBytes());
    List<Object> loaded = new ArrayList<>();
    for (RuntimeState.LoadedVersion v : state.loaded()) {
      loaded.add(
          Map.of(
              "model", v.model(),
              "version", v.version(),
              "references", v.references(),
              "cached", v.cached()));
    }
    cache.put("versions", loaded);
    List<Object> loading = new ArrayList<>();
    for (RuntimeState.Load l : state.loading()) {
      loading.add(Map.of("model", l.model(), "version", l.version()));
    }
    cache.put("loading", loading);
    out.put("cache", cache);
    RuntimeState.Shadow shadow = state.shadow();
    Map<String, Object> copies = new LinkedHashMap<>();
    copies.put("mirrored", shadow.mirrored());
    copies.put("dropped", shadow.dropped());
    copies.put("failed", shadow.failed());
    copies.put("inFlight", shadow.inFlight());
    copies.put("capacity", shadow.capacity());
    copies.put("deadline", shadow.deadline().toString());
    out.put("shadow", copies);
    out.put(
        "listener",
        health
            .registryFeed()
            .<Object>map(r -> withStatus(r))
            .orElse(Map.of("status", "NONE", "reason", "the registry has no change feed")));
    out.put("writesEnabled", writesEnabled);
    return out;
  }

  /** One model: its versions, aliases and rollouts. */
  @ReadOperation
  public WebEndpointResponse<Map<String, Object>> model(@Selector String model) {
    try {
      return new WebEndpointResponse<>(model(mlops.registry(), model));
    } catch (ModelNotFoundException | InvalidModelRefException e) {
      return error(WebEndpointResponse.STATUS_NOT_FOUND, e);
    }
  }

  /**
   * Changes the registry: moves an alias, starts or aborts a rollout.
   *
   * @param model the model
   * @param action {@code move-alias}, {@code start-rollout} or {@code abort-rollout}
   * @param alias the alias
   * @param version the version to move to, or the rollout's candidate
   * @param weight the candidate's share in percent ({@code start-rollout}; default 10)
   * @param reason why, for the audit log
   * @param principal who; required
   */
  @WriteOperation
  public WebEndpointResponse<Map<String, Object>> change(
      @Selector String model,
      String action,
      String alias,
      @Nullable Long version,
      @Nullable Double weight,
      @Nullable String reason,
      @Nullable Principal principal) {
    if (!writesEnabled) {
      return error(
          403,
          "the mlops endpoint's writes are off; set mlops.endpoint.writes-enabled=true to allow"
              + " them");
    }
    if (principal == null || principal.getName() == null || principal.getName().isBlank()) {
      return error(
          401, "a write to the mlops endpoint needs an authenticated principal; none was found");
    }
    AuditInfo audit =
        AuditInfo.by(
            principal.getName(),
            reason == null || reason.isBlank() ? "via the mlops Actuator endpoint" : reason);
    ModelRegistry registry = mlops.registry();
    try {
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("model", model);
      out.put("alias", alias);
      out.put("actor", audit.actor());
      switch (action == null ? "" : action.toLowerCase(Locale.ROOT)) {
        case "move-alias" -> {
          long to = required(version, "version", action);
          long from = registry.setAlias(model, alias, to, audit).orElse(0);
          out.put("fromVersion", from);
          out.put("toVersion", to);
        }
        case "start-rollout" -> {
          long candidate = required(version, "version", action);
          RolloutSpec spec =
              RolloutSpec.of(candidate).weightPercent(weight == null ? 10.0 : weight);
          out.put("rollout", rollout(registry.startRollout(model, alias, spec, audit)));
        }
        case "abort-rollout" ->
            out.put("rollout", rollout(registry.abortRollout(model, alias, audit)));
        default -> {
          return error(
              WebEndpointResponse.STATUS_BAD_REQUEST,
              "action '"
                  + action
                  + "' is unknown; expected move-alias, start-rollout or abort-rollout");
        }
      }
      LOG.info(
          "mlops endpoint: {} {} on {}@{} by {}", action, version, model, alias, audit.actor());
      return new WebEndpointResponse<>(out);
    } catch (ModelNotFoundException e) {
      return error(WebEndpointResponse.STATUS_NOT_FOUND, e);
    } catch (ConflictException e) {
      return error(409, e);
    } catch (PermissionDeniedException e) {
      return error(403, e);
    } catch (IllegalArgumentException | UnsupportedOperationException e) {
      return error(WebEndpointResponse.STATUS_BAD_REQUEST, e);
    } catch (dev.mlops.api.MlopsException e) {
      return error(WebEndpointResponse.STATUS_BAD_REQUEST, e);
    }
  }

  private static long required(Long value, String name, String action) {
    if (value == null) {
      throw new IllegalArgumentException("action " + action + " needs '" + name + "'");
    }
    return value;
  }

  private Map<String, Object> predictorStates() {
    Map<String, Object> out = new LinkedHashMap<>();
    for (String name : predictors.names()) {
      Map<String, Object> p = new LinkedHashMap<>();
      MlopsHealth.Report r = health.predictor(name);
      p.put("status", r.status().name());
      p.putAll(r.details());
      predictors
          .made(name)
          .map(Predictor::target)
          .ifPresent(
              target -> {
                for (RuntimeState.PredictorState s : mlops.state().predictors()) {
                  if (s.target().equals(target)) {
                    p.put("swapMode", s.swapMode().name());
                    p.put("batching", s.batching());
                    p.put("warmVersions", s.warmVersions());
                    break;
                  }
                }
              });
      out.put(name, p);
    }
    return out;
  }

  private static Map<String, Object> model(ModelRegistry registry, String name) {
    List<ModelVersion> versions = registry.versions(name);
    if (versions.isEmpty() && !registry.models().contains(name)) {
      throw new ModelNotFoundException("no model named '" + name + "' in the registry");
    }
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("name", name);
    List<Object> vs = new ArrayList<>();
    for (ModelVersion v : versions) {
      Map<String, Object> d = new LinkedHashMap<>();
      d.put("version", v.version());
      d.put("status", v.status().name());
      d.put("createdAt", v.createdAt().toString());
      d.put("createdBy", v.createdBy());
      d.put("digest", v.digest());
      d.put("sizeBytes", v.sizeBytes());
      d.put("description", v.description());
      vs.add(d);
    }
    m.put("versions", vs);
    Map<String, Long> aliases = registry.aliases(name);
    m.put("aliases", aliases);
    Map<String, Object> rollouts = new LinkedHashMap<>();
    for (String alias : aliases.keySet()) {
      registry.rolloutStatus(name, alias).ifPresent(r -> rollouts.put(alias, rollout(r)));
    }
    m.put("rollouts", rollouts);
    return m;
  }

  private static Map<String, Object> rollout(Rollout r) {
    Map<String, Object> d = new LinkedHashMap<>();
    d.put("id", r.id());
    d.put("state", r.state().name());
    d.put("stable", r.stable());
    d.put("candidate", r.candidate());
    d.put("weightPercent", r.weight() / 100.0);
    d.put("reason", r.reason());
    d.put("started", String.valueOf(r.started()));
    d.put("updated", String.valueOf(r.updated()));
    return d;
  }

  private static Map<String, Object> withStatus(MlopsHealth.Report r) {
    Map<String, Object> d = new LinkedHashMap<>();
    d.put("status", r.status().name());
    d.putAll(r.details());
    return d;
  }

  private static WebEndpointResponse<Map<String, Object>> error(int status, Exception e) {
    return error(status, e.getMessage());
  }

  private static WebEndpointResponse<Map<String, Object>> error(int status, String message) {
    return new WebEndpointResponse<>(Map.of("error", message, "status", status), status);
  }
}
