/** @jest-environment node */
// Pure helpers: money (integer fen, no floats), chart data, plausibility.
const money = require('../utils/money')
const chart = require('../utils/chart')
const plaus = require('../utils/plausibility')

test('fen to yuan, exact for every size', () => {
  expect(money.fenToYuan(0)).toBe('0.00')
  expect(money.fenToYuan(5)).toBe('0.05')
  expect(money.fenToYuan(10)).toBe('0.10')
  expect(money.fenToYuan(12345)).toBe('123.45')
  expect(money.fenToYuan(-5)).toBe('-0.05')
  expect(money.fenToYuan('900719925474099312')).toBe('9007199254740993.12') // beyond doubles
  expect(money.fenToYuan(Number.MAX_SAFE_INTEGER)).toBe('90071992547409.91')
  expect(money.formatYuan(-12000)).toBe('-¥120.00')
  expect(money.formatYuan(199)).toBe('¥1.99')
  expect(() => money.fenToYuan(1.5)).toThrow()
  expect(() => money.fenToYuan('12.3')).toThrow()
})

test('unit prices in hao and quantities in milli', () => {
  expect(money.haoToYuan(5880)).toBe('0.588')
  expect(money.haoToYuan(10000)).toBe('1.00')
  expect(money.haoToYuan(5)).toBe('0.0005')
  expect(money.haoToYuan(35000)).toBe('3.50')
  expect(money.milliToQty(123456)).toBe('123.456')
  expect(money.milliToQty(1000)).toBe('1')
  expect(money.milliToQty(80250)).toBe('80.25')
  expect(money.milliToQty(0)).toBe('0')
})

test('typed yuan to fen', () => {
  expect(money.yuanToFen('12')).toBe(1200)
  expect(money.yuanToFen('12.5')).toBe(1250)
  expect(money.yuanToFen(' 0.07 ')).toBe(7)
  expect(money.yuanToFen('0.1')).toBe(10)
  expect(money.yuanToFen('19.99')).toBe(1999) // 19.99 * 100 is 1998.9999999999998 in floats
  for (const bad of ['', '1.234', '-1', '1e3', 'abc', '1.', null]) expect(money.yuanToFen(bad)).toBeNull()
})

test('usage answers normalised, totals and month comparison', () => {
  const pts = chart.normalizeUsage({ items: [{ day: '2026-10-30', wh: 3000 }, { day: '2026-11-01', wh: 4500 }, { date: '2026-11-02', qty_milli: 5500 }, { day: '2026-11-03', wh: null }] })
  expect(pts).toEqual([{ label: '2026-10-30', value: 3000 }, { label: '2026-11-01', value: 4500 }, { label: '2026-11-02', value: 5500 }, { label: '2026-11-03', value: 0 }])
  expect(chart.total(pts, '2026-11')).toBe(10000)
  expect(chart.compare(10000, 8000)).toEqual({ thisText: '10', lastText: '8', changePct: 25 })
  expect(chart.compare(10000, 0).changePct).toBeNull()
  expect(chart.shortLabel('2026-03')).toBe('3月')
  expect(chart.computeBars([]).bars).toEqual([])
  expect(chart.computeBars([{ label: 'a', value: 0 }]).bars[0].h).toBe(0)
})

test('plausibility: backwards, far above usual, zero, fine', () => {
  expect(plaus.parseReading('12345.6')).toBe(12345600)
  expect(plaus.parseReading('12345.6789')).toBeNull()
  expect(plaus.parseReading('-3')).toBeNull()
  const base = { last_milli: 12000000, usual_delta_milli: 150000 }
  expect(plaus.check({ ...base, value_milli: 11990000 })).toMatchObject({ level: 'warn', kind: 'backwards', delta_milli: -10000 })
  expect(plaus.check({ ...base, value_milli: 11990000 }).message).toMatch(/小于上次读数/)
  expect(plaus.check({ ...base, value_milli: 12150000 })).toMatchObject({ level: 'ok', delta_milli: 150000 })
  expect(plaus.check({ ...base, value_milli: 12450000 })).toMatchObject({ level: 'ok' }) // exactly 3x
  expect(plaus.check({ ...base, value_milli: 12450001 })).toMatchObject({ level: 'warn', kind: 'high' })
  expect(plaus.check({ ...base, value_milli: 13500000 }).message).toMatch(/约为10倍/)
  expect(plaus.check({ ...base, value_milli: 12000000 })).toMatchObject({ level: 'warn', kind: 'zero' })
  expect(plaus.check({ ...base, value_milli: NaN })).toMatchObject({ level: 'error', kind: 'invalid' })
  expect(plaus.check({ last_milli: null, value_milli: 5 })).toMatchObject({ level: 'ok', kind: 'first' })
  // no usual figure: only backwards and zero can be judged
  expect(plaus.check({ last_milli: 100, value_milli: 999999999 })).toMatchObject({ level: 'ok' })
  // a dial that rolled over
  expect(plaus.check({ last_milli: 99990000, value_milli: 20000, dial_max_milli: 99999999 }).message).toMatch(/归零/)
})
