package dev.mlops.benchmarks;

import ai.djl.MalformedModelException;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.onnxruntime.engine.OrtNDManager;
import ai.djl.onnxruntime.engine.OrtSymbolBlock;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ModelNotFoundException;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.translate.NoBatchifyTranslator;
import ai.djl.translate.TranslatorContext;
import ai.onnxruntime.OrtSession;
import java.io.IOException;
import java.nio.file.Path;

/**
 * DJL's ONNX Runtime engine, the nearest rival, set up like the mlops engine: one intra-op and one
 * inter-op thread, {@code ALL_OPT}, the same ONNX Runtime jar (the benchmark POM excludes DJL's
 * own).
 *
 * <p>DJL creates the process-wide {@code OrtEnvironment} itself, with its own name and threading
 * options, and fails if one exists already; {@link #start()} must therefore run before anything
 * else touches ONNX Runtime in the JVM. Every other party ({@code OnnxRuntimeEngine}, raw ORT) only
 * calls {@code OrtEnvironment.getEnvironment()}, which returns DJL's. Sessions still use their own
 * per-session thread settings, so the three paths run alike.
 */
final class DjlOnnx {

  static final String ENGINE = "OnnxRuntime";

  private DjlOnnx() {}

  /** Starts DJL's ONNX Runtime engine; call it first in the JVM. */
  static Engine start() {
    try {
      return Engine.getEngine(ENGINE);
    } catch (RuntimeException | Error e) {
      throw new IllegalStateException(
          "DJL's OnnxRuntime engine did not start: expected to create the process-wide OrtEnvironment"
              + " but another library made it first; start DJL before any ONNX Runtime call ("
              + e
              + ")",
          e);
    }
  }

  /** Loads {@code file} as a DJL model serving {@code float[]} rows; the caller closes it. */
  static ZooModel<float[], float[]> load(Path file) throws IOException {
    Criteria<float[], float[]> criteria =
        Criteria.builder()
            .setTypes(float[].class, float[].class)
            .optEngine(ENGINE)
            .optModelPath(file)
            .optTranslator(new RowTranslator())
            .optOption("interOpNumThreads", "1")
            .optOption("intraOpNumThreads", "1")
            .optOption("optLevel", "ALL_OPT")
            .build();
    try {
      return criteria.loadModel();
    } catch (ModelNotFoundException | MalformedModelException e) {
      throw new IOException("DJL cannot load " + file + ": " + e.getMessage(), e);
    }
  }

  /**
   * A DJL model over a session that someone else owns, for a predictor made with {@code
   * model.newPredictor(new RowTranslator())}: the block is the {@link OrtSymbolBlock} that DJL's
   * own {@code OrtModel.load} makes (same constructor, same manager), only over {@code session}
   * instead of one DJL opened. Closing the model leaves {@code session} open; the caller closes the
   * model.
   */
  static Model borrow(OrtSession session) {
    Model model = Model.newInstance("borrowed", ENGINE);
    NDManager manager = model.getNDManager();
    if (!(manager instanceof OrtNDManager)) {
      model.close();
      throw new IllegalStateException(
          "expected DJL's "
              + ENGINE
              + " model to have an OrtNDManager but it has a "
              + manager.getClass().getName()
              + "; DJL's engine internals changed: update DjlOnnx.borrow");
    }
    model.setBlock(new BorrowedBlock(session, (OrtNDManager) manager));
    return model;
  }

  /**
   * DJL's block over a session it does not own. {@link OrtSymbolBlock} attaches itself to the
   * model's manager and closes its session when that manager closes; this one leaves it open.
   */
  private static final class BorrowedBlock extends OrtSymbolBlock {

    BorrowedBlock(OrtSession session, OrtNDManager manager) {
      super(session, manager);
    }

    @Override
    public void close() {
      // The session belongs to the party that lent it.
    }
  }

  /**
   * The least a DJL user writes for a feature row: an NDArray of shape {@code [1, n]} in, the first
   * float32 output out (what {@code Codecs.floatRow()} decodes on the mlops side).
   */
  static final class RowTranslator implements NoBatchifyTranslator<float[], float[]> {

    @Override
    public NDList processInput(TranslatorContext ctx, float[] row) {
      return new NDList(ctx.getNDManager().create(row, new Shape(1, row.length)));
    }

    @Override
    public float[] processOutput(TranslatorContext ctx, NDList outputs) {
      for (NDArray output : outputs) {
        if (output.getDataType() == DataType.FLOAT32) {
          return output.toFloatArray();
        }
      }
      throw new IllegalStateException("the model returned no float32 output: " + outputs);
    }
  }
}
