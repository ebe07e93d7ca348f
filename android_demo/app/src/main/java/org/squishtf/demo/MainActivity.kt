package org.squishtf.demo

import android.Manifest
import android.content.pm.PackageManager
import android.os.Bundle
import android.os.SystemClock
import android.util.Log
import android.util.Size
import android.view.View
import android.widget.AdapterView
import android.widget.ArrayAdapter
import android.widget.RadioGroup
import android.widget.Spinner
import android.widget.TextView
import androidx.activity.ComponentActivity
import androidx.activity.result.contract.ActivityResultContracts
import androidx.camera.core.CameraSelector
import androidx.camera.core.ImageAnalysis
import androidx.camera.core.ImageProxy
import androidx.camera.core.Preview
import androidx.camera.core.resolutionselector.ResolutionSelector
import androidx.camera.core.resolutionselector.ResolutionStrategy
import androidx.camera.lifecycle.ProcessCameraProvider
import androidx.camera.view.PreviewView
import androidx.core.content.ContextCompat
import com.google.ai.edge.litert.Accelerator
import java.util.Locale
import java.util.concurrent.ExecutorService
import java.util.concurrent.Executors
import org.squishtf.core.Frames
import org.squishtf.core.ModelIndex

/**
 * Camera feed -> bundled SquishedNet -> top-3 on screen, with latency and frames per second.
 * One background thread owns the model and the frames; the UI thread only displays.
 */
class MainActivity : ComponentActivity() {
  private lateinit var previewView: PreviewView
  private lateinit var picker: Spinner
  private lateinit var acceleratorGroup: RadioGroup
  private lateinit var results: TextView
  private lateinit var stats: TextView
  private lateinit var error: TextView

  private val worker: ExecutorService = Executors.newSingleThreadExecutor()
  private var models: List<ModelIndex.Entry> = emptyList()
  private var selected = 0
  private var ignoreAcceleratorChange = false

  // Owned by `worker`.
  private var classifier: Classifier? = null
  private var lastFrameNs = 0L
  private var frameMsAverage = 0.0

  private val askCamera =
    registerForActivityResult(ActivityResultContracts.RequestPermission()) { granted ->
      if (granted) startCamera() else showError(getString(R.string.camera_denied))
    }

  override fun onCreate(savedInstanceState: Bundle?) {
    super.onCreate(savedInstanceState)
    setContentView(R.layout.activity_main)
    previewView = findViewById(R.id.preview)
    picker = findViewById(R.id.model_picker)
    acceleratorGroup = findViewById(R.id.accelerator)
    results = findViewById(R.id.results)
    stats = findViewById(R.id.stats)
    error = findViewById(R.id.error)

    models = try {
      ModelBundle.index(assets)
    } catch (e: BundleException) {
      showError(e.message)
      return
    }
    picker.adapter = ArrayAdapter(this, android.R.layout.simple_spinner_item,
      models.map(::describe)).also {
      it.setDropDownViewResource(android.R.layout.simple_spinner_dropdown_item)
    }
    picker.onItemSelectedListener = object : AdapterView.OnItemSelectedListener {
      override fun onItemSelected(parent: AdapterView<*>?, view: View?, position: Int, id: Long) {
        selected = position
        loadModel()
      }

      override fun onNothingSelected(parent: AdapterView<*>?) {}
    }
    acceleratorGroup.setOnCheckedChangeListener { _, _ ->
      if (!ignoreAcceleratorChange) loadModel()
    }

    if (ContextCompat.checkSelfPermission(this, Manifest.permission.CAMERA) ==
      PackageManager.PERMISSION_GRANTED) {
      startCamera()
    } else {
      askCamera.launch(Manifest.permission.CAMERA)
    }
  }

  private fun describe(entry: ModelIndex.Entry): String {
    val parts = mutableListOf(entry.title)
    if (entry.bytes > 0) parts += String.format(Locale.US, "%.2f MB", entry.bytes / 1e6)
    if (!entry.top1.isNaN()) parts += String.format(Locale.US, "top-1 %.1f%%", 100 * entry.top1)
    return parts.joinToString(" · ")
  }

  private fun chosenAccelerator(): Accelerator =
    if (acceleratorGroup.checkedRadioButtonId == R.id.gpu) Accelerator.GPU else Accelerator.CPU

