package org.squishtf.demo

import android.Manifest
import android.content.pm.PackageManager
import android.graphics.Color
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
import androidx.activity.SystemBarStyle
import androidx.activity.enableEdgeToEdge
import androidx.activity.result.contract.ActivityResultContracts
import androidx.camera.core.CameraSelector
import androidx.camera.core.ImageAnalysis
import androidx.camera.core.ImageProxy
import androidx.camera.core.Preview
import androidx.camera.core.resolutionselector.AspectRatioStrategy
import androidx.camera.core.resolutionselector.ResolutionSelector
import androidx.camera.core.resolutionselector.ResolutionStrategy
import androidx.camera.lifecycle.ProcessCameraProvider
import androidx.camera.view.PreviewView
import androidx.core.content.ContextCompat
import androidx.core.view.ViewCompat
import androidx.core.view.WindowInsetsCompat
import java.util.Locale
import java.util.concurrent.ExecutorService
import java.util.concurrent.Executors
import org.squishtf.core.AcceleratorAttempt
import org.squishtf.core.AcceleratorFallback
import org.squishtf.core.AcceleratorPlan
import org.squishtf.core.Backend
import org.squishtf.core.CameraException
import org.squishtf.core.ErrorMessages
import org.squishtf.core.FrameFormatException
import org.squishtf.core.ModelChoice
import org.squishtf.core.RgbaFrame
import org.squishtf.core.StatusBoard
import org.squishtf.core.UserMessage

/**
 * Camera feed -> bundled SquishedNet (float32 or int8) -> top-3 on screen, with latency and
 * frames per second. One background thread (`worker`) owns the model and the frames; the UI
 * thread only displays. Every failure on either thread goes through the core's ErrorMessages
 * into the core's StatusBoard, whose message stays until a frame of newer settings succeeds.
 */
class MainActivity : ComponentActivity() {
  private lateinit var previewView: PreviewView
  private lateinit var overlay: RegionOverlay
  private lateinit var picker: Spinner
  private lateinit var acceleratorGroup: RadioGroup
  private lateinit var results: TextView
  private lateinit var stats: TextView
  private lateinit var message: TextView

  private val worker: ExecutorService = Executors.newSingleThreadExecutor()
  private val status = StatusBoard()
  private var choices: List<ModelChoice> = emptyList()
  private var selected = 0
  private var analysis: ImageAnalysis? = null

  // Owned by `worker`.
  private var classifier: Classifier? = null
  private var classifierGeneration = 0
  private var plan = AcceleratorPlan.of(AcceleratorPlan.Choice.GPU_THEN_CPU)
  private var lastFrameNs = 0L
  private var frameMsAverage = 0.0
  private var frameWidth = 0
  private var frameHeight = 0

  private val askCamera =
    registerForActivityResult(ActivityResultContracts.RequestPermission()) { granted ->
      if (granted) {
        startCamera()
      } else {
        show(status.generation(), UserMessage(UserMessage.Kind.CAMERA, getString(R.string.camera_denied)))
      }
    }

  override fun onCreate(savedInstanceState: Bundle?) {
    // Android 15+ draws apps edge to edge; do it on every version and pad by the insets.
    enableEdgeToEdge(SystemBarStyle.dark(Color.TRANSPARENT), SystemBarStyle.dark(Color.TRANSPARENT))
    super.onCreate(savedInstanceState)
    setContentView(R.layout.activity_main)
    previewView = findViewById(R.id.preview)
    overlay = findViewById(R.id.overlay)
    picker = findViewById(R.id.model_picker)
    acceleratorGroup = findViewById(R.id.accelerator)
    results = findViewById(R.id.results)
    stats = findViewById(R.id.stats)
    message = findViewById(R.id.message)
    ViewCompat.setOnApplyWindowInsetsListener(findViewById(R.id.root)) { view, insets ->
      val bars = insets.getInsets(
        WindowInsetsCompat.Type.systemBars() or WindowInsetsCompat.Type.displayCutout())
      view.setPadding(bars.left, bars.top, bars.right, bars.bottom)
      WindowInsetsCompat.CONSUMED
    }

    choices = try {
      ModelBundle.index(assets).choices()
    } catch (e: Exception) {
      Log.e(TAG, "models.json", e)
      show(status.generation(), ErrorMessages.describe(e))
      results.text = ""
      return
    }
    picker.adapter = ArrayAdapter(this, android.R.layout.simple_spinner_item,
      choices.map { it.label() }).also {
      it.setDropDownViewResource(android.R.layout.simple_spinner_dropdown_item)
    }
    picker.onItemSelectedListener = object : AdapterView.OnItemSelectedListener {
      override fun onItemSelected(parent: AdapterView<*>?, view: View?, position: Int, id: Long) {
        selected = position
        loadModel()
      }

      override fun onNothingSelected(parent: AdapterView<*>?) {}
    }
    acceleratorGroup.setOnCheckedChangeListener { _, _ -> loadModel() }

    if (ContextCompat.checkSelfPermission(this, Manifest.permission.CAMERA) ==
      PackageManager.PERMISSION_GRANTED) {
      startCamera()
    } else {
      askCamera.launch(Manifest.permission.CAMERA)
    }
  }

