package org.squishtf.demo

import android.content.res.AssetManager
import java.io.FileNotFoundException
import org.squishtf.core.Contract
import org.squishtf.core.ContractException
import org.squishtf.core.LabelException
import org.squishtf.core.Labels
import org.squishtf.core.ModelIndex

/** A problem with the bundled model files, worded for the person holding the phone. */
class BundleException(message: String, cause: Throwable? = null) : Exception(message, cause)

/** One bundled model's files, read and checked (assets/models/<dir>/...). */
class ModelBundle(val entry: ModelIndex.Entry, val contract: Contract, val labels: Labels) {
  val modelAsset: String = "$ROOT/${entry.dir}/model.tflite"

  companion object {
    const val ROOT = "models"

    /** The models the build bundled (the copyModels task writes models/models.json). */
    fun index(assets: AssetManager): List<ModelIndex.Entry> {
      val text = try {
        readText(assets, "$ROOT/models.json")
      } catch (e: FileNotFoundException) {
        throw BundleException("No models bundled (assets/$ROOT/models.json missing). Publish " +
          "models to tflite/ with squish-report, then rebuild the app.", e)
      }
      return try {
        ModelIndex.parse(text)
      } catch (e: IllegalArgumentException) {
        throw BundleException(e.message ?: "models.json is invalid", e)
      }
    }

    /** Reads a model's labels and contract; every failure says which file and what to do. */
    fun load(assets: AssetManager, entry: ModelIndex.Entry): ModelBundle {
      val dir = "$ROOT/${entry.dir}"
      for (name in listOf("model.tflite", "labels.txt", "preprocess.json")) {
        try {
          assets.open("$dir/$name").close()
        } catch (e: FileNotFoundException) {
          throw BundleException("Model asset missing: assets/$dir/$name. Rebuild the app " +
            "after publishing ${entry.name} to tflite/ (the copyModels task copies it).", e)
        }
      }
      val contract = try {
        Contract.parse(readText(assets, "$dir/preprocess.json"))
      } catch (e: ContractException) {
        throw BundleException("${entry.title}: ${e.message}", e)
      }
      val labels = try {
        Labels.parse(readText(assets, "$dir/labels.txt"))
      } catch (e: LabelException) {
        throw BundleException("${entry.title}: ${e.message}", e)
      }
      return ModelBundle(entry, contract, labels)
    }

    private fun readText(assets: AssetManager, path: String): String =
      assets.open(path).use { it.readBytes().toString(Charsets.UTF_8) }
  }
}
