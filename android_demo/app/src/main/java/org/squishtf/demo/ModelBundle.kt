package org.squishtf.demo

import android.content.res.AssetManager
import java.io.FileNotFoundException
import org.squishtf.core.BundleCheck
import org.squishtf.core.Contract
import org.squishtf.core.Labels
import org.squishtf.core.ModelChoice
import org.squishtf.core.ModelFileException
import org.squishtf.core.ModelFiles
import org.squishtf.core.ModelIndex

/**
 * One bundled (model, precision) choice with its contract and labels, read from
 * assets/models/<dir>/ and cross-checked. Every failure is a core exception
 * (ModelFileException, ModelIndexException, ContractException, LabelException) that the core's
 * ErrorMessages turns into the message on screen.
 */
class ModelBundle(val choice: ModelChoice, val contract: Contract, val labels: Labels) {
  val modelAsset: String = choice.assetPath(ROOT)

  companion object {
    const val ROOT = "models"

    /** The models the build bundled (the copyModels task writes models/models.json). */
    fun index(assets: AssetManager): ModelIndex =
      ModelIndex.parse(readText(assets, "$ROOT/models.json"))

    /** Reads the choice's files and checks that they are the published ones and agree. */
    fun load(assets: AssetManager, choice: ModelChoice): ModelBundle {
      val model = readBytes(assets, modelPath(choice))
      ModelFiles.verify("assets/${modelPath(choice)}", model, choice.file)
      val contract = Contract.parse(readText(assets, choice.siblingPath(ROOT, choice.model.preprocess)))
      val labels = Labels.parse(readText(assets, choice.siblingPath(ROOT, choice.model.labels)))
      BundleCheck.check(choice.model, contract, labels)
      return ModelBundle(choice, contract, labels)
    }

    private fun modelPath(choice: ModelChoice) = choice.assetPath(ROOT)

    private fun readBytes(assets: AssetManager, path: String): ByteArray = try {
      assets.open(path).use { it.readBytes() }
    } catch (e: FileNotFoundException) {
      throw ModelFileException("assets/$path", "is missing", e)
    }

    private fun readText(assets: AssetManager, path: String): String =
      readBytes(assets, path).toString(Charsets.UTF_8)
  }
}
