package dev.mlops.spring.boot.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditEntry;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.Codecs;
import dev.mlops.api.ModelRegistry;
import dev.mlops.api.Prediction;
import dev.mlops.api.Predictor;
import dev.mlops.api.Registration;
import dev.mlops.api.spi.InferenceEngine;
import dev.mlops.metrics.MicrometerMetricSink;
import dev.mlops.registry.postgres.PostgresArtifactStore;
import dev.mlops.registry.postgres.PostgresModelStore;
import dev.mlops.runtime.Mlops;
import dev.mlops.runtime.RuntimeState;
import dev.mlops.runtime.SwapMode;
import dev.mlops.runtime.registry.GovernedRegistry;
import dev.mlops.spring.boot.BootLine;
import dev.mlops.spring.boot.MlopsFailureAnalyzer;
import dev.mlops.spring.boot.MlopsHealth;
import dev.mlops.spring.boot.MlopsLifecycle;
import dev.mlops.spring.boot.MlopsPropertyException;
import dev.mlops.spring.boot.PredictorFactory;
import dev.mlops.spring.boot.actuate.MlopsEndpoint;
import dev.mlops.testmodels.TestModels;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.security.Principal;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.context.properties.bind.BindException;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.ApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.StandardEnvironment;

/**
 * The conditions every Boot-line module must meet, run by each line's own test class under that
 * line's dependency set: the same source compiled and run against Spring Boot 3.5 and 4.0.
 */
public abstract class MlopsAutoConfigurationContract {

  /** The mlops auto-configurations of the line. */
  protected abstract AutoConfigurations mlops();

  /** Boot's health contributor and health endpoint auto-configurations. */
  protected abstract AutoConfigurations health();

  /** Boot's metrics auto-configuration (which binds MeterBinder beans). */
  protected abstract AutoConfigurations metrics();

  /** The packages that hold Actuator's health API on this line. */
  protected abstract String[] healthPackages();

  /** The line: 3 or 4. */
  protected abstract int bootLine();

  /** The Micrometer minor line this Boot manages, e.g. "1.16.". */
  protected abstract String micrometerLine();

  /** The health of one part of the {@code mlops} contributor: status and details. */
  protected abstract Map<String, Object> health(ApplicationContext context, String part);

  /** Whether the {@code mlops} contributor is a bean of the line's health contributor type. */
  protected abstract boolean hasHealthContributor(ApplicationContext context);

  /** Runs the line's readiness post-processor on an environment. */
  protected abstract void postProcessReadiness(StandardEnvironment environment);

  /** Whether the readiness group of the health endpoint includes {@code mlops/<predictor>}. */
  protected abstract boolean readinessIncludes(ApplicationContext context, String member);

  private ApplicationContextRunner runner() {
    return new ApplicationContextRunner()
        .withConfiguration(mlops())
        .withPropertyValues(
            "mlops.registry.url=" + Fixture.registry(),
            "mlops.predictors.cancer.model=models:/cancer@production",
            "mlops.predictors.cancer.output=probabilities");
  }

  private static float[] cancerRow() {
    return TestModels.breastCancerTestSet().features()[0];
  }

  @Test
  void runsOnItsOwnBootLineAndMicrometer() {
    assertThat(BootLine.detect(getClass().getClassLoader())).isEqualTo(bootLine());
    String jar = MeterRegistry.class.getProtectionDomain().getCodeSource().getLocation().getPath();
    assertThat(jar).contains("micrometer-core-" + micrometerLine());
  }

  @Test
  void theWrongBootLineNamesTheRightModule() {
    int other = bootLine() == 4 ? 3 : 4;
    assertThatThrownBy(
            () ->
                BootLine.require(
                    bootLine(), other, "the-module", "the-boot3-starter", "the-boot4-starter"))
        .isInstanceOf(BootLine.MlopsBootLineException.class)
        .hasMessageContaining("the-module is built for Spring Boot " + other + ".x")
        .hasMessageContaining("depend on " + (bootLine() == 4 ? "the-boot4" : "the-boot3"));
  }

