package dev.mlops.micronaut;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.Predictor;
import dev.mlops.api.Registration;
import dev.mlops.runtime.registry.GovernedRegistry;
import dev.mlops.testmodels.TestModels;
import io.micronaut.context.ApplicationContext;
import io.micronaut.health.HealthStatus;
import io.micronaut.inject.qualifiers.Qualifiers;
import io.micronaut.management.health.indicator.HealthResult;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;

class PredictorHealthTest {

  private static final AuditInfo OPS = AuditInfo.by("ops", "health test");

  @TempDir Path dir;

  @Test
  void healthFollowsASwapGapALoadFailureAndTheRecovery() throws Exception {
    Path models = TestRegistry.create(dir);
    try (ApplicationContext ctx =
        ApplicationContext.run(
            Map.of(
                "mlops.registry.url", models.toString(),
                "mlops.predictors.main.model", "models:/cancer@production",
                "mlops.predictors.main.output", "probabilities",
                "mlops.predictors.big.model", "models:/cancer@production",
                "mlops.predictors.big.output", "probabilities",
                "mlops.predictors.big.swap-mode", "resource-preserving",
                "mlops.predictors.big.session.intra-op-threads", "2",
                "test.gated-engine", "true"))) {
      GovernedRegistry registry = ctx.getBean(GovernedRegistry.class);
      @SuppressWarnings("unchecked")
      Predictor<float[], float[]> main = ctx.getBean(Predictor.class, Qualifiers.byName("main"));
      @SuppressWarnings("unchecked")
      Predictor<float[], float[]> big = ctx.getBean(Predictor.class, Qualifiers.byName("big"));
      float[] row = TestModels.breastCancerTestSet().features()[0];

      // Loaded and warm.
      assertThat(health(ctx, "main")).isEqualTo(new Health("UP", 1, 1));
      assertThat(health(ctx, "big")).isEqualTo(new Health("UP", 1, 1));

      // Production moves to v2. big (resource-preserving, with session options of its own, so
      // that it loads v2 itself) unloads v1 first; the engine holds that load, and for as long as
      // it lasts big has no version: out of service, not down.
      UserBeans.GatedEngine engine = ctx.getBean(UserBeans.GatedEngine.class);
      engine.armed.set(true);
      registry.setAlias("cancer", "production", 2, OPS);
      assertThat(engine.entered.await(15, TimeUnit.SECONDS)).isTrue();
      await(() -> main.servingVersion().map(v -> v.version() == 2).orElse(false), "main on v2");
      assertThat(big.servingVersion()).isEmpty();
      assertThat(health(ctx, "big"))
          .as("%s", details(result(ctx, "big")))
          .isEqualTo(new Health("OUT_OF_SERVICE", 0, 2));
      assertThat(health(ctx, "main")).isEqualTo(new Health("UP", 2, 2));
      HealthResult gap = result(ctx, "big");
      assertThat(gap.getName()).isEqualTo("mlops-big");
      assertThat(gap.getStatus().getOperational()).contains(false);

      engine.gate.countDown();
      await(() -> big.servingVersion().map(v -> v.version() == 2).orElse(false), "big on v2");
      assertThat(health(ctx, "big")).isEqualTo(new Health("UP", 2, 2));

      // v3's stored file changes behind the registry's back and production is forced onto it:
      // neither predictor can load it, both keep serving v2, and both report the failure.
      ModelVersion v3 =
          registry.register(
              Registration.builder(
                      "cancer",
                      ArtifactSource.file(
                          TestModels.copy(TestModels.BREAST_CANCER_FLAKY, dir.resolve("v3"))))
                  .build(),
              OPS);
      TestRegistry.tamper(registry, v3);
      registry.forceAlias("cancer", "production", 3, OPS);
      // big unloads v2 for v3 and, when v3 fails, loads v2 again: down all along.
      await(() -> health(ctx, "main").status().equals("DOWN"), "main to report DOWN");
      await(
          () -> health(ctx, "big").equals(new Health("DOWN", 2, 3)), "big to serve v2 again, DOWN");
      assertThat(health(ctx, "main")).isEqualTo(new Health("DOWN", 2, 3));
      assertThat(health(ctx, "big")).isEqualTo(new Health("DOWN", 2, 3));
      assertThat(String.valueOf(details(result(ctx, "main")).get("failure")))
          .startsWith("version 3 failed to load: ")
          .contains("expected sha256 " + v3.files().get(0).sha256());
      assertThat(main.predict(row).version()).isEqualTo(2);
      assertThat(big.predict(row).version()).isEqualTo(2);

      // Back to v2: the version they serve is the target again.
      registry.forceAlias("cancer", "production", 2, OPS);
      await(() -> health(ctx, "main").status().equals("UP"), "main to report UP");
      assertThat(health(ctx, "main")).isEqualTo(new Health("UP", 2, 2));
      assertThat(health(ctx, "big")).isEqualTo(new Health("UP", 2, 2));
    }
  }

  @Test
  void theRegistryIndicatorSaysADirectoryHasNoFeed() {
    Path models = TestRegistry.create(dir);
    try (ApplicationContext ctx =
        ApplicationContext.run(Map.of("mlops.registry.url", models.toString()))) {
      HealthResult r = first(ctx.getBean(RegistryFeedHealthIndicator.class).getResult());
      assertThat(r.getName()).isEqualTo("mlops-registry");
      assertThat(r.getStatus()).isEqualTo(HealthStatus.UP);
      assertThat(details(r)).containsEntry("feed", "none");
    }
  }

  /** What a health check says of one predictor. */
  record Health(String status, long servingVersion, long targetVersion) {}

  static Health health(ApplicationContext ctx, String name) {
    HealthResult r = result(ctx, name);
    Map<String, Object> d = details(r);
    return new Health(
        r.getStatus().getName(),
        ((Number) d.get("servingVersion")).longValue(),
        ((Number) d.get("targetVersion")).longValue());
  }

  static HealthResult result(ApplicationContext ctx, String name) {
    PredictorHealthIndicator indicator =
        ctx.getBean(PredictorHealthIndicator.class, Qualifiers.byName(name));
    return first(indicator.getResult());
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> details(HealthResult r) {
    return (Map<String, Object>) r.getDetails();
  }

  static <T> T first(org.reactivestreams.Publisher<T> publisher) {
    CompletableFuture<T> out = new CompletableFuture<>();
    publisher.subscribe(
        new Subscriber<T>() {
          @Override
          public void onSubscribe(Subscription s) {
            s.request(1);
          }

          @Override
          public void onNext(T t) {
            out.complete(t);
          }

          @Override
          public void onError(Throwable t) {
            out.completeExceptionally(t);
          }

          @Override
          public void onComplete() {
            out.completeExceptionally(new IllegalStateException("no result"));
          }
        });
    return out.join();
  }

  static void await(BooleanSupplier condition, String what) {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > end) {
        throw new AssertionError("waited 15 s for " + what);
      }
      try {
        Thread.sleep(5);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }
}
