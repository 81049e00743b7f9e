// Usage series -> bar geometry, kept pure so tests check what the canvas draws.
const money = require('./money')

// The usage route's answer (GET /api/v1/houses/{id}/usage: `points` of
// {date | month, usage_wh | usage_l, has_data}) -> [{label, value}] with value
// an integer (Wh or L). Also takes `items` or a bare array, and day/period,
// wh/l/qty_milli/value keys, to survive small changes of the answer.
function normalizeUsage(body) {
  const items = Array.isArray(body) ? body : (body && (body.points || body.items || body.series)) || []
  return items.map(it => {
    const label = it.date || it.month || it.day || it.period || ''
    let v = [it.usage_wh, it.usage_l, it.qty_milli, it.wh, it.l, it.value].find(x => x !== undefined && x !== null)
    v = Number(v)
    return { label: String(label), value: Number.isSafeInteger(v) && v > 0 ? v : 0 }
  })
}

// Short axis label: '2026-11-05' -> '5', '2026-11' -> '11月'
function shortLabel(label) {
  let m = /^\d{4}-(\d{2})-(\d{2})$/.exec(label)
  if (m) return String(Number(m[2]))
  m = /^\d{4}-(\d{2})$/.exec(label)
  if (m) return Number(m[1]) + '月'
  return label
}

// Bars inside a width x height box: the tallest bar fills the plot height.
function computeBars(points, { width = 320, height = 180, padTop = 16, padBottom = 24, gap = 4 } = {}) {
  const pts = points || []
  const max = pts.reduce((m, p) => Math.max(m, p.value), 0)
  const plotH = height - padTop - padBottom
  const slot = pts.length ? width / pts.length : width
  const w = Math.max(1, slot - gap)
  const bars = pts.map((p, i) => {
    const h = max ? Math.round((p.value * plotH) / max) : 0
    return { x: Math.round(i * slot + gap / 2), y: padTop + plotH - h, w: Math.round(w), h, label: shortLabel(p.label), valueText: money.milliToQty(p.value) }
  })
  return { max, maxText: money.milliToQty(max), bars, baseline: padTop + plotH }
}

// Sum of values whose label starts with prefix ('2026-11').
function total(points, prefix) {
  return (points || []).filter(p => !prefix || p.label.startsWith(prefix)).reduce((s, p) => s + p.value, 0)
}

// This month vs last month: {thisText, lastText, changePct (integer, null when last is 0)}
function compare(thisValue, lastValue) {
  return {
    thisText: money.milliToQty(thisValue),
    lastText: money.milliToQty(lastValue),
    changePct: lastValue > 0 ? Math.round(((thisValue - lastValue) * 100) / lastValue) : null
  }
}

module.exports = { normalizeUsage, computeBars, total, compare, shortLabel }