  @Test
  void twoPredictorsOnTwoModelsAreQualifiedBeans() {
    runner()
        .withPropertyValues("mlops.predictors.tiny.model=models:/tiny/1")
        .withUserConfiguration(TwoCallers.class)
        .run(
            ctx -> {
              assertThat(ctx).hasNotFailed();
              assertThat(ctx.getBeansOfType(Predictor.class)).containsOnlyKeys("cancer", "tiny");
              TwoCallers c = ctx.getBean(TwoCallers.class);
              Prediction<float[]> p = c.cancer.predict(cancerRow());
              assertThat(p.model()).isEqualTo("cancer");
              assertThat(p.version()).isEqualTo(1);
              assertThat(p.value()).hasSize(2);
              assertThat(p.value()[0] + p.value()[1]).isCloseTo(1f, within(1e-5f));
              float[] x = {1f, 2f, 0.5f, -1f};
              Prediction<float[]> t = c.tiny.predict(x);
              assertThat(t.model()).isEqualTo("tiny");
              assertThat(t.value()).containsExactly(TestModels.tinyOutput(x), within(1e-5f));
              assertThat(ctx.getBean(Mlops.class).state().predictors()).hasSize(2);
            });
  }

  @Test
  void predictorOptionsComeFromProperties() {
    runner()
        .withPropertyValues(
            "mlops.predictors.cancer.swap-mode=resource-preserving",
            "mlops.predictors.cancer.keep-warm=1",
            "mlops.predictors.cancer.deadline=5s",
            "mlops.predictors.cancer.batching.enabled=true",
            "mlops.predictors.cancer.batching.max-batch-size=8",
            "mlops.predictors.cancer.session.intra-op-threads=1")
        .run(
            ctx -> {
              RuntimeState.PredictorState s = ctx.getBean(Mlops.class).state().predictors().get(0);
              assertThat(s.swapMode()).isEqualTo(SwapMode.RESOURCE_PRESERVING);
              assertThat(s.batching()).isTrue();
              @SuppressWarnings("unchecked")
              Predictor<float[], float[]> p = ctx.getBean("cancer", Predictor.class);
              assertThat(p.predict(cancerRow()).version()).isEqualTo(1);
            });
  }

  @Test
  void shadowOptionsComeFromPropertiesAndABadOneFailsStartupNamingIt() {
    runner()
        .withPropertyValues(
            "mlops.runtime.shadow-capacity=32",
            "mlops.runtime.shadow-deadline=250ms",
            "mlops.runtime.shadow-executor=shadowThreads")
        .withBean("shadowThreads", java.util.concurrent.Executor.class, () -> Runnable::run)
        .run(
            ctx -> {
              assertThat(ctx).hasNotFailed();
              RuntimeState.Shadow s = ctx.getBean(Mlops.class).state().shadow();
              assertThat(s.capacity()).isEqualTo(32);
              assertThat(s.deadline()).isEqualTo(java.time.Duration.ofMillis(250));
            });
    runner()
        .run(
            ctx ->
                assertThat(ctx.getBean(Mlops.class).state().shadow().deadline())
                    .isEqualTo(java.time.Duration.ofSeconds(Mlops.DEFAULT_SHADOW_SECONDS)));
    for (String[] bad :
        new String[][] {
          {"shadow-capacity", "0", "a count >= 1"},
          {"shadow-deadline", "0s", "a positive duration, e.g. 10s"},
          {
            "shadow-executor",
            "noSuchBean",
            "the name of a bean of type java.util.concurrent.Executor"
          }
        }) {
      runner()
          .withPropertyValues("mlops.runtime." + bad[0] + "=" + bad[1])
          .run(
              ctx -> {
                MlopsPropertyException e =
                    cause(ctx.getStartupFailure(), MlopsPropertyException.class);
                assertThat(e.property()).isEqualTo("mlops.runtime." + bad[0]);
                assertThat(e.accepted()).isEqualTo(bad[2]);
              });
    }
  }

