package dev.mlops.micronaut;

import dev.mlops.runtime.Mlops;
import io.micronaut.context.BeanContext;
import io.micronaut.context.BeanRegistration;
import io.micronaut.context.event.BeanPreDestroyEvent;
import io.micronaut.context.event.BeanPreDestroyEventListener;
import io.micronaut.runtime.EmbeddedApplication;
import io.micronaut.runtime.graceful.GracefulShutdownCapable;
import jakarta.inject.Singleton;
import java.time.Duration;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Closes the runtime when the context destroys it, and only after the HTTP server has stopped
 * accepting requests and finished those in flight: each running server that supports graceful
 * shutdown (Netty's does) is shut down gracefully first, up to {@code mlops.drain-timeout}; then
 * {@link Mlops#close()} closes the predictors and waits for their calls in flight; then the
 * resources the factory opened for it (a registry on the application's DataSource) close.
 *
 * <p>With {@code micronaut.lifecycle.graceful-shutdown.enabled=true} Micronaut drains the server on
 * its {@code ShutdownEvent}, before any bean is destroyed, and this finds it stopped.
 */
@Singleton
final class MlopsShutdown implements BeanPreDestroyEventListener<Mlops> {

  private static final Logger LOG = LoggerFactory.getLogger(MlopsShutdown.class);

  private final BeanContext context;
  private final Duration drainTimeout;
  private final Map<Mlops, AutoCloseable> owned = new IdentityHashMap<>();

  MlopsShutdown(BeanContext context, MlopsProperties properties) {
    this.context = context;
    this.drainTimeout = properties.drainTimeout();
  }

  /** Closes {@code resource} after {@code mlops}. */
  synchronized void own(Mlops mlops, AutoCloseable resource) {
    owned.put(mlops, resource);
  }

  @Override
  @SuppressWarnings("rawtypes")
  public Mlops onPreDestroy(BeanPreDestroyEvent<Mlops> event) {
    for (BeanRegistration<EmbeddedApplication> r :
        context.getActiveBeanRegistrations(EmbeddedApplication.class)) {
      EmbeddedApplication<?> app = r.bean();
      if (app.isServer() && app.isRunning() && app instanceof GracefulShutdownCapable g) {
        drain(app, g);
      }
    }
    Mlops mlops = event.getBean();
    mlops.close();
    AutoCloseable resource;
    synchronized (this) {
      resource = owned.remove(mlops);
    }
    MlopsFactory.closeQuietly(resource);
    return mlops;
  }

  private void drain(EmbeddedApplication<?> app, GracefulShutdownCapable server) {
    long start = System.nanoTime();
    try {
      server
          .shutdownGracefully()
          .toCompletableFuture()
          .get(drainTimeout.toNanos(), TimeUnit.NANOSECONDS);
      LOG.info(
          "the HTTP server stopped accepting requests and drained in {} ms; closing mlops",
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
    } catch (TimeoutException e) {
      LOG.warn(
          "the HTTP server still had requests in flight {} after its shutdown began; closing mlops",
          drainTimeout);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException e) {
      LOG.warn("the graceful shutdown of {} failed: {}", app, e.getCause().toString());
    }
  }
}
