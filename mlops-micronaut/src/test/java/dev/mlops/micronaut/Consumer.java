package dev.mlops.micronaut;

import dev.mlops.api.Predictor;
import jakarta.inject.Named;
import jakarta.inject.Singleton;

/** An application bean that injects two predictors by name, as a service would. */
@Singleton
class Consumer {

  final Predictor<float[], float[]> cancer;
  final Predictor<float[], float[]> tiny;

  Consumer(
      @Named("cancer") Predictor<float[], float[]> cancer,
      @Named("tiny") Predictor<float[], float[]> tiny) {
    this.cancer = cancer;
    this.tiny = tiny;
  }
}