  @Test
  void withoutActuatorTheRuntimeAndPredictorsStillServe() {
    runner()
        .withClassLoader(new FilteredClassLoader(withActuator(healthPackages())))
        .run(
            ctx -> {
              assertThat(ctx).hasNotFailed();
              assertThat(ctx).hasSingleBean(Mlops.class);
              assertThat(ctx).hasBean("cancer");
              assertThat(ctx).doesNotHaveBean(MlopsEndpoint.class);
              assertThat(hasHealthContributor(ctx)).isFalse();
            });
  }

  @Test
  void actuatorWithoutTheHealthModuleStartsWithTheEndpointAndNoHealth() {
    runner()
        .withClassLoader(new FilteredClassLoader(healthPackages()))
        .withPropertyValues("management.endpoints.web.exposure.include=mlops")
        .run(
            ctx -> {
              assertThat(ctx).hasNotFailed();
              assertThat(ctx).hasSingleBean(MlopsEndpoint.class);
              assertThat(hasHealthContributor(ctx)).isFalse();
            });
  }

  @Test
  void withoutMicrometerThereIsNoMicrometerSink() {
    runner()
        .withClassLoader(new FilteredClassLoader("io.micrometer"))
        .run(
            ctx -> {
              assertThat(ctx).hasNotFailed();
              assertThat(ctx).doesNotHaveBean(MicrometerMetricSink.class);
              @SuppressWarnings("unchecked")
              Predictor<float[], float[]> p = ctx.getBean("cancer", Predictor.class);
              assertThat(p.predict(cancerRow()).version()).isEqualTo(1);
            });
  }

  @Test
  void theMetricSinkBindsToTheApplicationsMeterRegistry() {
    runner()
        .withConfiguration(metrics())
        .withUserConfiguration(Meters.class)
        .run(
            ctx -> {
              assertThat(ctx).hasNotFailed();
              assertThat(ctx).hasSingleBean(MicrometerMetricSink.class);
              @SuppressWarnings("unchecked")
              Predictor<float[], float[]> p = ctx.getBean("cancer", Predictor.class);
              for (int i = 0; i < 7; i++) {
                p.predict(cancerRow());
              }
              MeterRegistry meters = ctx.getBean(MeterRegistry.class);
              Timer t =
                  meters
                      .get(MicrometerMetricSink.PREDICTIONS)
                      .tags("model", "cancer", "version", "1", "outcome", "success")
                      .timer();
              assertThat(t.count()).isEqualTo(7);
              assertThat(meters.find("mlops.versions.loaded").gauge()).isNotNull();
            });
  }

  @Test
  void aUserBeanReplacesEachDefault() {
    runner()
        .withUserConfiguration(OwnBeans.class)
        .run(
            ctx -> {
              assertThat(ctx).hasNotFailed();
              assertThat(ctx.getBean(Mlops.class)).isSameAs(ctx.getBean("ownMlops"));
              Object cancer = ctx.getBean("cancer");
              @SuppressWarnings("unchecked")
              Predictor<float[][], float[][]> batch = (Predictor<float[][], float[][]>) cancer;
              Prediction<float[][]> p = batch.predict(new float[][] {cancerRow(), cancerRow()});
              assertThat(p.value()).hasNumberOfRows(2);
              assertThat(ctx.getBean(PredictorFactory.class).made("cancer")).containsSame(batch);
            });
  }

  @Test
  void aBadModelReferenceFailsStartupNamingThePropertyAndTheAcceptedValues() {
    runner()
        .withPropertyValues("mlops.predictors.cancer.model=cancer@production")
        .run(
            ctx -> {
              assertThat(ctx).hasFailed();
              FailureAnalysis a = new MlopsFailureAnalyzer().analyze(ctx.getStartupFailure());
              assertThat(a).isNotNull();
              assertThat(a.getDescription())
                  .contains("'mlops.predictors.cancer.model'")
                  .contains("'cancer@production'");
              assertThat(a.getAction())
                  .contains("models:/<name>/<version>, models:/<name>@<alias> or models:/<name>");
            });
  }

