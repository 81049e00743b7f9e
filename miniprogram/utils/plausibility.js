// Is a meter reading the reader typed plausible? Pure; integers only.
// Readings are in thousandths of the register unit (kWh or m³): *_milli.

// '12345.6' -> 12345600; more than 3 decimals, signs or letters -> null
function parseReading(text) {
  const m = /^\s*(\d{1,12})(?:\.(\d{1,3}))?\s*$/.exec(String(text == null ? '' : text))
  if (!m) return null
  return Number(m[1]) * 1000 + Number((m[2] || '').padEnd(3, '0'))
}

// check({value_milli, last_milli, usual_delta_milli, high_factor = 3, dial_max_milli})
// -> {level: 'ok' | 'warn' | 'error', kind, message, delta_milli}
// * 'backwards': below the last reading (a misread, or a replaced/rolled-over meter)
// * 'high': the increase is more than high_factor times the usual increase
// * 'zero': no consumption at all since the last reading
function check({ value_milli, last_milli, usual_delta_milli, high_factor = 3, dial_max_milli }) {
  if (!Number.isSafeInteger(value_milli) || value_milli < 0) return { level: 'error', kind: 'invalid', message: '请输入正确的读数（最多三位小数）' }
  if (last_milli === null || last_milli === undefined) return { level: 'ok', kind: 'first', message: '', delta_milli: null }
  const delta = value_milli - last_milli
  if (delta < 0) {
    const roll = dial_max_milli && last_milli > dial_max_milli * 0.9 && value_milli < dial_max_milli * 0.1
    return { level: 'warn', kind: 'backwards', delta_milli: delta,
      message: roll ? '读数小于上次读数，可能是表盘走满归零，请核对' : '读数小于上次读数，请核对表盘，或确认是否已换表' }
  }
  if (delta === 0) return { level: 'warn', kind: 'zero', delta_milli: 0, message: '本次用量为0，请确认表计是否正常' }
  if (usual_delta_milli > 0 && delta > usual_delta_milli * high_factor) {
    return { level: 'warn', kind: 'high', delta_milli: delta, message: '本次用量远高于平常（约为' + Math.round(delta / usual_delta_milli) + '倍），请核对' }
  }
  return { level: 'ok', kind: 'ok', delta_milli: delta, message: '' }
}

module.exports = { parseReading, check }
