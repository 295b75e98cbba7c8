package dev.mlops.benchmarks;

import ai.onnxruntime.OrtSession;
import dev.mlops.api.Predictor;
import java.lang.reflect.Field;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The native {@link OrtSession} behind an mlops predictor, so that other paths can run on the very
 * same session and differ from mlops only in their Java code. The runtime does not expose its
 * session, so this reads private fields by reflection: {@code DefaultPredictor.binding} (what
 * follows the predictor's reference), {@code Binding.current} (the serving {@code SessionHandle}),
 * {@code SessionHandle.session} (the {@code ModelSession}), and {@code OnnxSession.session} (the
 * {@code OrtSession}). If the runtime's internals change, {@link #of} fails with a message naming
 * the field it expected; update the names here.
 *
 * <p>The session stays the runtime's: never close it. It is valid while the predictor is open,
 * which is why only a predictor pinned to a version is accepted (one that follows an alias or
 * {@code latest} may swap and close the session under the caller). ONNX Runtime sessions are
 * thread-safe, so running it beside the predictor is fine.
 */
final class SharedSession {

  static final String PREDICTOR_CLASS = "dev.mlops.runtime.DefaultPredictor";
  static final String BINDING_CLASS = "dev.mlops.runtime.Binding";
  static final String HANDLE_CLASS = "dev.mlops.runtime.SessionHandle";
  static final String MODEL_SESSION_CLASS = "dev.mlops.runtime.onnx.OnnxSession";

  private SharedSession() {}

  /** The session {@code predictor} runs on now; the runtime owns it. */
  static OrtSession of(Predictor<?, ?> predictor) {
    if (predictor.target().version().isEmpty()) {
      throw new IllegalArgumentException(
          "expected a predictor pinned to a version (models:/name/N) but it follows "
              + predictor.target()
              + ", whose next swap would close the extracted session; build the predictor on a version");
    }
    Object binding = field(predictor, PREDICTOR_CLASS, "binding");
    Object current = field(binding, BINDING_CLASS, "current");
    if (!(current instanceof AtomicReference)) {
      throw layoutChanged(BINDING_CLASS, "current", "an AtomicReference<SessionHandle>", current);
    }
    Object handle = ((AtomicReference<?>) current).get();
    if (handle == null) {
      throw new IllegalStateException(
          "the predictor for "
              + predictor.target()
              + " serves no session: it is closed; extract the session"
              + " from an open predictor");
    }
    Object modelSession = field(handle, HANDLE_CLASS, "session");
    Object session = field(modelSession, MODEL_SESSION_CLASS, "session");
    if (!(session instanceof OrtSession)) {
      throw layoutChanged(MODEL_SESSION_CLASS, "session", "an ai.onnxruntime.OrtSession", session);
    }
    return (OrtSession) session;
  }

  /**
   * The value of the declared field {@code name} of {@code owner}, an instance of {@code
   * className}.
   */
  static Object field(Object owner, String className, String name) {
    Class<?> type = owner.getClass();
    if (!type.getName().equals(className)) {
      throw new IllegalStateException(
          "expected a "
              + className
              + " holding field '"
              + name
              + "' but found a "
              + type.getName()
              + "; the mlops runtime's internals changed: update SharedSession");
    }
    Field f;
    try {
      f = type.getDeclaredField(name);
    } catch (NoSuchFieldException e) {
      throw new IllegalStateException(
          "expected field '"
              + name
              + "' in "
              + className
              + " but it has "
              + Arrays.toString(
                  Arrays.stream(type.getDeclaredFields()).map(Field::getName).toArray())
              + "; the mlops runtime's internals changed: update SharedSession",
          e);
    }
    try {
      f.setAccessible(true);
      return f.get(owner);
    } catch (ReflectiveOperationException | RuntimeException e) {
      throw new IllegalStateException(
          "cannot read field '"
              + name
              + "' of "
              + className
              + ": "
              + e
              + "; run the benchmarks from the class path (the shaded jar), where the runtime's package is open",
          e);
    }
  }

  private static IllegalStateException layoutChanged(
      String className, String name, String expected, Object found) {
    return new IllegalStateException(
        "expected field '"
            + name
            + "' of "
            + className
            + " to hold "
            + expected
            + " but found "
            + (found == null ? "null" : "a " + found.getClass().getName())
            + "; the mlops runtime's internals changed: update SharedSession");
  }
}