  @Test
  void aMissingRegistryUrlFailsStartupNamingIt() {
    new ApplicationContextRunner()
        .withConfiguration(mlops())
        .run(
            ctx -> {
              assertThat(ctx).hasFailed();
              MlopsPropertyException e =
                  cause(ctx.getStartupFailure(), MlopsPropertyException.class);
              assertThat(e.property()).isEqualTo("mlops.registry.url");
              assertThat(e.value()).isNull();
              assertThat(e.accepted()).contains("a directory path, a file: URI, 'postgresql:'");
            });
    runner()
        .withPropertyValues("mlops.registry.url=s3://bucket/models")
        .run(
            ctx -> {
              MlopsPropertyException e =
                  cause(ctx.getStartupFailure(), MlopsPropertyException.class);
              assertThat(e).hasMessageContaining("the scheme 's3:' is unknown");
            });
  }

  @Test
  void aBadEnumValueFailsStartupNamingThePropertyAndTheAcceptedValues() {
    runner()
        .withPropertyValues("mlops.predictors.cancer.swap-mode=fast")
        .run(
            ctx -> {
              assertThat(ctx).hasFailed();
              BindException e = cause(ctx.getStartupFailure(), BindException.class);
              assertThat(e.getProperty().getName().toString())
                  .isEqualTo("mlops.predictors.cancer.swap-mode");
              assertThat(e.getProperty().getValue()).isEqualTo("fast");
              // Boot's own BindFailureAnalyzer lists an enum's values; the target type says them.
              assertThat(e.getTarget().getType().resolve()).isEqualTo(SwapMode.class);
            });
    runner()
        .withPropertyValues("mlops.predictors.cancer.keep-warm=-1")
        .run(
            ctx -> {
              MlopsPropertyException e =
                  cause(ctx.getStartupFailure(), MlopsPropertyException.class);
              assertThat(e.property()).isEqualTo("mlops.predictors.cancer.keep-warm");
              assertThat(e.accepted()).isEqualTo("a count >= 0");
            });
  }

  @Test
  void theEndpointExistsOnlyWhenExposed() {
    runner().run(ctx -> assertThat(ctx).hasNotFailed().doesNotHaveBean(MlopsEndpoint.class));
    runner()
        .withPropertyValues("management.endpoints.web.exposure.include=health,mlops")
        .run(
            ctx -> {
              assertThat(ctx).hasSingleBean(MlopsEndpoint.class);
              Map<String, Object> all = ctx.getBean(MlopsEndpoint.class).mlops();
              assertThat(all).containsKeys("models", "predictors", "cache", "shadow", "listener");
              assertThat(all.get("shadow"))
                  .isEqualTo(
                      Map.of(
                          "mirrored",
                          0L,
                          "dropped",
                          0L,
                          "failed",
                          0L,
                          "inFlight",
                          0,
                          "capacity",
                          256,
                          "deadline",
                          "PT10S"));
              @SuppressWarnings("unchecked")
              List<Map<String, Object>> models = (List<Map<String, Object>>) all.get("models");
              assertThat(models).extracting(m -> m.get("name")).containsExactly("cancer", "tiny");
              assertThat(models.get(0).get("aliases")).isEqualTo(Map.of("production", 1L));
              @SuppressWarnings("unchecked")
              Map<String, Map<String, Object>> predictors =
                  (Map<String, Map<String, Object>>) all.get("predictors");
              assertThat(predictors.get("cancer"))
                  .containsEntry("status", "UP")
                  .containsEntry("version", 1L)
                  .containsEntry("target", "models:/cancer@production");
              assertThat(all.get("writesEnabled")).isEqualTo(false);
              var refused =
                  ctx.getBean(MlopsEndpoint.class)
                      .change("cancer", "move-alias", "production", 2L, null, null, () -> "alice");
              assertThat(refused.getStatus()).isEqualTo(403);
            });
  }

