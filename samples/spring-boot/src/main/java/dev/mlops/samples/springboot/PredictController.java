package dev.mlops.samples.springboot;

import dev.mlops.api.Prediction;
import dev.mlops.api.Predictor;
import java.util.Map;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code POST /predict}: {@code {"features":[30 numbers]}} in, the probabilities and version out.
 */
@RestController
record PredictController(@Qualifier("cancer") Predictor<float[], float[]> cancer) {

  @PostMapping("/predict")
  Map<String, Object> predict(@RequestBody Features in) {
    Prediction<float[]> p = cancer.predict(in.features());
    return Map.of("probabilities", p.value(), "version", p.version());
  }

  record Features(float[] features) {}
}
