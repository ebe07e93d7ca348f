package org.squishtf.demo

import android.content.Context
import android.graphics.Canvas
import android.graphics.Paint
import android.util.AttributeSet
import android.view.View
import org.squishtf.core.PreviewGeometry

/**
 * Drawn over the PreviewView: outlines the region the model classifies and dims the rest. The
 * geometry (FILL_CENTER scaling, the floored centre square) comes from the core's
 * PreviewGeometry, given the upright size of the analysed frames.
 */
class RegionOverlay @JvmOverloads constructor(
  context: Context,
  attrs: AttributeSet? = null,
) : View(context, attrs) {
  private var frameWidth = 0
  private var frameHeight = 0
  private val dim = Paint().apply { color = 0x99000000.toInt() }
  private val outline = Paint(Paint.ANTI_ALIAS_FLAG).apply {
    style = Paint.Style.STROKE
    strokeWidth = 2 * resources.displayMetrics.density
    color = 0xCCFFFFFF.toInt()
  }

  /** The upright size of the frames the model sees; redraws when it changes. */
  fun setFrameSize(width: Int, height: Int) {
    if (width == frameWidth && height == frameHeight) return
    frameWidth = width
    frameHeight = height
    invalidate()
  }

  override fun onDraw(canvas: Canvas) {
    super.onDraw(canvas)
    if (frameWidth < 1 || frameHeight < 1 || width < 1 || height < 1) return
    val region = PreviewGeometry.fillCenter(frameWidth, frameHeight, width, height)
      .visibleModelRegion()
    val l = region.left.toFloat()
    val t = region.top.toFloat()
    val r = region.right.toFloat()
    val b = region.bottom.toFloat()
    val w = width.toFloat()
    val h = height.toFloat()
    canvas.drawRect(0f, 0f, w, t, dim)
    canvas.drawRect(0f, b, w, h, dim)
    canvas.drawRect(0f, t, l, b, dim)
    canvas.drawRect(r, t, w, b, dim)
    val inset = outline.strokeWidth / 2
    canvas.drawRect(l + inset, t + inset, r - inset, b - inset, outline)
  }
}