  @Test
  void endpointWritesAreAuditedWithThePrincipal() {
    runner()
        .withPropertyValues(
            "mlops.registry.url=" + Fixture.fresh(),
            "management.endpoints.web.exposure.include=mlops",
            "mlops.endpoint.writes-enabled=true")
        .run(
            ctx -> {
              MlopsEndpoint endpoint = ctx.getBean(MlopsEndpoint.class);
              assertThat(
                      endpoint
                          .change("cancer", "move-alias", "production", 2L, null, "better", null)
                          .getStatus())
                  .isEqualTo(401);
              Principal alice = () -> "alice";
              var moved =
                  endpoint.change("cancer", "move-alias", "production", 2L, null, "better", alice);
              assertThat(moved.getStatus()).isEqualTo(200);
              assertThat(moved.getBody())
                  .containsEntry("fromVersion", 1L)
                  .containsEntry("toVersion", 2L);
              ModelRegistry registry = ctx.getBean(ModelRegistry.class);
              assertThat(registry.aliases("cancer")).containsEntry("production", 2L);
              AuditEntry last = registry.auditLog().get(registry.auditLog().size() - 1);
              assertThat(last.actor()).isEqualTo("alice");
              assertThat(last.reason()).isEqualTo("better");
              assertThat(
                      endpoint
                          .change("cancer", "jump", "production", 2L, null, null, alice)
                          .getStatus())
                  .isEqualTo(400);
            });
  }

  @Test
  void eachPredictorHasAHealthIndicator() {
    runner()
        .withConfiguration(health())
        .withPropertyValues("mlops.predictors.tiny.model=models:/tiny/1")
        .run(
            ctx -> {
              assertThat(ctx).hasNotFailed();
              assertThat(hasHealthContributor(ctx)).isTrue();
              assertThat(health(ctx, "cancer"))
                  .containsEntry("status", "UP")
                  .containsEntry("version", 1L)
                  .containsEntry("target", "models:/cancer@production");
              assertThat(health(ctx, "tiny")).containsEntry("status", "UP");
              assertThat(health(ctx, "registry")).isNull();
              // After the runtime closed no version serves: DOWN, saying why.
              ctx.getBean(Mlops.class).close();
              assertThat(health(ctx, "cancer"))
                  .containsEntry("status", "DOWN")
                  .containsEntry("error", "the mlops runtime is closed");
            });
  }

  @Test
  void healthFollowsAHotSwap() {
    runner()
        .withConfiguration(health())
        .withPropertyValues("mlops.registry.url=" + Fixture.fresh())
        .run(
            ctx -> {
              ModelRegistry registry = ctx.getBean(ModelRegistry.class);
              registry.setAlias("cancer", "production", 2, AuditInfo.by("test", "promote"));
              awaitUp(ctx, 2);
            });
  }

  /**
   * A fresh registry's cancer predictor, resource-preserving with a 50 ms gap, on {@code engine}.
   */
  private ApplicationContextRunner resourcePreserving(GatedEngine engine) {
    return runner()
        .withConfiguration(health())
        .withBean(InferenceEngine.class, () -> engine)
        .withPropertyValues(
            "mlops.registry.url=" + Fixture.fresh(),
            "mlops.predictors.cancer.swap-mode=resource-preserving",
            "mlops.predictors.cancer.swap-gap-timeout=50ms");
  }

