package dev.mlops.micronaut;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mlops.runtime.Mlops;
import io.micronaut.context.ApplicationContext;
import io.micronaut.runtime.server.EmbeddedServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ShutdownTest {

  @TempDir Path dir;

  private void requestInFlightCompletesBeforeTheRuntimeCloses(boolean graceful) throws Exception {
    Map<String, Object> p = new HashMap<>();
    p.put("micronaut.server.port", "-1");
    p.put("mlops.registry.url", TestRegistry.create(dir).toString());
    p.put("mlops.predictors.tiny.model", "models:/tiny/1");
    p.put("test.slow-controller", "true");
    if (graceful) {
      p.put("micronaut.lifecycle.graceful-shutdown.enabled", "true");
    }
    SlowController.entered = new CountDownLatch(1);
    EmbeddedServer server = ApplicationContext.run(EmbeddedServer.class, p);
    Mlops mlops = server.getApplicationContext().getBean(Mlops.class);
    CompletableFuture<HttpResponse<String>> inFlight =
        HttpClient.newHttpClient()
            .sendAsync(
                HttpRequest.newBuilder(URI.create(server.getURL() + "/slow")).build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(SlowController.entered.await(10, TimeUnit.SECONDS)).isTrue();
    server.getApplicationContext().close();
    HttpResponse<String> r = inFlight.get(10, TimeUnit.SECONDS);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("1,1");
    assertThat(mlops.state().open()).isFalse();
    assertThat(mlops.sessionStats().opened()).isEqualTo(mlops.sessionStats().closed());
  }

  @Test
  void aRequestInFlightAtShutdownGetsItsAnswerThenTheRuntimeCloses() throws Exception {
    requestInFlightCompletesBeforeTheRuntimeCloses(false);
  }

  @Test
  void theSameWithMicronautsGracefulShutdown() throws Exception {
    requestInFlightCompletesBeforeTheRuntimeCloses(true);
  }
}