  private fun chosenPlan(): AcceleratorPlan = AcceleratorPlan.of(
    if (acceleratorGroup.checkedRadioButtonId == R.id.cpu_only) AcceleratorPlan.Choice.CPU_ONLY
    else AcceleratorPlan.Choice.GPU_THEN_CPU)

  /** The user picked a model or a backend choice: a new generation, loaded on the worker. */
  private fun loadModel() {
    val choice = choices.getOrNull(selected) ?: return
    val plan = chosenPlan()
    val generation = status.settingsChanged()
    results.text = getString(R.string.waiting)
    stats.text = ""
    onWorker(generation) { load(choice, plan, generation, plan.backends(), emptyList()) }
  }

  /**
   * On `worker`: replaces the classifier with `choice` on the first of `backends` that can
   * create and run it (the core's AcceleratorFallback); `earlier` are failures that led here.
   */
  private fun load(choice: ModelChoice, plan: AcceleratorPlan, generation: Int,
                   backends: List<Backend>, earlier: List<AcceleratorAttempt>) {
    closeClassifier()
    val bundle = ModelBundle.load(assets, choice)
    val loaded = AcceleratorFallback.load(backends,
      AcceleratorFallback.Create<Classifier> { backend -> Classifier.create(assets, bundle, backend) },
      AcceleratorFallback.FirstRun<Classifier> { it.firstRun() },
      earlier)
    for (attempt in loaded.fallbacks) Log.w(TAG, "fallback: ${attempt.describe()}", attempt.cause)
    classifier = loaded.model
    classifierGeneration = generation
    this.plan = plan
    if (loaded.fellBack()) {
      show(generation, ErrorMessages.fallbackNotice(loaded.fallbacks, loaded.backend))
    }
  }

  /** Runs `task` on the worker; anything it throws becomes the message for `generation`. */
  private fun onWorker(generation: Int, task: () -> Unit) {
    worker.execute {
      try {
        task()
      } catch (e: Throwable) {
        Log.e(TAG, "worker", e)
        show(generation, ErrorMessages.describe(e))
        runOnUiThread { if (generation == status.generation()) results.text = "" }
      }
    }
  }

  private fun closeClassifier() {
    classifier?.close()
    classifier = null
    frameMsAverage = 0.0
    lastFrameNs = 0L
  }

  private fun startCamera() {
    val future = ProcessCameraProvider.getInstance(this)
    future.addListener({
      try {
        val provider = future.get()
        // The same 4:3 aspect ratio for both, so the preview shows the analysed field of view.
        val aspect = AspectRatioStrategy.RATIO_4_3_FALLBACK_AUTO_STRATEGY
        val preview = Preview.Builder()
          .setResolutionSelector(ResolutionSelector.Builder().setAspectRatioStrategy(aspect).build())
          .build()
        previewView.scaleType = PreviewView.ScaleType.FILL_CENTER
        preview.setSurfaceProvider(previewView.surfaceProvider)
        val analysis = ImageAnalysis.Builder()
          .setOutputImageFormat(ImageAnalysis.OUTPUT_IMAGE_FORMAT_RGBA_8888)
          .setBackpressureStrategy(ImageAnalysis.STRATEGY_KEEP_ONLY_LATEST)
          .setResolutionSelector(ResolutionSelector.Builder()
            .setAspectRatioStrategy(aspect)
            .setResolutionStrategy(ResolutionStrategy(Size(640, 480),
              ResolutionStrategy.FALLBACK_RULE_CLOSEST_HIGHER_THEN_LOWER))
            .build())
          .build()
        analysis.setAnalyzer(worker, ::analyze)
        this.analysis = analysis
        provider.unbindAll()
        provider.bindToLifecycle(this, CameraSelector.DEFAULT_BACK_CAMERA, preview, analysis)
      } catch (e: Exception) {
        Log.e(TAG, "camera", e)
        show(status.generation(),
          ErrorMessages.describe(CameraException("Cannot open the back camera", e)))
      }
    }, ContextCompat.getMainExecutor(this))
  }

