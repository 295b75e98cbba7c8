package dev.mlops.runtime.testing;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.mlops.api.ElementType;
import dev.mlops.api.Tensor;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The small graphs of {@code src/test/resources/graphs/} (made by {@code make_test_graphs.py}), and
 * raw ONNX Runtime runs of them that do not go through the library, to compare its outputs with.
 */
public final class Graphs {

  private Graphs() {}

  /** Copies {@code graphs/<file>} into {@code dir} and returns the copy. */
  public static Path copy(String file, Path dir) {
    try (InputStream in = Graphs.class.getResourceAsStream("/graphs/" + file)) {
      if (in == null) {
        throw new IllegalArgumentException("no test graph " + file);
      }
      Files.createDirectories(dir);
      Path target = dir.resolve(file);
      Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
      return target;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Runs a model file with plain ONNX Runtime on float32 and int64 inputs, returning every output
   * (float32 or int64) by name.
   */
  public static Map<String, Tensor> runRaw(Path model, Map<String, Tensor> inputs) {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    Map<String, OnnxTensor> natives = new HashMap<>();
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        OrtSession session = env.createSession(model.toString(), options)) {
      for (Map.Entry<String, Tensor> e : inputs.entrySet()) {
        Tensor t = e.getValue();
        natives.put(
            e.getKey(),
            t.type() == ElementType.FLOAT
                ? OnnxTensor.createTensor(env, FloatBuffer.wrap(t.floats()), t.shape())
                : OnnxTensor.createTensor(env, LongBuffer.wrap(t.longs()), t.shape()));
      }
      Map<String, Tensor> out = new LinkedHashMap<>();
      try (OrtSession.Result result = session.run(natives)) {
        for (Map.Entry<String, OnnxValue> e : result) {
          OnnxTensor t = (OnnxTensor) e.getValue();
          long[] shape = t.getInfo().getShape();
          switch (t.getInfo().type) {
            case FLOAT:
              {
                FloatBuffer b = t.getFloatBuffer();
                float[] data = new float[b.remaining()];
                b.get(data);
                out.put(e.getKey(), Tensor.ofFloats(data, shape));
                break;
              }
            case INT64:
              {
                LongBuffer b = t.getLongBuffer();
                long[] data = new long[b.remaining()];
                b.get(data);
                out.put(e.getKey(), Tensor.ofLongs(data, shape));
                break;
              }
            default:
              throw new IllegalArgumentException("output " + e.getKey() + " is " + t.getInfo());
          }
        }
      }
      return out;
    } catch (OrtException e) {
      throw new IllegalStateException(
          "raw ONNX Runtime failed on " + model + ": " + e.getMessage(), e);
    } finally {
      natives.values().forEach(OnnxTensor::close);
    }
  }
}
