// Money and quantity formatting without floating point. The API sends money as
// integer fen (*_fen), unit prices in 0.0001 yuan (*_hao) and quantities in
// thousandths (*_milli); everything here works on the integer digits as
// strings, so no value is ever rounded by a float.

function digits(v) {
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new TypeError('not an integer: ' + v)
    return String(v)
  }
  if (typeof v === 'bigint') return v.toString()
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return v
  throw new TypeError('not an integer: ' + v)
}

// scaled(12345, 2) -> '123.45'; scaled(-5, 2) -> '-0.05'
function scaled(v, places) {
  let s = digits(v)
  let neg = false
  if (s[0] === '-') { neg = true; s = s.slice(1) }
  s = s.replace(/^0+(?=\d)/, '')
  if (s.length <= places) s = '0'.repeat(places - s.length + 1) + s
  const out = s.slice(0, s.length - places) + (places ? '.' + s.slice(s.length - places) : '')
  return (neg && /[1-9]/.test(s) ? '-' : '') + out
}

// Trailing zeros after the point dropped, keeping at least `keep` decimals.
function trim(str, keep) {
  const dot = str.indexOf('.')
  if (dot < 0) return str
  let end = str.length
  while (end > dot + 1 + keep && str[end - 1] === '0') end--
  if (end === dot + 1) end = dot
  return str.slice(0, end)
}

// 12345 -> '123.45'
function fenToYuan(fen) { return scaled(fen, 2) }

// 12345 -> '¥123.45'; -500 -> '-¥5.00'
function formatYuan(fen) {
  const s = fenToYuan(fen)
  return s[0] === '-' ? '-¥' + s.slice(1) : '¥' + s
}

// Unit price: 5880 hao -> '0.588'; 10000 -> '1.00'
function haoToYuan(hao) { return trim(scaled(hao, 4), 2) }

// Quantity: 123456 milli -> '123.456'; 1000 -> '1'
function milliToQty(milli) { return trim(scaled(milli, 3), 0) }

// What a resident types: '12', '12.5', '12.50' -> integer fen; anything else
// (more than 2 decimals, signs, letters, empty) -> null.
function yuanToFen(text) {
  const m = /^\s*(\d{1,9})(?:\.(\d{1,2}))?\s*$/.exec(String(text == null ? '' : text))
  if (!m) return null
  return Number(m[1]) * 100 + Number((m[2] || '').padEnd(2, '0'))
}

module.exports = { fenToYuan, formatYuan, haoToYuan, milliToQty, yuanToFen, scaled }
