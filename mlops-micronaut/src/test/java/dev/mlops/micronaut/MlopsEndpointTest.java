package dev.mlops.micronaut;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlops.api.AuditEntry;
import dev.mlops.runtime.registry.GovernedRegistry;
import io.micronaut.context.ApplicationContext;
import io.micronaut.runtime.server.EmbeddedServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MlopsEndpointTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  @TempDir Path dir;

  private Map<String, Object> properties() {
    Map<String, Object> p = new HashMap<>();
    p.put("micronaut.server.port", "-1");
    p.put("endpoints.health.details-visible", "ANONYMOUS");
    p.put("mlops.registry.url", TestRegistry.create(dir).toString());
    p.put("mlops.predictors.cancer.model", "models:/cancer@production");
    p.put("mlops.predictors.cancer.output", "probabilities");
    return p;
  }

  record Response(int status, JsonNode body) {}

  static Response send(EmbeddedServer server, String method, String path, String body, String user)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(server.getURL() + path))
            .header("Content-Type", "application/json")
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
    if (user != null) {
      b.header("X-User", user);
    }
    HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    JsonNode json = r.body().isEmpty() ? JSON.nullNode() : JSON.readTree(r.body());
    return new Response(r.statusCode(), json);
  }

  @Test
  void readsListModelsAliasesAndPredictorsAndWritesAreOffByDefault() throws Exception {
    Map<String, Object> p = properties();
    p.put("mlops.shadow-capacity", "32");
    p.put("mlops.shadow-deadline", "250ms");
    try (EmbeddedServer server = ApplicationContext.run(EmbeddedServer.class, p)) {
      Response all = send(server, "GET", "/mlops", null, null);
      assertThat(all.status()).isEqualTo(200);
      assertThat(all.body().get("writesEnabled").asBoolean()).isFalse();
      JsonNode shadow = all.body().get("runtime").get("shadow");
      assertThat(shadow.get("capacity").asInt()).isEqualTo(32);
      assertThat(shadow.get("deadline").asText()).isEqualTo("PT0.25S");
      assertThat(shadow.get("mirrored").asLong()).isZero();
      assertThat(shadow.get("inFlight").asInt()).isZero();
      JsonNode models = all.body().get("models");
      assertThat(models.findValuesAsText("name")).containsExactlyInAnyOrder("cancer", "tiny");
      JsonNode cancer = model(models, "cancer");
      assertThat(cancer.get("versions").findValues("version"))
          .extracting(JsonNode::asLong)
          .containsExactly(1L, 2L);
      assertThat(cancer.get("aliases").get("production").asLong()).isEqualTo(1);
      assertThat(cancer.path("rollouts")).isEmpty(); // empty lists are left out of the JSON
      JsonNode predictor = all.body().get("predictors").get("cancer");
      assertThat(predictor.get("status").asText()).isEqualTo("UP");
      assertThat(predictor.get("model").asText()).isEqualTo("models:/cancer@production");
      assertThat(predictor.get("servingVersion").asLong()).isEqualTo(1);

      assertThat(send(server, "GET", "/mlops/cancer", null, null).body().get("name").asText())
          .isEqualTo("cancer");
      assertThat(send(server, "GET", "/mlops/nothing", null, null).status()).isEqualTo(404);

      Response refused = send(server, "POST", "/mlops/cancer/production", "{\"version\":2}", "eve");
      assertThat(refused.status()).isEqualTo(403);
      assertThat(refused.body().toString()).contains("mlops.endpoint.writes-enabled=true");
      assertThat(send(server, "DELETE", "/mlops/cancer/production", null, "eve").status())
          .isEqualTo(403);
      GovernedRegistry registry = server.getApplicationContext().getBean(GovernedRegistry.class);
      assertThat(registry.aliases("cancer")).containsEntry("production", 1L);

      Response health = send(server, "GET", "/health", null, null);
      assertThat(health.status()).isEqualTo(200);
      assertThat(health.body().get("details").get("mlops-cancer").get("status").asText())
          .isEqualTo("UP");
    }
  }

  @Test
  void writesWhenEnabledAreAuditedWithThePrincipal() throws Exception {
    Map<String, Object> p = properties();
    p.put("mlops.endpoint.writes-enabled", "true");
    p.put("test.principal-filter", "true");
    try (EmbeddedServer server = ApplicationContext.run(EmbeddedServer.class, p)) {
      GovernedRegistry registry = server.getApplicationContext().getBean(GovernedRegistry.class);

      Response moved =
          send(
              server,
              "POST",
              "/mlops/cancer/production",
              "{\"version\":2,\"reason\":\"v2 is more accurate\"}",
              "alice");
      assertThat(moved.status()).isEqualTo(200);
      assertThat(moved.body().get("fromVersion").asLong()).isEqualTo(1);
      assertThat(moved.body().get("actor").asText()).isEqualTo("alice");
      assertThat(registry.aliases("cancer")).containsEntry("production", 2L);
      AuditEntry move = last(registry.auditLog());
      assertThat(move.actor()).isEqualTo("alice");
      assertThat(move.reason()).isEqualTo("v2 is more accurate");

      Response started =
          send(
              server,
              "POST",
              "/mlops/cancer/production",
              "{\"candidate\":1,\"weightPercent\":10}",
              "bob");
      assertThat(started.status()).isEqualTo(200);
      JsonNode rollouts =
          model(send(server, "GET", "/mlops", null, null).body().get("models"), "cancer")
              .get("rollouts");
      assertThat(rollouts).hasSize(1);
      assertThat(rollouts.get(0).get("candidate").asLong()).isEqualTo(1);
      assertThat(rollouts.get(0).get("stable").asLong()).isEqualTo(2);
      assertThat(rollouts.get(0).get("weightPercent").asDouble()).isEqualTo(10.0);

      Response aborted = send(server, "DELETE", "/mlops/cancer/production", null, "carol");
      assertThat(aborted.status()).isEqualTo(200);
      assertThat(aborted.body().get("rollout").get("state").asText()).isEqualTo("ABORTED");
      assertThat(last(registry.auditLog()).actor()).isEqualTo("carol");

      Response anonymous =
          send(server, "POST", "/mlops/cancer/production", "{\"version\":1}", null);
      assertThat(anonymous.status()).isEqualTo(200);
      assertThat(last(registry.auditLog()).actor()).isEqualTo("anonymous");

      Response both =
          send(server, "POST", "/mlops/cancer/production", "{\"version\":1,\"candidate\":2}", "a");
      assertThat(both.status()).isEqualTo(400);
      Response missing = send(server, "POST", "/mlops/cancer/production", "{\"version\":9}", "a");
      assertThat(missing.status()).isEqualTo(404);
    }
  }

  private static AuditEntry last(List<AuditEntry> log) {
    return log.get(log.size() - 1);
  }

  private static JsonNode model(JsonNode models, String name) {
    for (JsonNode m : models) {
      if (m.get("name").asText().equals(name)) {
        return m;
      }
    }
    throw new AssertionError("no model " + name + " in " + models);
  }
}
