package org.squishtf.demo

import android.content.res.AssetManager
import android.os.SystemClock
import com.google.ai.edge.litert.Accelerator
import com.google.ai.edge.litert.CompiledModel
import com.google.ai.edge.litert.LiteRtException
import com.google.ai.edge.litert.TensorBuffer
import org.squishtf.core.LabelException
import org.squishtf.core.Prediction
import org.squishtf.core.Preprocessor
import org.squishtf.core.Scores

/** What one frame produced. */
data class Classification(
  val top: List<Prediction>,
  val preprocessMs: Double,
  val inferenceMs: Double,
)

/**
 * A bundled model compiled for the CPU or the GPU, with its input/output buffers kept between
 * frames. All image math is in the core (org.squishtf.core), which is tested against Python.
 * Not thread-safe: the camera's analysis executor owns it.
 */
class Classifier private constructor(
  val bundle: ModelBundle,
  val accelerator: Accelerator,
  private val model: CompiledModel,
) : AutoCloseable {
  private val preprocessor = Preprocessor(bundle.contract)
  private val input = FloatArray(bundle.contract.inputLength())
  private val inputBuffers: List<TensorBuffer> = model.createInputBuffers()
  private val outputBuffers: List<TensorBuffer> = model.createOutputBuffers()

  /** Runs a zero image once: checks the input size and that labels match the output count. */
  private fun check() {
    val outputs = try {
      inputBuffers[0].writeFloat(input)
      model.run(inputBuffers, outputBuffers)
      outputBuffers[0].readFloat()
    } catch (e: LiteRtException) {
      throw BundleException("${bundle.entry.title}: the model does not take a float32 " +
        "1x${bundle.contract.imageSize}x${bundle.contract.imageSize}x3 input as its " +
        "preprocess.json says (${e.message}). int8 models are not supported by this app.", e)
    }
    try {
      bundle.labels.checkMatches(outputs.size)
    } catch (e: LabelException) {
      throw BundleException("${bundle.entry.title}: ${e.message}", e)
    }
  }

  /** Top-3 for an upright ARGB frame, with the time spent in preprocessing and in LiteRT. */
  fun classify(argb: IntArray, width: Int, height: Int): Classification {
    val t0 = SystemClock.elapsedRealtimeNanos()
    preprocessor.process(argb, width, height, input)
    val t1 = SystemClock.elapsedRealtimeNanos()
    inputBuffers[0].writeFloat(input)
    model.run(inputBuffers, outputBuffers)
    val raw = outputBuffers[0].readFloat()
    val t2 = SystemClock.elapsedRealtimeNanos()
    val probabilities = Scores.probabilities(raw, bundle.contract.output)
    return Classification(Scores.topK(probabilities, 3, bundle.labels),
      (t1 - t0) / 1e6, (t2 - t1) / 1e6)
  }

  override fun close() {
    inputBuffers.forEach { it.close() }
    outputBuffers.forEach { it.close() }
    model.close()
  }

  companion object {
    /** Compiles the model; a GPU that cannot run it is reported, not silently replaced. */
    fun create(assets: AssetManager, bundle: ModelBundle, accelerator: Accelerator): Classifier {
      val model = try {
        CompiledModel.create(assets, bundle.modelAsset, CompiledModel.Options(accelerator))
      } catch (e: LiteRtException) {
        val where = if (accelerator == Accelerator.GPU) "on the GPU of this device" else "on the CPU"
        throw BundleException("${bundle.entry.title} cannot run $where: ${e.message}", e)
      }
      var classifier: Classifier? = null
      try {
        classifier = Classifier(bundle, accelerator, model)
        classifier.check()
        return classifier
      } catch (e: Exception) {
        classifier?.close() ?: model.close()
        throw e
      }
    }
  }
}
