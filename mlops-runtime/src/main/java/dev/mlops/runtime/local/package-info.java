/** The embedded model registry on a local directory. */
package dev.mlops.runtime.local;
