package dev.mlops.runtime.onnx;

import dev.mlops.api.ArtifactLocation;
import dev.mlops.api.PredictionException;
import dev.mlops.api.SessionOptions;
import dev.mlops.api.Tensor;
import dev.mlops.api.spi.ModelSession;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;

/**
 * The child JVM of {@link NativeLogLevelIT}: {@code NativeLogChild <dir> <level|defaults>}. Opens
 * an old-opset model, whose load ONNX Runtime warns about, then runs {@code pad-reflect.onnx} on a
 * [1,1] input, which fails, once without and once with a deadline. Prints {@code LOADED} and one
 * {@code FAILED <message>} line per run to stdout; ONNX Runtime's lines go to stderr.
 */
public final class NativeLogChild {

  private NativeLogChild() {}

  /**
   * Runs the child.
   *
   * @param args the directory to write models to, and a {@link SessionOptions.LogLevel} name or
   *     {@code defaults} for {@link OnnxRuntimeEngine#open(ArtifactLocation)} without options
   */
  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    try (OnnxRuntimeEngine engine = new OnnxRuntimeEngine()) {
      // "defaults" takes the path without options, which must be the same as DEFAULTS.
      SessionOptions options =
          args[1].equals("defaults")
              ? null
              : SessionOptions.builder()
                  .nativeLogLevel(SessionOptions.LogLevel.valueOf(args[1]))
                  .build();
      Path old =
          OnnxModels.identity(OnnxModels.FLOAT)
              .withOpsetVersion(5)
              .writeTo(dir.resolve("opset5.onnx"));
      try (ModelSession s = open(engine, new ArtifactLocation(dir, old), options)) {
        System.out.println("LOADED " + s.signature());
      }
      ArtifactLocation pad = TestGraphs.artifact("pad-reflect", dir.resolve("pad"));
      Map<String, Tensor> in = Map.of("x", Tensor.ofFloats(new float[] {1f}, 1, 1));
      try (ModelSession s = open(engine, pad, options)) {
        for (Duration deadline : new Duration[] {null, Duration.ofMinutes(5)}) {
          try {
            s.run(in, Set.of("y"), deadline);
            System.out.println("RAN");
          } catch (PredictionException e) {
            System.out.println("FAILED " + e.getMessage());
          }
        }
      }
    }
    System.out.flush();
  }

  private static ModelSession open(
      OnnxRuntimeEngine engine, ArtifactLocation artifact, SessionOptions options) {
    return options == null ? engine.open(artifact) : engine.open(artifact, options);
  }
}
