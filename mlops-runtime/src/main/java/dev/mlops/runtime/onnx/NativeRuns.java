package dev.mlops.runtime.onnx;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtLoggingLevel;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What keeps a run inside ONNX Runtime from crashing the JVM when it exits. Process-wide, because
 * the two things it guards are: ONNX Runtime's environment, and the JVM's shutdown.
 *
 * <p>ONNX Runtime's Java binding (1.29) registers a JVM shutdown hook when it creates its
 * environment, and that hook releases the environment's native reference. Hooks run concurrently,
 * so the environment is freed while other hooks (a runtime draining its calls) and other threads (a
 * warm-up in a {@code Loop}) still run sessions, which then read freed memory: SIGSEGV. No public
 * call orders hooks or removes the binding's, so the first engine takes a second native reference
 * on the same environment (the binding's {@code createHandle}, which for an existing environment
 * only counts a reference, through reflection on the class path's unnamed module). The binding's
 * hook then drops the count to one and frees nothing; the process gives the memory back when it
 * ends. Should the binding change so that the call is not there, the engine logs one WARN and runs
 * without it.
 *
 * <p>A hook of its own, registered once, then gives the runs still in progress at exit {@link
 * #EXIT_GRACE} to finish (a runtime's own hook may be draining them), terminates the rest and waits
 * until none is inside ONNX Runtime, so that nothing runs native code while the process unloads it.
 */
final class NativeRuns {

  private static final Logger LOG = LoggerFactory.getLogger(NativeRuns.class);

  /** How long runs in progress at JVM exit may go on before they are terminated: 10 s. */
  static final long EXIT_GRACE = TimeUnit.SECONDS.toNanos(10);

  /** How long the exit hook then waits for terminated runs to return: 5 s. */
  static final long EXIT_STOP_WAIT = TimeUnit.SECONDS.toNanos(5);

  /** Engines not closed yet; weakly held, since nothing obliges a caller to close one. */
  private static final Set<OnnxRuntimeEngine> ENGINES =
      Collections.synchronizedSet(Collections.newSetFromMap(new WeakHashMap<>()));

  private static boolean initialised;
  private static volatile boolean environmentHeld;

  private NativeRuns() {}

  /** Tracks an engine's runs for the exit hook; the first call holds the environment. */
  static void register(OnnxRuntimeEngine engine) {
    synchronized (NativeRuns.class) {
      if (!initialised) {
        initialised = true;
        environmentHeld = holdEnvironment(OrtEnvironment.getEnvironment());
        Runtime.getRuntime().addShutdownHook(new Thread(NativeRuns::atExit, "mlops-onnx-exit"));
      }
    }
    ENGINES.add(engine);
  }

  /** A closed engine has no runs to stop. */
  static void forget(OnnxRuntimeEngine engine) {
    ENGINES.remove(engine);
  }

  /** Whether this process holds its own reference on ONNX Runtime's environment. */
  static boolean environmentHeld() {
    return environmentHeld;
  }

  private static boolean holdEnvironment(OrtEnvironment env) {
    try {
      Class<?> runtime = Class.forName("ai.onnxruntime.OnnxRuntime");
      Field api = runtime.getDeclaredField("ortApiHandle");
      api.setAccessible(true);
      Field handle = OrtEnvironment.class.getDeclaredField("nativeHandle");
      handle.setAccessible(true);
      Method create =
          OrtEnvironment.class.getDeclaredMethod(
              "createHandle", long.class, int.class, String.class);
      create.setAccessible(true);
      long held =
          (long)
              create.invoke(
                  null,
                  api.getLong(null),
                  OrtLoggingLevel.ORT_LOGGING_LEVEL_WARNING.getValue(),
                  "mlops");
      if (held != handle.getLong(env)) {
        // Not the environment the binding frees at exit; nothing else would use it.
        LOG.warn(
            "ONNX Runtime returned a second environment instead of a reference on its own; a run"
                + " in progress when the JVM exits may crash it");
        return false;
      }
      LOG.debug("holding a reference on ONNX Runtime's environment until the process ends");
      return true;
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.warn(
          "cannot hold a reference on ONNX Runtime's environment ({}); its Java binding frees it"
              + " from a shutdown hook, so a run in progress when the JVM exits may crash it",
          e.toString());
      return false;
    }
  }

  private static void atExit() {
    List<OnnxRuntimeEngine> engines;
    synchronized (ENGINES) {
      engines = new ArrayList<>(ENGINES);
    }
    long deadline = System.nanoTime() + EXIT_GRACE;
    for (OnnxRuntimeEngine e : engines) {
      e.awaitRuns(Math.max(0, deadline - System.nanoTime()));
    }
    int left = 0;
    for (OnnxRuntimeEngine e : engines) {
      if (!e.stopRuns("the JVM is exiting", EXIT_STOP_WAIT)) {
        left += e.runsInProgress();
      }
    }
    if (left > 0) {
      LOG.warn("{} ONNX Runtime run(s) still in progress as the JVM exits", left);
    }
  }
}
