package dev.mlops.runtime.onnx;

import ai.onnxruntime.OrtEnvironment;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.UnaryOperator;

/**
 * Records the telemetry calls an engine makes on ONNX Runtime's environment, and still makes them:
 * each call goes on to {@link OrtEnvironment#setTelemetry}, so the engine under test runs as in
 * production. For tests outside this package.
 */
public final class TelemetryCalls {

  private final List<Boolean> calls = new CopyOnWriteArrayList<>();
  private final List<OrtEnvironment> environments = new CopyOnWriteArrayList<>();

  /**
   * Builds an engine from {@code OnnxRuntimeEngine.builder()} as {@code configure} sets it up,
   * recording its telemetry calls here.
   */
  public OnnxRuntimeEngine build(UnaryOperator<OnnxRuntimeEngine.Builder> configure) {
    return configure
        .apply(OnnxRuntimeEngine.builder())
        .telemetrySwitch(
            (env, on) -> {
              calls.add(on);
              environments.add(env);
              env.setTelemetry(on);
            })
        .build();
  }

  /** Each call's argument: {@code false} for "turn it off". */
  public List<Boolean> calls() {
    return List.copyOf(calls);
  }

  /** The environments the calls were made on. */
  public List<OrtEnvironment> environments() {
    return List.copyOf(environments);
  }
}