  /** On `worker`: one RGBA frame -> cropped, scaled input (core) -> LiteRT -> top-3. */
  private fun analyze(image: ImageProxy) {
    image.use {
      val model = classifier ?: return
      val generation = classifierGeneration
      try {
        val plane = image.planes[0]
        val frame = RgbaFrame(plane.buffer, image.width, image.height, plane.rowStride,
          plane.pixelStride, image.imageInfo.rotationDegrees)
        noteFrameSize(frame.uprightWidth(), frame.uprightHeight())
        val result = model.classify(frame)
        showResult(model, generation, frame, result)
      } catch (e: Throwable) {
        onFrameFailed(model, generation, e)
      }
    }
  }

  /**
   * A frame failed. On a backend with another one after it in the plan (the GPU) that is a
   * backend failure: reload on the rest of the plan, recording why. Otherwise the message stays.
   */
  private fun onFrameFailed(model: Classifier, generation: Int, e: Throwable) {
    val rest = plan.after(model.backend)
    if (rest.isNotEmpty() && e !is FrameFormatException) {
      Log.w(TAG, "${model.backend} failed on a frame; trying $rest", e)
      val failure = AcceleratorAttempt(model.backend, AcceleratorAttempt.Stage.RUN, e)
      try {
        load(model.bundle.choice, plan, generation, rest, listOf(failure))
      } catch (reload: Throwable) {
        Log.e(TAG, "reload", reload)
        show(generation, ErrorMessages.describe(reload))
      }
      return
    }
    if (show(generation, ErrorMessages.describe(e))) Log.e(TAG, "frame", e)  // log once per change
  }

  private fun noteFrameSize(width: Int, height: Int) {
    if (width == frameWidth && height == frameHeight) return
    frameWidth = width
    frameHeight = height
    runOnUiThread { overlay.setFrameSize(width, height) }
  }

  private fun showResult(model: Classifier, generation: Int, frame: RgbaFrame, result: Classification) {
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
    val line = String.format(Locale.US,
      "%s · %s · %dx%d · preprocess %.2f ms · inference %.1f ms · %.1f FPS",
      model.backend, model.bundle.choice.file.precision, frame.uprightWidth(),
      frame.uprightHeight(), result.preprocessMs, result.inferenceMs, fps)
    val clearMessage = status.frameSucceeded(generation)
    runOnUiThread {
      if (generation != status.generation()) return@runOnUiThread  // settings changed meanwhile
      results.text = top
      stats.text = line
      if (clearMessage) renderMessage()
    }
  }

  /** Reports `m` for `generation`; returns whether the message on screen changed. Any thread. */
  private fun show(generation: Int, m: UserMessage): Boolean {
    val changed = status.report(generation, m)
    if (changed) runOnUiThread { renderMessage() }
    return changed
  }

  private fun renderMessage() {
    val m = status.message()
    message.text = m?.text ?: ""
    message.setTextColor(if (m?.isError() == false) NOTICE_COLOR else ERROR_COLOR)
    message.visibility = if (m == null) View.GONE else View.VISIBLE
  }

  override fun onDestroy() {
    super.onDestroy()
    analysis?.clearAnalyzer()
    worker.execute { closeClassifier() }
    worker.shutdown()
  }

  private companion object {
    const val TAG = "SquishDemo"
    const val ERROR_COLOR = 0xFFFF8080.toInt()
    const val NOTICE_COLOR = 0xFFFFD080.toInt()
  }
}