  @Test
  void healthIsOutOfServiceInAResourcePreservingGapAndDownWhenNothingLoads() {
    GatedEngine engine = new GatedEngine();
    resourcePreserving(engine)
        .run(
            ctx -> {
              assertThat(health(ctx, "cancer")).containsEntry("status", "UP");
              ModelRegistry registry = ctx.getBean(ModelRegistry.class);
              engine.hold();
              registry.forceAlias("cancer", "production", 2, AuditInfo.by("test", "gap"));
              awaitStatus(ctx, "OUT_OF_SERVICE");
              assertThat(health(ctx, "cancer"))
                  .containsEntry("version", 0L)
                  .containsEntry("swap", "between versions (resource-preserving swap), calls wait");
              engine.release();
              awaitStatus(ctx, "UP");
              assertThat(health(ctx, "cancer")).containsEntry("version", 2L);

              // Neither the new version nor the old one loads: DOWN, with the failure. The swap
              // tries the new version, then reloads the old one (OUT_OF_SERVICE meanwhile).
              engine.fail();
              registry.forceAlias("cancer", "production", 1, AuditInfo.by("test", "fail"));
              awaitFailedOpens(engine, 2);
              awaitStatus(ctx, "DOWN");
              assertThat((String) health(ctx, "cancer").get("error"))
                  .startsWith("loading models:/cancer/")
                  .contains("the test makes every load fail");
            });
  }

  /**
   * A call in flight on the old version outlasts the resource-preserving gap: the swap loads the
   * new version anyway, that load fails, and the old version's session, still open for the call,
   * serves again: UP on the old version, no session closed, the caller answered.
   */
  @Test
  void whenTheNewVersionFailsASessionStillOpenForACallServesAgain() {
    GatedEngine engine = new GatedEngine();
    java.util.concurrent.atomic.AtomicBoolean hold =
        new java.util.concurrent.atomic.AtomicBoolean();
    java.util.concurrent.CountDownLatch inCall = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch letGo = new java.util.concurrent.CountDownLatch(1);
    dev.mlops.api.spi.PredictionObserver holding =
        (version, inputs, outputs) -> {
          if (hold.get() && version.version() == 1) {
            inCall.countDown();
            try {
              letGo.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
        };
    resourcePreserving(engine)
        .withBean(dev.mlops.api.spi.PredictionObserver.class, () -> holding)
        .run(
            ctx -> {
              assertThat(health(ctx, "cancer"))
                  .containsEntry("status", "UP")
                  .containsEntry("version", 1L);
              @SuppressWarnings("unchecked")
              Predictor<float[], float[]> cancer = ctx.getBean("cancer", Predictor.class);
              hold.set(true);
              java.util.concurrent.CompletableFuture<Prediction<float[]>> held =
                  java.util.concurrent.CompletableFuture.supplyAsync(
                      () -> cancer.predict(cancerRow()));
              assertThat(inCall.await(30, TimeUnit.SECONDS)).isTrue();
              Mlops mlops = ctx.getBean(Mlops.class);
              long closedBefore = mlops.state().sessions().closed();

              engine.fail();
              ctx.getBean(ModelRegistry.class)
                  .forceAlias("cancer", "production", 2, AuditInfo.by("test", "fail"));
              awaitFailedOpens(engine, 1);
              awaitUp(ctx, 1);
              hold.set(false);
              letGo.countDown();
              assertThat(held.get(30, TimeUnit.SECONDS).version()).isEqualTo(1);
              assertThat(cancer.predict(cancerRow()).version()).isEqualTo(1);
              assertThat(engine.failedOpens()).as("only v2's load failed").isEqualTo(1);
              assertThat(mlops.state().sessions().closed()).isEqualTo(closedBefore);
            });
  }

  /** Waits until the cancer predictor's health names {@code version}; then it must be UP. */
  private void awaitUp(ApplicationContext ctx, long version) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!Long.valueOf(version).equals(health(ctx, "cancer").get("version"))
        && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    assertThat(health(ctx, "cancer"))
        .containsEntry("status", "UP")
        .containsEntry("version", version);
  }

  private static void awaitFailedOpens(GatedEngine engine, int n) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (engine.failedOpens() < n && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    assertThat(engine.failedOpens()).as("opens failed").isGreaterThanOrEqualTo(n);
  }

  private void awaitStatus(ApplicationContext ctx, String status) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!status.equals(health(ctx, "cancer").get("status")) && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    assertThat(health(ctx, "cancer"))
        .as("state %s", ctx.getBean(Mlops.class).state())
        .containsEntry("status", status);
  }

