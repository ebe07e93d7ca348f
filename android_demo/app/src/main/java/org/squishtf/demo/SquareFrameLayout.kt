package org.squishtf.demo

import android.content.Context
import android.util.AttributeSet
import android.widget.FrameLayout

/**
 * A FrameLayout that is always square, as large as its space allows. The model classifies the
 * centred square of each frame; a FILL_CENTER preview in a square view shows exactly that square
 * (PreviewGeometry in the core computes it, the RegionOverlay draws it).
 */
class SquareFrameLayout @JvmOverloads constructor(
  context: Context,
  attrs: AttributeSet? = null,
) : FrameLayout(context, attrs) {
  override fun onMeasure(widthMeasureSpec: Int, heightMeasureSpec: Int) {
    val width = MeasureSpec.getSize(widthMeasureSpec)
    val height = MeasureSpec.getSize(heightMeasureSpec)
    val side = if (MeasureSpec.getMode(heightMeasureSpec) == MeasureSpec.UNSPECIFIED) width
      else minOf(width, height)
    val spec = MeasureSpec.makeMeasureSpec(side, MeasureSpec.EXACTLY)
    super.onMeasure(spec, spec)
  }
}
