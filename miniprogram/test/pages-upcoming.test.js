/** @jest-environment node */
// Pages on resident routes added by another area (meters, readings, usage,
// payments, receipts, ledger, notices, tickets; docs/resident-api.md on that
// branch). While a route answers 404 "接口不存在" the page must show
// "功能即将上线" with no error toast (tested now, against the real stack);
// the page's own test runs once the route is merged, and is skipped with a
// printed reason until then. Forecast has no route anywhere yet: home simply
// shows no card (checked in resident-flow's home test by its absence of errors).
const path = require('path')
const { createWx, loadPage } = require('./helpers/wx-harness')
const stack = require('./helpers/stack')

const ROOT = path.join(__dirname, '..')
const uniq = 'u' + Date.now().toString(36) + process.pid
let seed, wx, carried, meterId, paidNo

const ROUTES = {
  meters: ['GET', '/api/v1/houses/1/meters'],
  readings: ['GET', '/api/v1/meters/1/readings'],
  usage: ['GET', '/api/v1/houses/1/usage'],
  payments: ['GET', '/api/v1/houses/1/payments'],
  receipt: ['GET', '/api/v1/payments/1/receipt'],
  ledger: ['GET', '/api/v1/houses/1/ledger'],
  notices: ['GET', '/api/v1/notices'],
  tickets: ['GET', '/api/v1/tickets'],
  ticketCreate: ['POST', '/api/v1/tickets'],
  forecast: ['GET', '/api/v1/houses/1/forecast'],
  readerRoute: ['GET', '/api/v1/reader/route'],
  readerReadings: ['POST', '/api/v1/reader/readings']
}
const have = {}
for (const [k, [m, p]] of Object.entries(ROUTES)) {
  have[k] = stack.hasRouteSync(m, p)
  if (have[k]) continue
  if (k.startsWith('reader')) process.stdout.write(`reader mode tested client side only: ${m} ${p} answers 404 接口不存在 (no server route)\n`)
  else process.stdout.write(`skipping the ${k} page test: ${m} ${p} answers 404 接口不存在 (route not merged yet)\n`)
}
// The routes are on main now: a missing one is a failure, not a skip.
test('every resident and reader route the pages use exists', () => {
  expect(Object.keys(have).filter(k => !have[k])).toEqual([])
})
const when = () => test

const page = (p, extra) => loadPage(ROOT, p, { wx, globalData: { baseUrl: stack.URL, pollIntervalMs: 50, ...extra } })
const ymd = d => d.toISOString().slice(0, 10)

beforeAll(async () => {
  stack.requireStack()
  seed = stack.seedHouse({ uniq, owner: { name: '赵住户', mobile: '13700005678' },
    bills: [{ period: '2026-10', utility: 'electric', amount_fen: 12345, lines: [{ kind: 'energy', label_zh: '电费', qty_milli: 209949, unit_price_hao: 5880, amount_fen: 12345 }] }] })
  wx = createWx({ target: stack.URL, wxsim: stack.WXSIM, name: 'mpup', uniq })
  // daily usage: this month's first day and last month's 15th, in the page's own range
  const r = page('pages/usage/index').range('day')
  const now = new Date()
  meterId = stack.addMeter(seed.communityId, seed.houseId, 'MP' + uniq,
    [{ read_at: ymd(new Date(now - 86400000)) + ' 01:00:00', value: 1200000 }, { read_at: ymd(now) + ' 00:30:00', value: 1204500 }],
    [{ day: r.thisPrefix + '-01', usage_wh: 4500 }, { day: r.lastPrefix + '-15', usage_wh: 3000 }])

  // bind by owner name + last 4 digits with building and room
  const login = page('pages/login/index')
  await login.onLoad({})
  login.setData({ mode: 'owner', form: { owner_name: '赵住户', phone_last4: '5678', building_id: String(seed.buildingId), unit_no: '1', room: '301', binding_code: '' } })
  await login.onBind()
  if (!login.data.bound) throw new Error('binding by owner failed: ' + login.data.error)
  // pay the bill, so there is a payment, a receipt and ledger entries
  const pay = page('pages/pay/index')
  await pay.onLoad({ house_id: String(seed.houseId), bill_ids: String(seed.billIds[0]) })
  await pay.pay()
  if (pay.data.state !== 'paid') throw new Error('paying failed: ' + pay.data.state + ' ' + pay.data.error)
  paidNo = pay.data.outTradeNo
  carried = wx.storage
})

beforeEach(() => {
  wx = createWx({ target: stack.URL, wxsim: stack.WXSIM, name: 'mpup', uniq })
  for (const [k, v] of carried) wx.storage.set(k, v)
})

when('forecast')('home: the forecast card from the real forecast route', async () => {
  const p = page('pages/home/index')
  await p.onShow()
  expect(p.data.error).toBe('')
  const r = page('pages/usage/index').range('day')
  // one complete month of history (last month: 3000 Wh) -> the mean, 3 kWh
  expect(p.data.forecast).toEqual({ label: Number(r.thisPrefix.slice(0, 4)) + '年' + Number(r.thisPrefix.slice(5)) + '月预计用电', amountText: '3 度', usedText: '已用 4.5 度' })
})

test('ticket: a too-short description is refused before sending', async () => {
  const p = page('pages/ticket-new/index')
  p.onContent({ detail: { value: '灯坏' } })
  await p.onSubmit()
  expect(p.data.error).toBe('请至少填写5个字的描述')
  expect(wx.calls.request.filter(r => r.url.includes('/tickets'))).toHaveLength(0)
})