  @Test
  void predictorHealthIsInTheReadinessGroupWhereProbesAreOn() {
    String include = "management.endpoint.health.group.readiness.include";
    assertThat(readinessAfter(Map.of()).getProperty(include)).isNull();
    assertThat(
            readinessAfter(Map.of("management.endpoint.health.probes.enabled", "true"))
                .getProperty(include))
        .isEqualTo("readinessState,mlops");
    assertThat(
            readinessAfter(Map.of("spring.main.cloud-platform", "kubernetes")).getProperty(include))
        .isEqualTo("readinessState,mlops");
    assertThat(
            readinessAfter(
                    Map.of(
                        "management.endpoint.health.probes.enabled", "true",
                        "management.health.mlops.enabled", "false"))
                .getProperty(include))
        .isNull();
    assertThat(
            readinessAfter(
                    Map.of("management.endpoint.health.probes.enabled", "true", include, "db"))
                .getProperty(include))
        .isEqualTo("db");
    runner()
        .withConfiguration(health())
        .withPropertyValues(include + "=mlops")
        .run(
            ctx -> {
              assertThat(readinessIncludes(ctx, "mlops/cancer")).isTrue();
              assertThat(readinessIncludes(ctx, "diskSpace")).isFalse();
            });
  }

  private StandardEnvironment readinessAfter(Map<String, Object> properties) {
    StandardEnvironment env = new StandardEnvironment();
    env.getPropertySources()
        .addFirst(new org.springframework.core.env.MapPropertySource("test", properties));
    postProcessReadiness(env);
    return env;
  }

  @Test
  void theRuntimeClosesAfterTheWebServerAndLeavesNoSessionOpen() {
    assertThat(MlopsLifecycle.PHASE)
        .isLessThan(Integer.MAX_VALUE - 2048) // the web server's stop phase
        .isLessThan(Integer.MAX_VALUE - 1024); // its graceful shutdown
    Mlops[] mlops = new Mlops[1];
    runner()
        .withPropertyValues("mlops.registry.url=" + Fixture.fresh())
        .run(
            ctx -> {
              mlops[0] = ctx.getBean(Mlops.class);
              assertThat(ctx.getBean(MlopsLifecycle.class).isRunning()).isTrue();
              // A hot swap's load is in progress when the application closes.
              ctx.getBean(ModelRegistry.class)
                  .forceAlias("cancer", "production", 2, AuditInfo.by("test", "swap at shutdown"));
            });
    RuntimeState s = mlops[0].state();
    assertThat(s.open()).isFalse();
    assertThat(s.loading()).isEmpty();
    assertThat(s.sessions().closed()).isEqualTo(s.sessions().opened());
  }

