package dev.mlops.runtime.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * ONNX Runtime's own run entry point, called with arrays a pinned run keeps ({@link PinnedRuns}),
 * so that a call allocates nothing on the way into ONNX Runtime but the one small array the entry
 * point returns.
 *
 * <p>The Java binding's public {@code OrtSession.run} builds, on every call, arrays of the input
 * and output names and handles from the maps it is given, and a {@code Result} with a map and a
 * list of the outputs: about 440 bytes a call for one input and one output, more than the rest of a
 * prediction. Its private native method {@code run} takes those arrays directly: the API handle,
 * the session's and its allocator's handles, the names and native handles of the inputs, the names
 * of the outputs with, per output, either a pinned value and its handle (ONNX Runtime writes into
 * it) or null and 0 (ONNX Runtime allocates it, and the method puts a new value in the array), and
 * the run options' handle; it returns which outputs it allocated. The binding's public method does
 * exactly that after checking its maps, which a pinned run has checked when it was made.
 *
 * <p>Found through reflection on the class path's unnamed module (or an automatic module, which
 * opens its packages), as {@link NativeRuns} does for the environment. Should the binding change so
 * that a method or field is not there, or a run be refused with {@code
 * -Dmlops.onnx.directRun=false}, sessions take the public method with the same pinned tensors, and
 * the engine logs one INFO.
 */
final class DirectRun {

  private static final Logger LOG = LoggerFactory.getLogger(DirectRun.class);

  /** The system property that, set to {@code false}, makes new sessions take the public method. */
  static final String PROPERTY = "mlops.onnx.directRun";

  private static final MethodHandle RUN;
  private static final MethodHandle SESSION_HANDLE;
  private static final MethodHandle SESSION_ALLOCATOR;
  private static final MethodHandle ALLOCATOR_HANDLE;
  private static final MethodHandle OPTIONS_HANDLE;
  private static final MethodHandle TENSOR_HANDLE;
  private static final long API;

  /** Why the entry point is not used; null when it is found. */
  private static final String MISSING;

  static {
    MethodHandle run = null;
    MethodHandle sessionHandle = null;
    MethodHandle sessionAllocator = null;
    MethodHandle allocatorHandle = null;
    MethodHandle optionsHandle = null;
    MethodHandle tensorHandle = null;
    long api = 0;
    String missing = null;
    try {
      MethodHandles.Lookup session =
          MethodHandles.privateLookupIn(OrtSession.class, MethodHandles.lookup());
      run =
          session.findVirtual(
              OrtSession.class,
              "run",
              MethodType.methodType(
                  boolean[].class,
                  long.class,
                  long.class,
                  long.class,
                  String[].class,
                  long[].class,
                  long.class,
                  String[].class,
                  long.class,
                  OnnxValue[].class,
                  long[].class,
                  long.class));
      sessionHandle = session.findGetter(OrtSession.class, "nativeHandle", long.class);
      Class<?> allocator = Class.forName("ai.onnxruntime.OrtAllocator");
      sessionAllocator = session.findGetter(OrtSession.class, "allocator", allocator);
      allocatorHandle =
          MethodHandles.privateLookupIn(allocator, MethodHandles.lookup())
              .findGetter(allocator, "handle", long.class)
              .asType(MethodType.methodType(long.class, Object.class));
      sessionAllocator =
          sessionAllocator.asType(MethodType.methodType(Object.class, OrtSession.class));
      optionsHandle =
          MethodHandles.privateLookupIn(OrtSession.RunOptions.class, MethodHandles.lookup())
              .findGetter(OrtSession.RunOptions.class, "nativeHandle", long.class);
      Class<?> tensorLike = Class.forName("ai.onnxruntime.OnnxTensorLike");
      tensorHandle =
          MethodHandles.privateLookupIn(tensorLike, MethodHandles.lookup())
              .findGetter(tensorLike, "nativeHandle", long.class)
              .asType(MethodType.methodType(long.class, OnnxTensor.class));
      Class<?> runtime = Class.forName("ai.onnxruntime.OnnxRuntime");
      api =
          (long)
              MethodHandles.privateLookupIn(runtime, MethodHandles.lookup())
                  .findStaticGetter(runtime, "ortApiHandle", long.class)
                  .invokeExact();
      if (api == 0) {
        missing = "the binding's API handle is not set";
      }
    } catch (Throwable e) { // invokeExact declares Throwable; any failure means "not there"
      missing = e.toString();
    }
    RUN = run;
    SESSION_HANDLE = sessionHandle;
    SESSION_ALLOCATOR = sessionAllocator;
    ALLOCATOR_HANDLE = allocatorHandle;
    OPTIONS_HANDLE = optionsHandle;
    TENSOR_HANDLE = tensorHandle;
    API = api;
    MISSING = missing;
    if (missing != null) {
      LOG.info(
          "ONNX Runtime's run entry point was not found ({}); pinned runs take the public"
              + " OrtSession.run, which allocates about 440 bytes more per call",
          missing);
    }
  }

