package org.squishtf.demo

import android.content.res.AssetManager
import android.os.SystemClock
import com.google.ai.edge.litert.Accelerator
import com.google.ai.edge.litert.CompiledModel
import com.google.ai.edge.litert.Model
import com.google.ai.edge.litert.TensorBuffer
import com.google.ai.edge.litert.TensorType
import org.squishtf.core.Backend
import org.squishtf.core.FrameSampler
import org.squishtf.core.Prediction
import org.squishtf.core.RgbaFrame
import org.squishtf.core.Scores
import org.squishtf.core.TensorCheck
import org.squishtf.core.TensorMismatchException

/** What one frame produced. */
data class Classification(
  val top: List<Prediction>,
  val preprocessMs: Double,
  val inferenceMs: Double,
)

/**
 * A bundled model compiled for one backend, with its input/output buffers kept between frames.
 * All decisions and image math are in the core (org.squishtf.core, tested against Python):
 * the tensor check, the cropped and scaled sampling of camera frames, int8 (de)quantization with
 * the contract's parameters. Not thread-safe: the camera's analysis thread owns it.
 */
class Classifier private constructor(
  val bundle: ModelBundle,
  val backend: Backend,
  private val model: Model,
  private val compiled: CompiledModel,
) : AutoCloseable {
  private val inputSpec = bundle.choice.file.input
  private val outputSpec = bundle.choice.file.output
  private val sampler = FrameSampler(bundle.contract)
  private val input = FloatArray(bundle.contract.inputLength())
  private val inputInt8 = ByteArray(if (inputSpec.isInt8()) input.size else 0)
  private val inputBuffers: List<TensorBuffer>
  private val outputBuffers: List<TensorBuffer>

  init {
    val inputs = compiled.createInputBuffers()
    outputBuffers = try {
      compiled.createOutputBuffers()
    } catch (e: Throwable) {
      inputs.forEach { it.close() }
      throw e
    }
    inputBuffers = inputs
  }

  /**
   * One run on a black image right after loading: a GPU that compiles the model but cannot run
   * it, or returns NaN, fails here, so the fallback moves on to the CPU before any frame.
   */
  fun firstRun() {
    val offset = bundle.contract.offset
    for (i in input.indices) input[i] = offset[i % 3]  // pixel value 0 after preprocessing
    Scores.requireFinite(infer())
  }

  /** Top-3 for a camera frame, with the time spent in preprocessing and in LiteRT. */
  fun classify(frame: RgbaFrame): Classification {
    val t0 = SystemClock.elapsedRealtimeNanos()
    sampler.sample(frame, input)
    val t1 = SystemClock.elapsedRealtimeNanos()
    val raw = infer()
    val t2 = SystemClock.elapsedRealtimeNanos()
    val probabilities = Scores.probabilities(raw, bundle.contract.output)
    return Classification(Scores.topK(probabilities, 3, bundle.labels),
      (t1 - t0) / 1e6, (t2 - t1) / 1e6)
  }

  /** Writes `input` (quantized for an int8 model), runs, reads the output as floats. */
  private fun infer(): FloatArray {
    val inQ = inputSpec.quantization
    if (inQ != null) {
      inQ.quantize(input, inputInt8)
      inputBuffers[0].writeInt8(inputInt8)
    } else {
      inputBuffers[0].writeFloat(input)
    }
    compiled.run(inputBuffers, outputBuffers)
    val outQ = outputSpec.quantization
    return if (outQ != null) outQ.dequantize(outputBuffers[0].readInt8()) else outputBuffers[0].readFloat()
  }

  override fun close() {
    inputBuffers.forEach { it.close() }
    outputBuffers.forEach { it.close() }
    compiled.close()
    model.close()
  }

  companion object {
    /**
     * Loads the model, checks its tensors against the contract, compiles it for `backend` and
     * creates its buffers. Throws on any failure (the core's AcceleratorFallback records it and
     * tries the next backend); whatever was created is closed first.
     */
    fun create(assets: AssetManager, bundle: ModelBundle, backend: Backend): Classifier {
      val model = Model.load(assets, bundle.modelAsset)
      try {
        checkTensors(model, bundle)
        val accelerator = if (backend == Backend.GPU) Accelerator.GPU else Accelerator.CPU
        val compiled = CompiledModel.create(model, CompiledModel.Options(accelerator))
        try {
          return Classifier(bundle, backend, model, compiled)
        } catch (e: Throwable) {
          compiled.close()
          throw e
        }
      } catch (e: Throwable) {
        model.close()
        throw e
      }
    }

    /** The full input/output check (rank, every dimension, dtype) before anything runs. */
    private fun checkTensors(model: Model, bundle: ModelBundle) {
      val file = bundle.choice.file
      val (inShape, inType) = tensor(model, file.input.name, isInput = true)
      TensorCheck.input(inShape, inType, bundle.contract.imageSize, file.input)
      val (outShape, outType) = tensor(model, file.output.name, isInput = false)
      TensorCheck.output(outShape, outType, bundle.labels.size(), file.output)
    }

    private fun tensor(model: Model, name: String, isInput: Boolean): Pair<IntArray, String> {
      val which = if (isInput) "input" else "output"
      val type = try {
        if (isInput) model.getInputTensorType(name) else model.getOutputTensorType(name)
      } catch (e: Exception) {
        throw TensorMismatchException("the model has no $which named \"$name\" as models.json " +
          "says (${e.message}); re-publish the model with squish-report")
      }
      val shape = type.layout?.dimensions?.toList()?.toIntArray() ?: IntArray(0)
      return shape to dtypeName(type.elementType)
    }

    /** LiteRT's element types under the names models.json uses. */
    private fun dtypeName(type: TensorType.ElementType): String = when (type.name) {
      "FLOAT" -> "float32"
      "INT8" -> "int8"
      "INT" -> "int32"
      "INT64" -> "int64"
      "BOOLEAN" -> "bool"
      else -> type.name.lowercase()
    }
  }
}