  @Test
  void fleetModeOnTheApplicationsDataSourceFollowsAnAliasMovedElsewhere() throws Exception {
    javax.sql.DataSource db = Postgres.newDatabase();
    java.nio.file.Path files = java.nio.file.Files.createTempDirectory("mlops-boot-pg-");
    AuditInfo audit = AuditInfo.by("pipeline", "fixture");
    try (GovernedRegistry elsewhere =
        GovernedRegistry.builder(
                PostgresModelStore.builder(db).listen(false).build(),
                PostgresArtifactStore.builder(db).cache(files.resolve("cache")).build())
            .build()) {
      for (String f : new String[] {TestModels.BREAST_CANCER_V1, TestModels.BREAST_CANCER_V2}) {
        elsewhere.register(
            Registration.builder("cancer", ArtifactSource.file(TestModels.copy(f, files))).build(),
            audit);
      }
      elsewhere.setAlias("cancer", "production", 1, audit);
      new ApplicationContextRunner()
          .withConfiguration(mlops())
          .withConfiguration(health())
          .withBean(javax.sql.DataSource.class, () -> db)
          .withPropertyValues(
              "mlops.registry.url=postgresql:",
              "mlops.registry.artifact-cache=" + files.resolve("app-cache"),
              "mlops.predictors.cancer.model=models:/cancer@production",
              "management.endpoints.web.exposure.include=mlops")
          .run(
              ctx -> {
                assertThat(ctx).hasNotFailed();
                @SuppressWarnings("unchecked")
                Predictor<float[], float[]> p = ctx.getBean("cancer", Predictor.class);
                assertThat(p.predict(cancerRow()).version()).isEqualTo(1);
                long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                while (!Boolean.TRUE.equals(health(ctx, "registry").get("connected"))
                    && System.nanoTime() < deadline) {
                  Thread.sleep(10);
                }
                assertThat(health(ctx, "registry")).containsEntry("status", "UP");
                elsewhere.setAlias("cancer", "production", 2, audit);
                while (p.predict(cancerRow()).version() != 2 && System.nanoTime() < deadline) {
                  Thread.sleep(10);
                }
                assertThat(p.predict(cancerRow()).version()).isEqualTo(2);
                assertThat(health(ctx, "cancer")).containsEntry("version", 2L);
                @SuppressWarnings("unchecked")
                Map<String, Object> listener =
                    (Map<String, Object>) ctx.getBean(MlopsEndpoint.class).mlops().get("listener");
                assertThat(listener).containsEntry("status", "UP").containsEntry("connected", true);
                assertThat(listener).containsKey("lastNotification");
              });
    }
  }

  @Test
  void theHealthEvaluatorNamesAPredictorThatWasNeverMade() {
    runner()
        .withUserConfiguration(OwnBeans.class)
        .withPropertyValues("mlops.predictors.other.model=models:/tiny/1")
        .run(
            ctx -> {
              MlopsHealth.Report r = ctx.getBean(MlopsHealth.class).predictor("nothing");
              assertThat(r.status()).isEqualTo(MlopsHealth.Status.DOWN);
              assertThat(r.details().get("error"))
                  .isEqualTo("no predictor was made for mlops.predictors.nothing");
            });
  }

  private static String[] withActuator(String[] packages) {
    String[] out = java.util.Arrays.copyOf(packages, packages.length + 1);
    out[packages.length] = "org.springframework.boot.actuate";
    return out;
  }

  static <T extends Throwable> T cause(Throwable t, Class<T> type) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (type.isInstance(c)) {
        return type.cast(c);
      }
    }
    throw new AssertionError("no " + type.getName() + " in the causes of " + t, t);
  }

  /** Injects both predictors by qualifier. */
  @Configuration(proxyBeanMethods = false)
  static class TwoCallers {
    final Predictor<float[], float[]> cancer;
    final Predictor<float[], float[]> tiny;

    TwoCallers(
        @Qualifier("cancer") Predictor<float[], float[]> cancer,
        @Qualifier("tiny") Predictor<float[], float[]> tiny) {
      this.cancer = cancer;
      this.tiny = tiny;
    }
  }

  /** A SimpleMeterRegistry as the application's registry. */
  @Configuration(proxyBeanMethods = false)
  static class Meters {
    @Bean
    SimpleMeterRegistry meterRegistry() {
      return new SimpleMeterRegistry();
    }
  }

  /** The application's own runtime, and its own predictor bean for "cancer" with its codec. */
  @Configuration(proxyBeanMethods = false)
  static class OwnBeans {
    @Bean(destroyMethod = "close")
    Mlops ownMlops() {
      return Mlops.builder().localRegistry(Fixture.registry()).build();
    }

    @Bean
    Predictor<float[][], float[][]> cancer(PredictorFactory predictors) {
      return predictors.create("cancer", Codecs.floatBatch("probabilities"));
    }
  }
}