  private DirectRun() {}

  /**
   * Whether a session made now runs through the entry point: found, and not refused by {@link
   * #PROPERTY}.
   */
  static boolean enabled() {
    return MISSING == null && !"false".equalsIgnoreCase(System.getProperty(PROPERTY));
  }

  /** The session's native handle; only when {@link #enabled()}. */
  static long session(OrtSession session) {
    try {
      return (long) SESSION_HANDLE.invokeExact(session);
    } catch (Throwable e) {
      throw new IllegalStateException("reading the session's handle failed: " + e, e);
    }
  }

  /** The native handle of the session's allocator; only when {@link #enabled()}. */
  static long allocator(OrtSession session) {
    try {
      Object allocator = (Object) SESSION_ALLOCATOR.invokeExact(session);
      return (long) ALLOCATOR_HANDLE.invokeExact(allocator);
    } catch (Throwable e) {
      throw new IllegalStateException("reading the session's allocator failed: " + e, e);
    }
  }

  /** The native handle of run options; only when {@link #enabled()}. */
  static long options(OrtSession.RunOptions options) {
    try {
      return (long) OPTIONS_HANDLE.invokeExact(options);
    } catch (Throwable e) {
      throw new IllegalStateException("reading the run options' handle failed: " + e, e);
    }
  }

  /** The native handle of a tensor; only when {@link #enabled()}. */
  static long tensor(OnnxTensor tensor) {
    try {
      return (long) TENSOR_HANDLE.invokeExact(tensor);
    } catch (Throwable e) {
      throw new IllegalStateException("reading a tensor's handle failed: " + e, e);
    }
  }

  /**
   * One run through the entry point: {@code outputValues[i]} and {@code outputHandles[i]} are a
   * pinned output and its handle, or null and 0 for an output ONNX Runtime allocates, which the
   * call then puts into {@code outputValues[i]}.
   *
   * @return per output, whether ONNX Runtime allocated it (the caller closes it)
   */
  static boolean[] run(
      OrtSession session,
      long sessionHandle,
      long allocatorHandle,
      String[] inputNames,
      long[] inputHandles,
      String[] outputNames,
      OnnxValue[] outputValues,
      long[] outputHandles,
      long optionsHandle)
      throws OrtException {
    try {
      return (boolean[])
          RUN.invokeExact(
              session,
              API,
              sessionHandle,
              allocatorHandle,
              inputNames,
              inputHandles,
              (long) inputNames.length,
              outputNames,
              (long) outputNames.length,
              outputValues,
              outputHandles,
              optionsHandle);
    } catch (OrtException | RuntimeException | Error e) {
      throw e;
    } catch (Throwable e) {
      throw new IllegalStateException("ONNX Runtime's run entry point failed: " + e, e);
    }
  }
}