  /** (Re)compiles the selected model on the worker thread; the analyzer waits its turn. */
  private fun loadModel() {
    val entry = models.getOrNull(selected) ?: return
    val accelerator = chosenAccelerator()
    results.text = getString(R.string.waiting)
    worker.execute {
      classifier?.close()
      classifier = null
      frameMsAverage = 0.0
      lastFrameNs = 0L
      try {
        val bundle = ModelBundle.load(assets, entry)
        classifier = try {
          Classifier.create(assets, bundle, accelerator)
        } catch (e: BundleException) {
          if (accelerator != Accelerator.GPU) throw e
          // Say so on screen, then run on the CPU rather than show nothing.
          val cpu = Classifier.create(assets, bundle, Accelerator.CPU)
          runOnUiThread {
            ignoreAcceleratorChange = true
            acceleratorGroup.check(R.id.cpu)
            ignoreAcceleratorChange = false
            showError("${e.message}\nRunning on the CPU instead.")
          }
          cpu
        }
        if (classifier?.accelerator == accelerator) runOnUiThread { showError(null) }
      } catch (e: BundleException) {
        Log.e(TAG, "cannot load ${entry.name}", e)
        runOnUiThread {
          results.text = ""
          showError(e.message)
        }
      }
    }
  }

  private fun startCamera() {
    val future = ProcessCameraProvider.getInstance(this)
    future.addListener({
      val provider = future.get()
      val preview = Preview.Builder().build()
      preview.setSurfaceProvider(previewView.surfaceProvider)
      val analysis = ImageAnalysis.Builder()
        .setOutputImageFormat(ImageAnalysis.OUTPUT_IMAGE_FORMAT_RGBA_8888)
        .setBackpressureStrategy(ImageAnalysis.STRATEGY_KEEP_ONLY_LATEST)
        .setResolutionSelector(ResolutionSelector.Builder()
          .setResolutionStrategy(ResolutionStrategy(Size(640, 480),
            ResolutionStrategy.FALLBACK_RULE_CLOSEST_HIGHER_THEN_LOWER))
          .build())
        .build()
      analysis.setAnalyzer(worker, ::analyze)
      try {
        provider.unbindAll()
        provider.bindToLifecycle(this, CameraSelector.DEFAULT_BACK_CAMERA, preview, analysis)
      } catch (e: Exception) {
        Log.e(TAG, "camera", e)
        showError("Cannot open the back camera: ${e.message}")
      }
    }, ContextCompat.getMainExecutor(this))
  }

  /** Runs on `worker`: one RGBA frame -> upright ARGB -> core preprocessing -> LiteRT. */
  private fun analyze(image: ImageProxy) {
    image.use {
      val model = classifier ?: return
      val plane = image.planes[0]
      val rotation = image.imageInfo.rotationDegrees
      val argb = Frames.rgbaToArgb(plane.buffer, image.width, image.height, plane.rowStride,
        plane.pixelStride, rotation)
      val width = Frames.uprightWidth(image.width, image.height, rotation)
      val height = Frames.uprightHeight(image.width, image.height, rotation)
      val result = try {
        model.classify(argb, width, height)
      } catch (e: Exception) {
        Log.e(TAG, "inference", e)
        runOnUiThread { showError("Inference failed: ${e.message}") }
        return
      }
      val now = SystemClock.elapsedRealtimeNanos()
      if (lastFrameNs != 0L) {
        val ms = (now - lastFrameNs) / 1e6
        frameMsAverage = if (frameMsAverage == 0.0) ms else 0.9 * frameMsAverage + 0.1 * ms
      }
      lastFrameNs = now
      val fps = if (frameMsAverage > 0) 1000.0 / frameMsAverage else 0.0
      val top = result.top.mapIndexed { i, p ->
        String.format(Locale.US, "%d. %-16s %5.1f%%", i + 1, p.label, 100 * p.score)
      }.joinToString("\n")
      val line = String.format(Locale.US, "%s · %dx%d · preprocess %.1f ms · inference %.1f ms · %.1f FPS",
        model.accelerator.name, width, height, result.preprocessMs, result.inferenceMs, fps)
      runOnUiThread {
        results.text = top
        stats.text = line
      }
    }
  }

  private fun showError(message: String?) {
    error.text = message ?: ""
    error.visibility = if (message.isNullOrEmpty()) View.GONE else View.VISIBLE
  }

  override fun onDestroy() {
    super.onDestroy()
    worker.execute {
      classifier?.close()
      classifier = null
    }
    worker.shutdown()
  }

  private companion object {
    const val TAG = "SquishDemo"
  }
}
