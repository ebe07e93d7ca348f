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
 * Copies the published models (squish-report's tflite/ layout) into generated assets:
 * assets/models/models.json and assets/models/<dir>/{model.tflite,labels.txt,preprocess.json}.
 * Which models: the `squish.models` property (comma-separated names), or all of them.
 */
abstract class CopyModelsTask : DefaultTask() {
  @get:InputFiles
  @get:PathSensitive(PathSensitivity.RELATIVE)
  abstract val tfliteDir: DirectoryProperty

  @get:Input
  abstract val models: ListProperty<String>

  @get:OutputDirectory
  abstract val outputDir: DirectoryProperty

  @TaskAction
  fun copy() {
    val source = tfliteDir.get().asFile
    val target = outputDir.get().asFile.resolve("models")
    target.deleteRecursively()
    val index = source.resolve("models.json")
    if (!index.isFile) {
      // Build anyway: the app then shows "no models bundled" and how to fix it.
      logger.warn("squish: $index not found; the app will have no model. Publish models with " +
        "`squish-report --workdir=RUN --publish_dir=tflite` and rebuild.")
      return
    }
    @Suppress("UNCHECKED_CAST")
    val entries = JsonSlurper().parse(index) as List<Map<String, Any?>>
    val wanted = models.get().filter { it.isNotBlank() }
    val chosen = if (wanted.isEmpty()) entries else entries.filter { (it["name"] as? String) in wanted }
    if (entries.isEmpty()) {
      throw GradleException("$index lists no models; re-publish with squish-report")
    }
    val unknown = wanted - chosen.map { it["name"] as String }.toSet()
    if (unknown.isNotEmpty()) {
      throw GradleException("squish.models lists $unknown, not in $index; choose among " +
        entries.map { it["name"] })
    }
    for (entry in chosen) {
      val dir = entry["dir"] as String
      for (name in listOf("model.tflite", "labels.txt", "preprocess.json")) {
        val file = source.resolve(dir).resolve(name)
        if (!file.isFile) {
          throw GradleException("$file is missing; re-publish with squish-report")
        }
        file.copyTo(target.resolve(dir).resolve(name), overwrite = true)
      }
    }
    target.resolve("models.json").writeText(JsonOutput.prettyPrint(JsonOutput.toJson(chosen)))
    logger.lifecycle("squish: bundled ${chosen.map { it["name"] }} from $source")
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
