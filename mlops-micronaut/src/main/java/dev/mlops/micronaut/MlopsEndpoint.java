package dev.mlops.micronaut;

import dev.mlops.api.AuditInfo;
import dev.mlops.api.ConflictException;
import dev.mlops.api.MlopsException;
import dev.mlops.api.ModelNotFoundException;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.Rollout;
import dev.mlops.api.RolloutSpec;
import dev.mlops.runtime.Mlops;
import dev.mlops.runtime.RuntimeState;
import dev.mlops.runtime.registry.GovernedRegistry;
import io.micronaut.context.BeanContext;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.health.HealthStatus;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.exceptions.HttpStatusException;
import io.micronaut.management.endpoint.annotation.Delete;
import io.micronaut.management.endpoint.annotation.Endpoint;
import io.micronaut.management.endpoint.annotation.Read;
import io.micronaut.management.endpoint.annotation.Selector;
import io.micronaut.management.endpoint.annotation.Write;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import java.security.Principal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The management endpoint {@code /mlops}.
 *
 * <ul>
 *   <li>{@code GET /mlops}: every model with its versions, aliases and active rollouts; every
 *       configured predictor with what it serves and its health; the runtime's loaded versions and
 *       session counters.
 *   <li>{@code GET /mlops/{model}}: one model.
 *   <li>{@code POST /mlops/{model}/{alias}} with {@code {"version": 2, "reason": "..."}}: moves the
 *       alias (with the registry's compatibility and load checks); with {@code {"candidate": 3,
 *       "weightPercent": 10, "reason": "..."}}: starts a rollout behind the alias.
 *   <li>{@code DELETE /mlops/{model}/{alias}}: aborts the alias's rollout.
 * </ul>
 *
 * <p>Write operations answer 403 unless {@code mlops.endpoint.writes-enabled=true}; each one that
 * runs is audited with the request's principal as the actor ({@code anonymous} without one) and
 * logged at INFO. Operations run on the blocking executor: they read the registry, and a move loads
 * the version first. Reads are not sensitive by default ({@code endpoints.mlops.sensitive} changes
 * that). Thread-safe.
 */
@Endpoint(id = "mlops", defaultSensitive = false)
public class MlopsEndpoint {

  private static final Logger LOG = LoggerFactory.getLogger(MlopsEndpoint.class);

  private final Mlops mlops;
  private final BeanContext context;
  private final boolean writes;

  MlopsEndpoint(Mlops mlops, BeanContext context, EndpointProperties properties) {
    this.mlops = mlops;
    this.context = context;
    this.writes = properties.writesEnabled();
  }

  /** Everything: models, predictors, runtime. */
  @ExecuteOn(TaskExecutors.BLOCKING)
  @Read
  public Map<String, Object> overview() {
    GovernedRegistry registry = mlops.registry();
    Map<String, Object> out = new LinkedHashMap<>();
    List<Object> models = new ArrayList<>();
    for (String name : registry.models()) {
      models.add(model(registry, name));
    }
    out.put("models", models);
    out.put("predictors", predictors());
    out.put("runtime", runtime(mlops.state()));
    out.put("writesEnabled", writes);
    return out;
  }

  /** One model. */
  @ExecuteOn(TaskExecutors.BLOCKING)
  @Read
  public Map<String, Object> model(@Selector String model) {
    GovernedRegistry registry = mlops.registry();
    if (!registry.models().contains(model)) {
      throw new HttpStatusException(HttpStatus.NOT_FOUND, "no model named '" + model + "'");
    }
    return model(registry, model);
  }

  /**
   * Moves an alias ({@code version}) or starts a rollout behind it ({@code candidate}, {@code
   * weightPercent}).
   */
  @ExecuteOn(TaskExecutors.BLOCKING)
  @Write
  public Map<String, Object> change(
      @Selector String model,
      @Selector String alias,
      @Nullable Long version,
      @Nullable Long candidate,
      @Nullable Double weightPercent,
      @Nullable String reason,
      HttpRequest<?> request) {
    AuditInfo audit = audit(request, reason);
    if ((version == null) == (candidate == null)) {
      throw new HttpStatusException(
          HttpStatus.BAD_REQUEST,
          "expected either \"version\" (move the alias) or \"candidate\" (start a rollout) but"
              + " found "
              + (version == null ? "neither" : "both"));
    }
    GovernedRegistry registry = mlops.registry();
    Map<String, Object> out = new LinkedHashMap<>();
    try {
      if (version != null) {
        OptionalLong from = registry.setAlias(model, alias, version, audit);
        LOG.info(
            "{} moved {}@{} to version {} through the mlops endpoint",
            audit.actor(),
            model,
            alias,
            version);
        out.put("alias", alias);
        out.put("fromVersion", from.isPresent() ? from.getAsLong() : 0L);
        out.put("toVersion", version);
      } else {
        if (weightPercent == null) {
          throw new HttpStatusException(
              HttpStatus.BAD_REQUEST,
              "a rollout needs \"weightPercent\" (0 to 100) but found none");
        }
        Rollout r =
            registry.startRollout(
                model, alias, RolloutSpec.of(candidate).weightPercent(weightPercent), audit);
        LOG.info(
            "{} started rollout {} of {} on {}@{} through the mlops endpoint",
            audit.actor(),
            r.id(),
            candidate,
            model,
            alias);
        out.put("rollout", rollout(r));
      }
    } catch (ModelNotFoundException e) {
      throw new HttpStatusException(HttpStatus.NOT_FOUND, e.getMessage());
    } catch (ConflictException e) {
      throw new HttpStatusException(HttpStatus.CONFLICT, e.getMessage());
    } catch (MlopsException | IllegalArgumentException e) {
      throw new HttpStatusException(HttpStatus.UNPROCESSABLE_ENTITY, e.getMessage());
    }
    out.put("actor", audit.actor());
    return out;
  }

