package dev.mlops.spring.boot;

import dev.mlops.api.CallOptions;
import dev.mlops.api.ModelRef;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.Prediction;
import dev.mlops.api.Predictor;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/** An unbatched predictor whose calls without a deadline get {@code .deadline}. */
final class DeadlinePredictor<I, O> implements Predictor<I, O> {

  private final Predictor<I, O> delegate;
  private final Duration deadline;

  DeadlinePredictor(Predictor<I, O> delegate, Duration deadline) {
    this.delegate = delegate;
    this.deadline = deadline;
  }

  private CallOptions withDeadline(CallOptions options) {
    return options.deadline().isPresent() ? options : options.deadline(deadline);
  }

  @Override
  public ModelRef target() {
    return delegate.target();
  }

  @Override
  public Optional<ModelVersion> servingVersion() {
    return delegate.servingVersion();
  }

  @Override
  public Prediction<O> predict(I input) {
    return delegate.predict(input, deadline);
  }

  @Override
  public Prediction<O> predict(I input, Duration timeout) {
    return delegate.predict(input, timeout);
  }

  @Override
  public Prediction<O> predict(I input, CallOptions options) {
    return delegate.predict(input, withDeadline(options));
  }

  @Override
  public List<Prediction<O>> predictAll(List<? extends I> inputs) {
    return delegate.predictAll(inputs);
  }

  @Override
  public CompletableFuture<Prediction<O>> predictAsync(I input) {
    return delegate.predictAsync(input, CallOptions.NONE.deadline(deadline));
  }

  @Override
  public CompletableFuture<Prediction<O>> predictAsync(I input, CallOptions options) {
    return delegate.predictAsync(input, withDeadline(options));
  }

  @Override
  public void close() {
    delegate.close();
  }

  @Override
  public String toString() {
    return delegate + " (deadline " + deadline + ")";
  }
}
