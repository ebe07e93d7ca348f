import groovy.json.JsonOutput
import groovy.json.JsonSlurper

plugins {
  alias(libs.plugins.android.application)
  // No org.jetbrains.kotlin.android: AGP 9 compiles Kotlin itself (built-in Kotlin).
}

android {
  namespace = "org.squishtf.demo"
  compileSdk = 36

  defaultConfig {
    applicationId = "org.squishtf.demo"
    minSdk = 24  // LiteRT 2.3 AARs declare minSdk 24
    targetSdk = 36
    versionCode = 1
    versionName = "0.1.0"
  }

  buildTypes {
    release {
      isMinifyEnabled = false
      signingConfig = signingConfigs.getByName("debug")  // a demo: installable without a keystore
    }
  }

  compileOptions {
    sourceCompatibility = JavaVersion.VERSION_17
    targetCompatibility = JavaVersion.VERSION_17
  }

  androidResources {
    noCompress += "tflite"  // LiteRT maps the model straight from the APK
  }
}

dependencies {
  implementation(project(":core"))
  implementation(libs.androidx.activity.ktx)
  implementation(libs.androidx.core.ktx)
  implementation(libs.camera.camera2)
  implementation(libs.camera.lifecycle)
  implementation(libs.camera.view)
  implementation(libs.litert)
  implementation(libs.litert.gpu)
}

/**
 * Copies the published models (squish-report's tflite/ layout, models.json format
 * "squish_tf.models/2") into generated assets: assets/models/models.json and, per model,
 * assets/models/<dir>/ with every listed .tflite (model.tflite, model_int8.tflite, ...), its
 * labels and its preprocess.json. Which models: the `squish.models` property (comma-separated
 * names), or all of them. A listed file that is missing fails the build with its name.
 */
abstract class CopyModelsTask : DefaultTask() {
  @get:InputFiles
  @get:PathSensitive(PathSensitivity.RELATIVE)
  abstract val tfliteDir: DirectoryProperty

  @get:Input
  abstract val models: ListProperty<String>

  @get:OutputDirectory
  abstract val outputDir: DirectoryProperty

  /** The models.json format this app reads (org.squishtf.core.ModelIndex.FORMAT). */
  private val modelsFormat = "squish_tf.models/2"

  @TaskAction
  fun copy() {
    val source = tfliteDir.get().asFile
    val target = outputDir.get().asFile.resolve("models")
    target.deleteRecursively()
    val index = source.resolve("models.json")
    if (!index.isFile) {
      // Build anyway: the app then says on screen that models.json is missing and how to fix it.
      logger.warn("squish: $index not found; the app will have no model. Publish models with " +
        "`squish-report --workdir=RUN --publish_dir=tflite` and rebuild.")
      return
    }
    @Suppress("UNCHECKED_CAST")
    val root = JsonSlurper().parse(index) as? Map<String, Any?>
      ?: throw GradleException("$index is in the old list format; re-publish the models with " +
        "the current squish-report (format $modelsFormat)")
    if (root["format"] != modelsFormat) {
      throw GradleException("$index has format ${root["format"]}, this app reads $modelsFormat; " +
        "publish the models with a matching squish-report")
    }
    @Suppress("UNCHECKED_CAST")
    val entries = root["models"] as? List<Map<String, Any?>> ?: emptyList()
    if (entries.isEmpty()) {
      throw GradleException("$index lists no models; re-publish with squish-report")
    }
    val wanted = models.get().filter { it.isNotBlank() }
    val chosen = if (wanted.isEmpty()) entries else entries.filter { (it["name"] as? String) in wanted }
    val unknown = wanted - chosen.map { it["name"] as? String }.toSet()
    if (unknown.isNotEmpty()) {
      throw GradleException("squish.models lists $unknown, not in $index; choose among " +
        entries.map { it["name"] })
    }
    val copies = chosen.flatMap { entry -> filesOf(index, entry) }
    val missing = copies.filter { !it.first.isFile }
    if (missing.isNotEmpty()) {
      throw GradleException("missing ${missing.joinToString { it.first.path }} (listed in " +
        "$index); re-publish with squish-report")
    }
    for ((file, relative) in copies) {
      file.copyTo(target.resolve(relative), overwrite = true)
    }
    target.resolve("models.json").writeText(
      JsonOutput.prettyPrint(JsonOutput.toJson(root + ("models" to chosen))))
    logger.lifecycle("squish: bundled ${copies.size} files of ${chosen.map { it["name"] }} from $source")
  }

  /** (source file, path under assets/models) for every file one models.json entry needs. */
  private fun filesOf(index: File, entry: Map<String, Any?>): List<Pair<File, String>> {
    fun text(key: String, map: Map<String, Any?> = entry): String =
      map[key] as? String ?: throw GradleException("$index: model ${entry["name"]} lacks \"$key\"")
    val dir = text("dir")
    @Suppress("UNCHECKED_CAST")
    val files = (entry["files"] as? List<Map<String, Any?>>).orEmpty().map { text("file", it) }
    if (files.isEmpty()) {
      throw GradleException("$index: model ${entry["name"]} lists no files")
    }
    val source = index.parentFile.resolve(dir)
    return (files + text("labels") + text("preprocess")).map { source.resolve(it) to "$dir/$it" }
  }
}

val copyModels = tasks.register<CopyModelsTask>("copyModels") {
  group = "squish"
  description = "Copies models from ../tflite (squish-report's release) into the app's assets."
  tfliteDir.set(rootProject.layout.projectDirectory.dir(
    providers.gradleProperty("squish.tfliteDir").orElse("../tflite")))
  models.set(providers.gradleProperty("squish.models").orElse("").map { it.split(",").map(String::trim) })
  outputDir.set(layout.buildDirectory.dir("generated/squishModels"))
}

androidComponents {
  onVariants { variant ->
    variant.sources.assets?.addGeneratedSourceDirectory(copyModels, CopyModelsTask::outputDir)
  }
}
