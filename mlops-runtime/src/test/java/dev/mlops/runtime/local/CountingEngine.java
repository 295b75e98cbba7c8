package dev.mlops.runtime.local;

import dev.mlops.api.ArtifactLocation;
import dev.mlops.api.spi.InferenceEngine;
import dev.mlops.api.spi.ModelSession;
import dev.mlops.runtime.onnx.OnnxRuntimeEngine;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The real ONNX Runtime engine, counting the models handed to it and the sessions it opened and
 * closed, so that tests can tell that a refused model never reached ONNX Runtime and that no
 * session leaked.
 */
public final class CountingEngine implements InferenceEngine {

  private final OnnxRuntimeEngine delegate = new OnnxRuntimeEngine();

  /** Models handed to {@link #open}. */
  public final AtomicInteger opens = new AtomicInteger();

  /**
   * The session options of every open, in order; {@link #open(ArtifactLocation)} records the
   * defaults it uses.
   */
  public final java.util.List<dev.mlops.api.SessionOptions> optionsUsed =
      new java.util.concurrent.CopyOnWriteArrayList<>();

  final AtomicInteger opened = new AtomicInteger();
  final AtomicInteger closed = new AtomicInteger();

  /** While set, every open fails as a model ONNX Runtime cannot load would. */
  final java.util.concurrent.atomic.AtomicBoolean failOpens =
      new java.util.concurrent.atomic.AtomicBoolean();

  @Override
  public String name() {
    return delegate.name();
  }

  /** The real engine, counting. */
  public CountingEngine() {}

  @Override
  public ModelSession open(ArtifactLocation artifact, dev.mlops.api.SessionOptions options) {
    optionsUsed.add(options);
    return counted(artifact, () -> delegate.open(artifact, options));
  }

  @Override
  public ModelSession open(ArtifactLocation artifact) {
    optionsUsed.add(dev.mlops.api.SessionOptions.DEFAULTS);
    return counted(artifact, () -> delegate.open(artifact));
  }

  private ModelSession counted(
      ArtifactLocation artifact, java.util.function.Supplier<ModelSession> open) {
    opens.incrementAndGet();
    if (failOpens.get()) {
      throw new dev.mlops.api.ModelLoadException(
          "ONNX Runtime cannot load " + artifact.modelFile() + ": test failure");
    }
    ModelSession session = open.get();
    opened.incrementAndGet();
    return (ModelSession)
        Proxy.newProxyInstance(
            ModelSession.class.getClassLoader(),
            new Class<?>[] {ModelSession.class},
            (proxy, method, args) -> {
              if (method.getName().equals("close") && method.getParameterCount() == 0) {
                closed.incrementAndGet();
              }
              try {
                return method.invoke(session, args);
              } catch (InvocationTargetException e) {
                throw e.getCause();
              }
            });
  }

  /** Sessions open now. */
  int live() {
    return opened.get() - closed.get();
  }

  @Override
  public void close() {
    delegate.close();
  }
}