when('meters')('meters: the smart meter with its latest reading', async () => {
  const p = page('pages/meters/index')
  await p.onShow()
  expect(p.data.error).toBe('')
  expect(p.data.items.map(m => m.id)).toEqual([meterId])
  expect(p.data.items[0].title).toBe('电表 MP' + uniq)
  expect(p.data.items[0].readingText).toMatch(/^1204\.5\d* kWh$/)
})

when('readings')('readings: the meter\'s last 30 days, newest first', async () => {
  const p = page('pages/readings/index')
  await p.onLoad({ meter_id: String(meterId) })
  expect(p.data.error).toBe('')
  expect(p.data.items.map(r => r.valueText)).toEqual(['1204.5', '1200'])
  expect(p.data.items[0].sourceText).toBe('自动采集')
})

when('usage')('usage: daily electricity of this month as bars, vs last month', async () => {
  const p = page('pages/usage/index')
  await p.onShow()
  expect(p.data.notReady).toBe(false)
  expect(p.data.error).toBe('')
  const q = wx.calls.request.find(r => r.url.includes('/usage'))
  expect(q.data).toMatchObject({ utility: 'electric', granularity: 'day' })
  const r = p.range('day')
  expect(p.data.points.every(x => x.label.startsWith(r.thisPrefix))).toBe(true)
  expect(p.data.points.find(x => x.label === r.thisPrefix + '-01').value).toBe(4500)
  expect(p.data.compare).toEqual({ thisText: '4.5', lastText: '3', changePct: 50 })
  await p.onGranularity({ currentTarget: { dataset: { v: 'month' } } })
  expect(p.data.error).toBe('')
  expect(p.data.points.find(x => x.label === r.thisPrefix).value).toBe(4500)
  expect(p.data.points.find(x => x.label === r.lastPrefix).value).toBe(3000)
  expect(p.data.points).toHaveLength(12)
})

when('payments')('payments: the WeChat payment of the bill', async () => {
  const p = page('pages/payments/index')
  await p.onShow()
  expect(p.data.error).toBe('')
  expect(p.data.items).toHaveLength(1)
  expect(p.data.items[0]).toMatchObject({ amountText: '¥123.45', channelText: '微信支付', purposeText: '2026年10月电费' })
})

when('receipt')('receipt: items add up, amount in 大写', async () => {
  const l = page('pages/payments/index')
  await l.onShow()
  const p = page('pages/receipt/index')
  await p.onLoad({ id: String(l.data.items[0].id) })
  expect(p.data.error).toBe('')
  expect(p.data.receipt.totalText).toBe('¥123.45')
  expect(p.data.receipt.totalUpper).toBe('壹佰贰拾叁元肆角伍分')
  expect(p.data.receipt.lines.map(x => [x.label, x.amountText])).toEqual([['2026年10月电费', '¥123.45']])
  expect(p.data.receipt.address).toContain('301')
})

when('ledger')('ledger: the payment in, the bill settled out', async () => {
  const p = page('pages/ledger/index')
  await p.onShow()
  expect(p.data.error).toBe('')
  expect(p.data.balanceText).toBe('¥0.00')
  expect(p.data.items.map(e => e.amountText).sort()).toEqual(['+¥123.45', '-¥123.45'])
})

when('notices')('notices: a published notice is listed and opens', async () => {
  const title = '停水通知' + uniq
  const c = await stack.staffPost('/admin/api/v1/notices', { community_id: seed.communityId, title, body: '12月5日9:00-12:00停水检修。' })
  expect(c.status).toBe(201)
  expect((await stack.staffPost('/admin/api/v1/notices/' + c.body.id + '/publish')).status).toBe(200)
  const p = page('pages/notices/index')
  await p.onShow()
  expect(p.data.error).toBe('')
  const n = p.data.items.find(x => x.title === title)
  expect(n).toBeTruthy()
  const d = page('pages/notice-detail/index')
  await d.onLoad({ id: String(n.id) })
  expect(d.data.notice.body).toBe('12月5日9:00-12:00停水检修。')
})

when('ticketCreate')('tickets: a repair request is created and listed', async () => {
  const n = page('pages/ticket-new/index')
  const text = '厨房水龙头漏水，' + uniq + ' 室内'
  n.onContent({ detail: { value: text } })
  await n.onSubmit()
  expect(n.data.error).toBe('')
  expect(n.data.done).toBe(true)
  const l = page('pages/tickets/index')
  await l.onShow()
  // no title typed: the first 20 characters of the description
  expect(l.data.items[0]).toMatchObject({ title: '报修 · ' + Array.from(text).slice(0, 20).join(''), statusText: '待处理' })
})

test('settings: subscribe to reminders, then unbind the house', async () => {
  const s = page('pages/settings/index')
  s.onShow()
  expect(s.data.houseId).toBe(seed.houseId)
  await s.subscribe()
  expect(wx.calls.subscribe[0].tmplIds).toContain('XQ-BILL-DUE-REMINDER-DEMO-TEMPLATE-0000001')
  expect(s.data.subscribed).toMatch(/^已订阅 2 项/)
  expect(await s.onUnbind()).toBe(true)
  expect(wx.calls.reLaunch).toContain('/pages/home/index')
  const home = page('pages/home/index')
  await home.onShow()
  expect(home.data.needBind).toBe(true)
  const [[status]] = stack.sql(`SELECT status FROM wx_binding WHERE house_id = ${seed.houseId}`)
  expect(status).toBe('revoked')
  expect(paidNo).toMatch(/^XQ/)
})
