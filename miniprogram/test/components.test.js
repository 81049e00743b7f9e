// Components rendered by miniprogram-simulate (j-component): bill list,
// bill line, bar chart.
const path = require('path')
const simulate = require('miniprogram-simulate')

const C = n => path.join(__dirname, '../components', n, 'index')
let listId, lineId, chartId
beforeAll(() => {
  listId = simulate.load(C('bill-list'), 'bill-list', { compiler: 'simulate' })
  lineId = simulate.load(C('bill-line'), 'bill-line', { compiler: 'simulate' })
  chartId = simulate.load(C('bar-chart'), 'bar-chart', { compiler: 'simulate' })
})

const bills = [
  { id: 11, period: '2026-10', utility: 'electric', status: 'issued', amount_fen: 15731, late_fee_fen: 0, unpaid_fen: 15731 },
  { id: 12, period: '2026-10', utility: 'water', status: 'issued', amount_fen: 4200, late_fee_fen: 0, unpaid_fen: 4200 },
  { id: 13, period: '2026-09', utility: 'electric', status: 'paid', amount_fen: 8800, late_fee_fen: 25, unpaid_fen: 0 }
]

test('bill list: rows, status, selection total, events', async () => {
  const comp = simulate.render(listId, { items: bills, selectable: true, selected: [11, 12] })
  comp.attach(document.createElement('parent-wrapper'))
  const titles = comp.querySelectorAll('.title').map(t => t.dom.textContent)
  expect(titles).toEqual(['2026年10月 电费', '2026年10月 水费', '2026年9月 电费'])
  expect(comp.querySelectorAll('.amount').map(t => t.dom.textContent)).toEqual(['¥157.31', '¥42.00', '¥88.25'])
  expect(comp.querySelectorAll('.status').map(t => t.dom.textContent)).toEqual(['待缴费', '待缴费', '已缴清'])
  expect(comp.querySelector('.total').dom.textContent).toBe('合计 ¥199.31')
  // a paid bill has no check box
  expect(comp.querySelectorAll('.check')).toHaveLength(2)

  const onSelect = jest.fn()
  const onToggle = jest.fn()
  comp.addEventListener('select', onSelect)
  comp.addEventListener('toggle', onToggle)
  comp.querySelectorAll('.main')[2].dispatchEvent('tap')
  comp.querySelectorAll('.check')[1].dispatchEvent('tap')
  await simulate.sleep(0)
  expect(onSelect.mock.calls[0][0].detail).toEqual({ id: 13, item: bills[2] })
  expect(onToggle.mock.calls[0][0].detail).toEqual({ id: 12, selected: false })

  comp.setData({ selected: [12] })
  expect(comp.querySelector('.total').dom.textContent).toBe('合计 ¥42.00')
  comp.setData({ items: [] })
  expect(comp.querySelector('.empty').dom.textContent).toBe('暂无账单')
  expect(comp.querySelector('.total').dom.textContent).toBe('合计 ¥0.00')
})

test('bill line: label, formula with unit, amount', () => {
  const comp = simulate.render(lineId, { line: { label_zh: '第二档 峰时电量', kind: 'energy', tier: 2, tou_window: 'peak', qty_milli: 80250, unit_price_hao: 6380, amount_fen: 5120, utility: 'electric' } })
  comp.attach(document.createElement('parent-wrapper'))
  expect(comp.querySelector('.label').dom.textContent).toBe('第二档 峰时电量')
  expect(comp.querySelector('.amount').dom.textContent).toBe('¥51.20')
  expect(comp.querySelector('.detail').dom.textContent).toBe('第2档 · 峰时')
  expect(comp.querySelector('.formula').dom.textContent).toBe('80.25度 × ¥0.638/度')
  comp.setData({ line: { label_zh: '水资源费', kind: 'component', component: 'resource', qty_milli: 12000, unit_price_hao: 2500, amount_fen: 300, utility: 'water' } })
  expect(comp.querySelector('.formula').dom.textContent).toBe('12吨 × ¥0.25/吨')
  expect(comp.querySelector('.detail')).toBeFalsy() // 水资源费 is already the label
  comp.setData({ line: { label_zh: '第一档', kind: 'component', tier: 1, component: 'sewage', qty_milli: 5000, unit_price_hao: 9500, amount_fen: 475, utility: 'water' } })
  expect(comp.querySelector('.detail').dom.textContent).toBe('第1档 · 污水处理费')
  comp.setData({ line: { label_zh: '公摊照明', kind: 'fixed', qty_milli: null, unit_price_hao: null, amount_fen: 27 } })
  expect(comp.querySelector('.formula')).toBeFalsy()
  expect(comp.querySelector('.amount').dom.textContent).toBe('¥0.27')
})

test('bar chart: computed bars scale to the tallest, empty state', () => {
  const points = [{ label: '2026-11-01', value: 5000 }, { label: '2026-11-02', value: 10000 }, { label: '2026-11-03', value: 2500 }]
  const comp = simulate.render(chartId, { points, unit: '度', width: 300, height: 140 })
  comp.attach(document.createElement('parent-wrapper'))
  const c = comp.instance.data.chart
  expect(c.max).toBe(10000)
  expect(c.bars.map(b => b.h)).toEqual([50, 100, 25]) // plot height 140 - 16 - 24
  expect(c.bars.map(b => b.y + b.h)).toEqual([116, 116, 116])
  expect(c.bars.map(b => b.x)).toEqual([2, 102, 202])
  expect(c.bars.map(b => b.label)).toEqual(['1', '2', '3'])
  expect(comp.querySelector('.max').dom.textContent).toBe('最高 10度')
  comp.setData({ points: [] })
  expect(comp.querySelector('.empty').dom.textContent).toBe('暂无用量数据')
})
