package dev.mlops.benchmarks;

import ai.djl.Model;
import ai.djl.translate.TranslateException;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.mlops.api.Predictor;

/**
 * {@link PredictBenchmark}'s five paths on one native session, the mlops predictor's own ({@link
 * SharedSession}), so the compute is identical by construction and only each path's Java code
 * differs. With a session each, where a session's weights land in memory moves the {@code wide}
 * model's time by several percent, far more than the paths' code costs.
 *
 * <ul>
 *   <li>{@link #mlopsPredict}: {@code predictor.predict(row)}, as in {@link PredictBenchmark}.
 *   <li>{@link #rawOrtNaive}: the heap array wrapped, every output run, {@code getValue()}.
 *   <li>{@link #rawOrtReusedBuffer}: one direct buffer refilled per call, only the float output
 *       requested, copied into a pre-allocated array.
 *   <li>{@link #rawOrtLimit}: pinned input and output tensors, the limit ({@link RawOrt#limit}).
 *   <li>{@link #djlPredict}: a DJL predictor with {@link DjlOnnx.RowTranslator} over a model whose
 *       block is DJL's own {@code OrtSymbolBlock} on the shared session ({@link DjlOnnx#borrow}).
 * </ul>
 *
 * <p>Each path cycles through the model's rows with a cursor of its own. Not thread-safe. {@link
 * #close()} closes the DJL predictor and model, never the session; the predictor stays the caller's
 * and must stay open while this is used.
 */
final class SharedSessionPaths implements AutoCloseable {

  /** Prefix of the paths' names in {@link InterleavedPredict}'s output. */
  static final String PREFIX = "shared:";

  /** The paths' names, in the order of {@link #calls()}; mlops first. */
  static final String[] NAMES = {
    PREFIX + "mlopsPredict",
    PREFIX + "rawOrtNaive",
    PREFIX + "rawOrtReusedBuffer",
    PREFIX + "rawOrtLimit",
    PREFIX + "djlPredict"
  };

  private final Predictor<float[], float[]> predictor;
  private final float[][] rows;
  private final RawOrt raw;
  private final Model djlModel;
  private final ai.djl.inference.Predictor<float[], float[]> djlPredictor;
  private int mlopsNext;
  private int naiveNext;
  private int reusedNext;
  private int limitNext;
  private int djlNext;

  /**
   * The paths on {@code predictor}'s session, checked to compute identical outputs on every row.
   *
   * @param predictor an open predictor pinned to a version of {@code model}, with {@code
   *     Codecs.floatRow()}
   */
  SharedSessionPaths(Predictor<float[], float[]> predictor, BenchModel model) throws OrtException {
    this.predictor = predictor;
    OrtSession session = SharedSession.of(predictor);
    this.rows = model.rows();
    this.raw = new RawOrt(session, model, rows[0].length);
    Model borrowed = null;
    ai.djl.inference.Predictor<float[], float[]> p;
    try {
      borrowed = DjlOnnx.borrow(session);
      p = borrowed.newPredictor(new DjlOnnx.RowTranslator());
    } catch (RuntimeException e) {
      if (borrowed != null) {
        borrowed.close();
      }
      raw.close();
      throw e;
    }
    this.djlModel = borrowed;
    this.djlPredictor = p;
    try {
      checkPathsAgree(model);
    } catch (RuntimeException | OrtException e) {
      close();
      throw e;
    }
  }

  /** The five paths, in the order of {@link #NAMES}. */
  InterleavedPredict.Call[] calls() {
    return new InterleavedPredict.Call[] {
      this::mlopsPredict,
      this::rawOrtNaive,
      this::rawOrtReusedBuffer,
      this::rawOrtLimit,
      this::djlPredict
    };
  }

  float[] mlopsPredict() {
    float[] row = rows[mlopsNext];
    mlopsNext = (mlopsNext + 1) & (BenchModel.ROWS - 1);
    return predictor.predict(row).value();
  }

  float[] rawOrtNaive() throws OrtException {
    float[] row = rows[naiveNext];
    naiveNext = (naiveNext + 1) & (BenchModel.ROWS - 1);
    return raw.naive(row);
  }

  float[] rawOrtReusedBuffer() throws OrtException {
    float[] row = rows[reusedNext];
    reusedNext = (reusedNext + 1) & (BenchModel.ROWS - 1);
    return raw.reusedBuffer(row);
  }

  float[] rawOrtLimit() throws OrtException {
    float[] row = rows[limitNext];
    limitNext = (limitNext + 1) & (BenchModel.ROWS - 1);
    return raw.limit(row);
  }

  float[] djlPredict() throws TranslateException {
    float[] row = rows[djlNext];
    djlNext = (djlNext + 1) & (BenchModel.ROWS - 1);
    return djlPredictor.predict(row);
  }

  /** A benchmark that compares paths computing different things measures nothing. */
  private void checkPathsAgree(BenchModel model) throws OrtException {
    for (int i = 0; i < BenchModel.ROWS; i++) {
      float[] viaMlops = mlopsPredict().clone();
      float[] naive = rawOrtNaive().clone();
      float[] reused = rawOrtReusedBuffer().clone();
      float[] pinned = rawOrtLimit().clone();
      float[] djl;
      try {
        djl = djlPredict().clone();
      } catch (TranslateException e) {
        throw new IllegalStateException(
            "DJL on the shared session failed on " + model.param + " row " + i + ": " + e, e);
      }
      PredictBenchmark.requireSameOutputs(
          "the shared session of " + model.param + " row " + i,
          "identical outputs from one session",
          NAMES,
          viaMlops,
          naive,
          reused,
          pinned,
          djl);
    }
  }

  /**
   * Closes the DJL predictor and model and the raw paths' pinned tensors; the session stays open,
   * the runtime's.
   */
  @Override
  public void close() {
    try {
      djlPredictor.close();
    } finally {
      try {
        djlModel.close();
      } finally {
        raw.close();
      }
    }
  }
}
