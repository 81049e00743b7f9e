/** @jest-environment node */
// Pages on resident routes other helpers are adding (usage, payments,
// receipts, notices, tickets). While a route answers 404 "接口不存在" the page
// must show "功能即将上线" with no error toast (tested now, against the real
// stack); the page's own test runs once the route is merged, and is skipped
// with a printed reason until then.
const path = require('path')
const { createWx, loadPage } = require('./helpers/wx-harness')
const stack = require('./helpers/stack')

const ROOT = path.join(__dirname, '..')
const uniq = 'u' + Date.now().toString(36) + process.pid
let seed, wx, carried

const ROUTES = {
  usage: ['GET', '/api/v1/houses/1/usage'],
  payments: ['GET', '/api/v1/houses/1/payments'],
  receipt: ['GET', '/api/v1/payments/1/receipt'],
  notices: ['GET', '/api/v1/notices'],
  tickets: ['GET', '/api/v1/tickets'],
  ticketCreate: ['POST', '/api/v1/tickets']
}
const have = {}
for (const [k, [m, p]] of Object.entries(ROUTES)) {
  have[k] = stack.hasRouteSync(m, p)
  if (!have[k]) console.log(`skipping the ${k} page test: ${m} ${p} answers 404 接口不存在 (route not merged yet)`)
}
const when = k => (have[k] ? test : test.skip)
const whenMissing = k => (have[k] ? test.skip : test)

function page(p, q) {
  const pg = loadPage(ROOT, p, { wx, globalData: { baseUrl: stack.URL } })
  return pg
}

beforeAll(async () => {
  stack.requireStack()
  seed = stack.seedHouse({ uniq, owner: { name: '赵住户', mobile: '13700005678' } })
  // a resident bound by owner name + last 4 digits with building and room
  wx = createWx({ target: stack.URL, wxsim: stack.WXSIM, name: 'mpup', uniq })
  const login = page('pages/login/index')
  await login.onLoad({})
  login.setData({ mode: 'owner', form: { owner_name: '赵住户', phone_last4: '5678', building_id: String(seed.buildingId), unit_no: '1', room: '301', binding_code: '' } })
  await login.onBind()
  if (!login.data.bound) throw new Error('binding by owner failed: ' + login.data.error)
  carried = wx.storage
})

beforeEach(() => {
  wx = createWx({ target: stack.URL, wxsim: stack.WXSIM, name: 'mpup', uniq })
  for (const [k, v] of carried) wx.storage.set(k, v)
})

const CASES = [
  ['usage', 'pages/usage/index', p => p.onShow()],
  ['payments', 'pages/payments/index', p => p.onShow()],
  ['receipt', 'pages/receipt/index', p => p.onLoad({ id: '1' })],
  ['notices', 'pages/notices/index', p => p.onShow()],
  ['tickets', 'pages/tickets/index', p => p.onShow()]
]
for (const [k, pagePath, open] of CASES) {
  whenMissing(k)(`${k}: route missing -> 功能即将上线, no error toast`, async () => {
    const p = page(pagePath)
    await open(p)
    expect(p.data.notReady).toBe(true)
    expect(p.data.error).toBe('')
    expect(wx.calls.showToast).toHaveLength(0)
  })
}

whenMissing('ticketCreate')('ticket: route missing -> 功能即将上线 after submit', async () => {
  const p = page('pages/ticket-new/index')
  p.onContent({ detail: { value: '3号楼走廊灯不亮，已经两天了' } })
  await p.onPhoto()
  expect(p.data.photos).toEqual(['wxfile://tmp/photo1.jpg'])
  await p.onSubmit()
  expect(p.data.notReady).toBe(true)
  expect(p.data.done).toBe(false)
})

test('ticket: a too-short description is refused before sending', async () => {
  const p = page('pages/ticket-new/index')
  p.onContent({ detail: { value: '灯坏' } })
  await p.onSubmit()
  expect(p.data.error).toBe('请至少填写5个字的描述')
  expect(wx.calls.request.filter(r => r.url.includes('/tickets'))).toHaveLength(0)
})

when('usage')('usage: daily electricity of this month as bars', async () => {
  const p = page('pages/usage/index')
  await p.onShow()
  expect(p.data.notReady).toBe(false)
  expect(p.data.error).toBe('')
  expect(Array.isArray(p.data.points)).toBe(true)
  const q = wx.calls.request.find(r => r.url.includes('/usage'))
  expect(q.data).toMatchObject({ utility: 'electric', granularity: 'day' })
})

when('payments')('payments: the list loads', async () => {
  const p = page('pages/payments/index')
  await p.onShow()
  expect(p.data.notReady).toBe(false)
  expect(p.data.error).toBe('')
  expect(Array.isArray(p.data.items)).toBe(true)
})

when('notices')('notices: the list loads', async () => {
  const p = page('pages/notices/index')
  await p.onShow()
  expect(p.data.notReady).toBe(false)
  expect(p.data.error).toBe('')
})

when('ticketCreate')('tickets: a repair request is created and listed', async () => {
  const n = page('pages/ticket-new/index')
  n.onContent({ detail: { value: '厨房水龙头漏水 ' + uniq } })
  await n.onSubmit()
  expect(n.data.error).toBe('')
  expect(n.data.done).toBe(true)
  const l = page('pages/tickets/index')
  await l.onShow()
  expect(l.data.items.length).toBeGreaterThan(0)
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
})
