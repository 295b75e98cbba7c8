package dev.mlops.micronaut;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mlops.api.ArtifactSource;
import dev.mlops.api.Predictor;
import dev.mlops.api.Registration;
import dev.mlops.runtime.registry.GovernedRegistry;
import dev.mlops.test.PostgresServer;
import dev.mlops.testmodels.TestModels;
import io.micronaut.context.ApplicationContext;
import io.micronaut.health.HealthStatus;
import io.micronaut.inject.qualifiers.Qualifiers;
import io.micronaut.management.health.indicator.HealthResult;
import java.nio.file.Path;
import java.util.Map;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.ds.PGSimpleDataSource;

class FleetRegistryTest {

  @TempDir Path dir;

  @Test
  void postgresqlOnTheApplicationsDataSourceFollowsMovesMadeElsewhere() throws Exception {
    String url = PostgresServer.jdbcUrl(PostgresServer.newDatabase("fleet"));
    PGSimpleDataSource ds = new PGSimpleDataSource();
    ds.setURL(url);
    RegistryProperties elsewhere = new RegistryProperties();
    elsewhere.setCache(dir.resolve("pipeline-cache").toString());
    elsewhere.setListen(false);
    // A pipeline, another process in real life, registers and promotes.
    try (GovernedRegistry pipeline = PostgresRegistries.open(ds, elsewhere)) {
      for (String file : new String[] {TestModels.BREAST_CANCER_V1, TestModels.BREAST_CANCER_V2}) {
        Path copy = TestModels.copy(file, dir.resolve(file));
        pipeline.register(
            Registration.builder("cancer", ArtifactSource.file(copy)).build(), TestRegistry.CI);
      }
      pipeline.setAlias("cancer", "production", 1, TestRegistry.CI);

      try (ApplicationContext ctx =
          ApplicationContext.run(
              Map.of(
                  "mlops.registry.url",
                  "postgresql:",
                  "mlops.registry.cache",
                  dir.resolve("service-cache").toString(),
                  "mlops.predictors.cancer.model",
                  "models:/cancer@production",
                  "test.jdbc-url",
                  url))) {
        assertThat(ctx.getBean(DataSource.class)).isNotNull();
        @SuppressWarnings("unchecked")
        Predictor<float[], float[]> cancer =
            ctx.getBean(Predictor.class, Qualifiers.byName("cancer"));
        float[] row = TestModels.breastCancerTestSet().features()[0];
        assertThat(cancer.predict(row).version()).isEqualTo(1);

        RegistryFeedHealthIndicator feed = ctx.getBean(RegistryFeedHealthIndicator.class);
        PredictorHealthTest.await(
            () -> PredictorHealthTest.first(feed.getResult()).getStatus() == HealthStatus.UP,
            "the feed to connect");
        HealthResult r = PredictorHealthTest.first(feed.getResult());
        assertThat(PredictorHealthTest.details(r))
            .containsEntry("feed", "postgresql")
            .containsEntry("connected", true);

        pipeline.setAlias("cancer", "production", 2, TestRegistry.CI);
        PredictorHealthTest.await(
            () -> cancer.servingVersion().map(v -> v.version() == 2).orElse(false),
            "the service to follow the move");
        assertThat(cancer.predict(row).version()).isEqualTo(2);
        assertThat(PredictorHealthTest.health(ctx, "cancer"))
            .isEqualTo(new PredictorHealthTest.Health("UP", 2, 2));
      }
    }
  }
}
