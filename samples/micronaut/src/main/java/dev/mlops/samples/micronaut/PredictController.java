package dev.mlops.samples.micronaut;

import dev.mlops.api.InvalidInputException;
import dev.mlops.api.Prediction;
import dev.mlops.api.Predictor;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Error;
import io.micronaut.http.annotation.Post;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import jakarta.inject.Named;
import java.util.Map;

/** {@code POST /predict}: 30 features in, the class probabilities and the version out. */
@Controller("/predict")
public class PredictController {

  /** The request: one row of 30 features. */
  public record PredictRequest(float[] features) {}

  /** The answer: the probabilities of benign and malignant, and the version that answered. */
  public record PredictResponse(float[] probabilities, int label, long version) {}

  private final Predictor<float[], float[]> cancer;

  PredictController(@Named("cancer") Predictor<float[], float[]> cancer) {
    this.cancer = cancer;
  }

  /** Predicts one row. */
  @Post
  @ExecuteOn(TaskExecutors.BLOCKING)
  public PredictResponse predict(@Body PredictRequest request) {
    Prediction<float[]> p = cancer.predict(request.features());
    float[] probabilities = p.value();
    return new PredictResponse(
        probabilities, probabilities[1] > probabilities[0] ? 1 : 0, p.version());
  }

  /** A row of the wrong shape is the caller's error. */
  @Error(exception = InvalidInputException.class)
  public HttpResponse<Map<String, String>> invalid(InvalidInputException e) {
    return HttpResponse.<Map<String, String>>status(HttpStatus.BAD_REQUEST)
        .body(Map.of("error", e.getMessage()));
  }
}
