package dev.mlops.testmodels;

import java.util.Objects;

/**
 * Labelled rows for evaluating a classifier, as returned by {@link
 * TestModels#breastCancerTestSet()}.
 *
 * <p>The arrays are held as given, not copied, so that benchmarks can feed them to a model without
 * allocation; record equality is therefore identity of the arrays.
 *
 * @param features one row per sample, each of the same length
 * @param labels the true class of each row, {@code labels.length == features.length}
 */
public record TestSet(float[][] features, int[] labels) {

  /**
   * Validates that there is exactly one label per row.
   *
   * @param features one row per sample
   * @param labels the true class of each row
   * @throws IllegalArgumentException if the lengths differ
   */
  public TestSet {
    Objects.requireNonNull(features, "features");
    Objects.requireNonNull(labels, "labels");
    if (features.length != labels.length) {
      throw new IllegalArgumentException(
          features.length + " feature rows but " + labels.length + " labels");
    }
  }

  /**
   * Returns the number of rows.
   *
   * @return the row count
   */
  public int size() {
    return labels.length;
  }

  /**
   * Returns the fraction of rows whose predicted class equals the true label.
   *
   * @param predicted one predicted class per row, in row order
   * @return correct / {@link #size()}, or {@code NaN} for an empty set
   * @throws IllegalArgumentException if {@code predicted} has a different length
   */
  public double accuracy(int[] predicted) {
    Objects.requireNonNull(predicted, "predicted");
    checkLength(predicted.length);
    int correct = 0;
    for (int i = 0; i < labels.length; i++) {
      if (predicted[i] == labels[i]) {
        correct++;
      }
    }
    return (double) correct / labels.length;
  }

  /**
   * Returns the fraction of rows whose predicted class equals the true label; convenient for the
   * int64 {@code label} output of the classifiers.
   *
   * @param predicted one predicted class per row, in row order
   * @return correct / {@link #size()}, or {@code NaN} for an empty set
   * @throws IllegalArgumentException if {@code predicted} has a different length
   */
  public double accuracy(long[] predicted) {
    Objects.requireNonNull(predicted, "predicted");
    checkLength(predicted.length);
    int correct = 0;
    for (int i = 0; i < labels.length; i++) {
      if (predicted[i] == labels[i]) {
        correct++;
      }
    }
    return (double) correct / labels.length;
  }

  private void checkLength(int length) {
    if (length != labels.length) {
      throw new IllegalArgumentException(
          "expected " + labels.length + " predictions, got " + length);
    }
  }
}
