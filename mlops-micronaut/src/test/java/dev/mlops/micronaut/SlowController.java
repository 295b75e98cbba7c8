package dev.mlops.micronaut;

import dev.mlops.api.Predictor;
import io.micronaut.context.annotation.Requires;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import jakarta.inject.Named;
import java.util.concurrent.CountDownLatch;

/** A request that predicts, waits, and predicts again: in flight for a while. */
@Controller("/slow")
@Requires(property = "test.slow-controller", value = "true")
class SlowController {

  static volatile CountDownLatch entered = new CountDownLatch(1);

  private final Predictor<float[], float[]> tiny;

  SlowController(@Named("tiny") Predictor<float[], float[]> tiny) {
    this.tiny = tiny;
  }

  @Get(produces = "text/plain")
  @ExecuteOn(TaskExecutors.BLOCKING)
  String slow() throws InterruptedException {
    long first = tiny.predict(new float[4]).version();
    entered.countDown();
    Thread.sleep(1500);
    long second = tiny.predict(new float[4]).version();
    return first + "," + second;
  }
}