  /** Aborts the alias's rollout. */
  @ExecuteOn(TaskExecutors.BLOCKING)
  @Delete
  public Map<String, Object> abortRollout(
      @Selector String model, @Selector String alias, HttpRequest<?> request) {
    AuditInfo audit = audit(request, null);
    try {
      Rollout r = mlops.registry().abortRollout(model, alias, audit);
      LOG.info(
          "{} aborted rollout {} on {}@{} through the mlops endpoint",
          audit.actor(),
          r.id(),
          model,
          alias);
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("rollout", rollout(r));
      out.put("actor", audit.actor());
      return out;
    } catch (ModelNotFoundException e) {
      throw new HttpStatusException(HttpStatus.NOT_FOUND, e.getMessage());
    } catch (ConflictException e) {
      throw new HttpStatusException(HttpStatus.CONFLICT, e.getMessage());
    } catch (MlopsException | IllegalArgumentException e) {
      throw new HttpStatusException(HttpStatus.UNPROCESSABLE_ENTITY, e.getMessage());
    }
  }

  private AuditInfo audit(HttpRequest<?> request, String reason) {
    if (!writes) {
      throw new HttpStatusException(
          HttpStatus.FORBIDDEN,
          "the mlops endpoint's write operations are off; set mlops.endpoint.writes-enabled=true"
              + " to allow them");
    }
    String actor = request.getUserPrincipal().map(Principal::getName).orElse("anonymous");
    return AuditInfo.by(actor, reason == null || reason.isBlank() ? "mlops endpoint" : reason);
  }

  private static Map<String, Object> model(GovernedRegistry registry, String name) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("name", name);
    List<Object> versions = new ArrayList<>();
    for (ModelVersion v : registry.versions(name)) {
      Map<String, Object> e = new LinkedHashMap<>();
      e.put("version", v.version());
      e.put("status", v.status().name());
      e.put("digest", v.digest());
      e.put("sizeBytes", v.sizeBytes());
      e.put("createdAt", v.createdAt().toString());
      e.put("createdBy", v.createdBy());
      e.put("description", v.description());
      versions.add(e);
    }
    m.put("versions", versions);
    Map<String, Long> aliases = registry.aliases(name);
    m.put("aliases", new LinkedHashMap<>(aliases));
    List<Object> rollouts = new ArrayList<>();
    for (String alias : aliases.keySet()) {
      Optional<Rollout> r = registry.rolloutStatus(name, alias);
      r.filter(Rollout::active).ifPresent(x -> rollouts.add(rollout(x)));
    }
    m.put("rollouts", rollouts);
    return m;
  }

  private static Map<String, Object> rollout(Rollout r) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", r.id());
    m.put("alias", r.alias());
    m.put("stable", r.stable());
    m.put("candidate", r.candidate());
    m.put("weightPercent", r.weightPercent());
    m.put("state", r.state().name());
    m.put("reason", r.reason());
    m.put("started", r.started().toString());
    m.put("updated", r.updated().toString());
    return m;
  }

  private Map<String, Object> predictors() {
    Map<String, Object> out = new LinkedHashMap<>();
    for (PredictorHealthIndicator h : context.getBeansOfType(PredictorHealthIndicator.class)) {
      Map<String, Object> details = new LinkedHashMap<>();
      HealthStatus status = h.check(details);
      Map<String, Object> p = new LinkedHashMap<>();
      p.put("status", status.getName());
      p.putAll(details);
      out.put(h.name().substring("mlops-".length()), p);
    }
    return out;
  }

  private static Map<String, Object> runtime(RuntimeState s) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("open", s.open());
    List<Object> predictors = new ArrayList<>();
    for (RuntimeState.PredictorState p : s.predictors()) {
      Map<String, Object> e = new LinkedHashMap<>();
      e.put("target", p.target().toString());
      e.put("servingVersion", p.servingVersion());
      e.put("swapMode", Settings.kebab(p.swapMode()));
      e.put("batching", p.batching());
      e.put("warmVersions", p.warmVersions());
      predictors.add(e);
    }
    m.put("predictors", predictors);
    List<Object> loaded = new ArrayList<>();
    for (RuntimeState.LoadedVersion v : s.loaded()) {
      Map<String, Object> e = new LinkedHashMap<>();
      e.put("model", v.model());
      e.put("version", v.version());
      e.put("references", v.references());
      e.put("cached", v.cached());
      loaded.add(e);
    }
    m.put("loaded", loaded);
    m.put("sessionsOpened", s.sessions().opened());
    m.put("sessionsClosed", s.sessions().closed());
    Map<String, Object> shadow = new LinkedHashMap<>();
    shadow.put("mirrored", s.shadow().mirrored());
    shadow.put("dropped", s.shadow().dropped());
    shadow.put("failed", s.shadow().failed());
    shadow.put("inFlight", s.shadow().inFlight());
    shadow.put("capacity", s.shadow().capacity());
    shadow.put("deadline", s.shadow().deadline().toString());
    m.put("shadow", shadow);
    return m;
  }
}
