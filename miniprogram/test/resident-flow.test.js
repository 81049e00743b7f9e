/** @jest-environment node */
// The resident's journey through the real page code against the real local
// stack (nginx, xq-api, MariaDB, xq-wxsim): login -> bind with a staff-issued
// code -> home -> bills -> detail -> pay via the WeChat imitation -> the bill
// shown as paid; a lost order-query answer mid-pay; a lost network across the
// whole confirmation, recovered on return; cancel; top-up; 401 re-login;
// Chinese toasts from API errors.
const path = require('path')
const { createWx, loadPage } = require('./helpers/wx-harness')
const stack = require('./helpers/stack')

const ROOT = path.join(__dirname, '..')
const uniq = Date.now().toString(36) + process.pid
const fast = { pollIntervalMs: 50 }
let seed, wx

function page(p, extra) {
  const pg = loadPage(ROOT, p, { wx, globalData: { baseUrl: stack.URL, ...extra } })
  return pg
}

beforeAll(() => {
  stack.requireStack()
  seed = stack.seedHouse({
    uniq,
    bills: [
      { period: '2026-10', utility: 'electric', amount_fen: 15731, lines: [
        { kind: 'energy', tier: 1, label_zh: '第一档电量', qty_milli: 180000, unit_price_hao: 5880, amount_fen: 10584 },
        { kind: 'energy', tier: 2, label_zh: '第二档电量', qty_milli: 80250, unit_price_hao: 6380, amount_fen: 5120 },
        { kind: 'fixed', label_zh: '公摊照明', amount_fen: 27 }] },
      { period: '2026-10', utility: 'water', amount_fen: 4200, lines: [
        { kind: 'component', label_zh: '自来水费', qty_milli: 12000, unit_price_hao: 35000, amount_fen: 4200 }] },
      { period: '2026-11', utility: 'electric', amount_fen: 999, lines: [
        { kind: 'energy', label_zh: '电费', qty_milli: 1700, unit_price_hao: 5880, amount_fen: 100 }] }
    ]
  })
})

beforeEach(() => { wx = createWx({ target: stack.URL, wxsim: stack.WXSIM, name: 'mpres', uniq }) })

// One resident across the tests: storage (token, house) is carried over by hand.
let carried
afterEach(() => { carried = wx.storage })
function resume() { if (carried) for (const [k, v] of carried) wx.storage.set(k, v) }

test('login, then a wrong binding code shows the API\'s Chinese message', async () => {
  const login = page('pages/login/index')
  await login.onLoad({})
  expect(login.data.loggedIn).toBe(true)
  expect(wx.calls.login).toHaveLength(1)
  expect(wx.storage.get('xq_token')).toMatch(/^[0-9a-f]{64}$/)
  login.setData({ 'form.binding_code': 'ZZZZ2222' })
  await login.onBind()
  expect(login.data.bound).toBe(false)
  const toast = wx.calls.showToast.at(-1)
  expect(toast.title).toMatch(/[\u4e00-\u9fa5]/)
  expect(toast.title).toBe(login.data.error)
  expect(toast.title).not.toMatch(/INVALID|error/i)
})

test('bind with a code the staff issued, then home shows the amount due', async () => {
  resume()
  const code = await stack.staffBindingCode(seed.houseId)
  const login = page('pages/login/index')
  await login.onLoad({})
  login.onInput({ currentTarget: { dataset: { field: 'binding_code' } }, detail: { value: code.toLowerCase() } })
  await login.onBind()
  expect(login.data.error).toBe('')
  expect(login.data.bound).toBe(true)
  expect(wx.calls.reLaunch).toContain('/pages/home/index')
  expect(wx.storage.get('xq_house_id')).toBe(seed.houseId)

  const home = page('pages/home/index')
  await home.onShow()
  expect(home.data.error).toBe('')
  expect(home.data.current.id).toBe(seed.houseId)
  expect(home.data.current.arrearsText).toBe('¥209.30') // 157.31 + 42.00 + 9.99
  expect(home.data.current.balanceText).toBe('¥0.00')
  expect(home.data.alerts.map(a => a.kind)).toEqual(expect.arrayContaining(['due', 'low']))
  expect(home.data.latest.title).toBe('2026年11月 电费')
})

test('bills list and a bill explained line by line', async () => {
  resume()
  const bills = page('pages/bills/index')
  await bills.onLoad({ status: 'issued' })
  expect(bills.data.bills.map(b => b.id).sort()).toEqual([...seed.billIds].sort())
  expect(bills.data.selected).toHaveLength(3)
  expect(bills.data.totalText).toBe('¥209.30')
  bills.onToggle({ detail: { id: seed.billIds[2], selected: false } })
  expect(bills.data.totalText).toBe('¥199.31')

  const detail = page('pages/bill-detail/index')
  await detail.onLoad({ id: String(seed.billIds[0]) })
  expect(detail.data.bill.amountText).toBe('¥157.31')
  expect(detail.data.bill.statusText).toBe('待缴费')
  const { explain } = require('../utils/lines')
  const lines = detail.data.lines.map(l => explain(l, l.utility))
  expect(lines.map(l => l.label)).toEqual(['第一档电量', '第二档电量', '公摊照明'])
  expect(lines[0].formula).toBe('180度 × ¥0.588/度')
  expect(lines[1].formula).toBe('80.25度 × ¥0.638/度')
  expect(lines[1].detail).toBe('第2档')
  expect(lines.map(l => l.amount)).toEqual(['¥105.84', '¥51.20', '¥0.27'])
  expect(lines[2].formula).toBe('')
})

test('a lost order-query answer mid-pay: the page queries again and sees paid', async () => {
  resume()
  const pay = page('pages/pay/index', fast)
  await pay.onLoad({ house_id: String(seed.houseId), bill_ids: seed.billIds.slice(0, 2).join(',') })
  expect(pay.data.amountText).toBe('¥199.31')
  // the first answer to GET /api/v1/orders/{no} never reaches the phone
  wx.net.dropResponses(({ url, method }) => method === 'GET' && url.pathname.startsWith('/api/v1/orders/'), 1)
  await pay.pay()
  expect(wx.calls.requestPayment).toHaveLength(1)
  const rp = wx.calls.requestPayment[0]
  expect(Object.keys(rp).filter(k => !/^(success|fail|complete)$/.test(k)).sort()).toEqual(['nonceStr', 'package', 'paySign', 'signType', 'timeStamp'])
  expect(rp.package).toMatch(/^prepay_id=/)
  expect(wx.payment.last.status).toBe(200)
  const queries = wx.calls.request.filter(r => r.method === 'GET' && r.url.includes('/api/v1/orders/'))
  expect(queries.length).toBeGreaterThanOrEqual(2)
  expect(pay.data.state).toBe('paid')
  expect(pay.data.message).toBe('支付成功')
  expect(wx.storage.get('xq_pending_orders')).toEqual({})

  // the bills are shown as paid; the third one is still due
  const bills = page('pages/bills/index')
  await bills.onLoad({})
  const byId = Object.fromEntries(bills.data.bills.map(b => [b.id, b]))
  expect(byId[seed.billIds[0]].status).toBe('paid')
  expect(byId[seed.billIds[1]].status).toBe('paid')
  expect(byId[seed.billIds[2]].status).toBe('issued')
  const detail = page('pages/bill-detail/index')
  await detail.onLoad({ id: String(seed.billIds[0]) })
  expect(detail.data.bill.statusText).toBe('已缴清')
  expect(detail.data.bill.unpaidText).toBe('¥0.00')
  // credited exactly once in the database
  const [[n, sum]] = stack.sql(`SELECT COUNT(*), COALESCE(SUM(amount_fen),0) FROM payment WHERE channel='wechat' AND external_ref='${pay.data.outTradeNo}'`)
  expect([Number(n), Number(sum)]).toEqual([1, 19931])
})

test('cancel keeps the bill due; the network lost for the whole confirmation is recovered on return', async () => {
  resume()
  const pay = page('pages/pay/index', { ...fast, pollMaxTries: 3 })
  await pay.onLoad({ house_id: String(seed.houseId), bill_ids: String(seed.billIds[2]) })
  wx.payment.outcome = 'CANCEL'
  await pay.pay()
  expect(pay.data.state).toBe('cancelled')
  expect(pay.data.message).toBe('已取消支付')
  expect(wx.storage.get('xq_pending_orders')).toEqual({})
  const first = pay.data.outTradeNo
  expect(first).toMatch(/^XQ[0-9a-f]{24}$/)

  // second attempt: paid in WeChat, then the phone loses the network
  wx.payment.outcome = 'SUCCESS'
  const realPayment = wx.requestPayment
  wx.requestPayment = o => realPayment({ ...o, success: r => { wx.net.offline = true; o.success(r) } })
  await pay.pay()
  expect(pay.data.outTradeNo).toBe(first) // the same order reused
  expect(pay.data.state).toBe('unknown')
  expect(pay.data.message).toMatch(/待确认/)
  expect(Object.keys(wx.storage.get('xq_pending_orders'))).toEqual([first])

  wx.net.offline = false
  await pay.onShow()
  expect(pay.data.state).toBe('paid')
  expect(wx.storage.get('xq_pending_orders')).toEqual({})
  const [[status]] = stack.sql(`SELECT status FROM bill WHERE id = ${seed.billIds[2]}`)
  expect(status).toBe('paid')
})

test('closed mid-payment: home finds the paid order on the next visit', async () => {
  resume()
  const pay = page('pages/pay/index', { ...fast, pollMaxTries: 2 })
  await pay.onLoad({ house_id: String(seed.houseId), topup_fen: '1234' })
  const realPayment = wx.requestPayment
  wx.requestPayment = o => realPayment({ ...o, success: r => { wx.net.offline = true; o.success(r) } })
  await pay.pay()
  expect(pay.data.state).toBe('unknown')
  const no = pay.data.outTradeNo
  expect(Object.keys(wx.storage.get('xq_pending_orders'))).toEqual([no])
  // offline, home still knows there is something to confirm
  const h1 = page('pages/home/index')
  await h1.onShow()
  expect(h1.data.pendingOrders).toBe(1)
  // back online, a fresh start of the app (new page, same storage)
  wx.net.offline = false
  const h2 = page('pages/home/index')
  await h2.onShow()
  expect(h2.data.pendingOrders).toBe(0)
  expect(wx.storage.get('xq_pending_orders')).toEqual({})
  expect(h2.data.current.balanceText).toBe('¥12.34')
})

test('paying a bill already paid: the API\'s Chinese message as a toast', async () => {
  resume()
  const pay = page('pages/pay/index')
  pay.setData({ houseId: seed.houseId, billIds: [seed.billIds[0]] })
  await pay.pay()
  expect(wx.calls.requestPayment).toHaveLength(0)
  expect(wx.calls.showToast.at(-1).title).toBe('账单已缴清或不可缴费')
  expect(pay.data.state).toBe('ready')
})

test('top-up with a preset amount lands in the balance', async () => {
  resume()
  const topup = page('pages/topup/index')
  topup.onPreset({ currentTarget: { dataset: { fen: topup.data.presets[0].fen } } })
  const url = topup.payUrl()
  expect(url).toBe(`/pages/pay/index?house_id=${seed.houseId}&topup_fen=5000`)
  const q = Object.fromEntries(new URL('http://x' + url).searchParams)
  const pay = page('pages/pay/index', fast)
  await pay.onLoad(q)
  expect(pay.data.amountText).toBe('¥50.00')
  await pay.pay()
  expect(pay.data.state).toBe('paid')
  const home = page('pages/home/index')
  await home.onShow()
  expect(home.data.current.balanceText).toBe('¥62.34')
  expect(home.data.current.arrearsText).toBe('¥0.00')
})

test('an expired session: one re-login, the request repeated', async () => {
  resume()
  wx.storage.set('xq_token', 'f'.repeat(64))
  const home = page('pages/home/index')
  await home.onShow()
  expect(wx.calls.login).toHaveLength(1)
  expect(home.data.error).toBe('')
  expect(home.data.current.id).toBe(seed.houseId)
  expect(wx.storage.get('xq_token')).not.toBe('f'.repeat(64))
  const statuses = wx.calls.request.filter(r => r.url.endsWith('/api/v1/houses'))
  expect(statuses).toHaveLength(2)
  expect(statuses[0].header.Authorization).toBe('Bearer ' + 'f'.repeat(64))
})

test('the server unreachable: a clear Chinese network message', async () => {
  resume()
  const home = loadPage(ROOT, 'pages/home/index', { wx, globalData: { baseUrl: stack.URL } })
  wx.net.offline = true
  await home.onShow()
  expect(home.data.error).toBe('网络连接失败，请检查网络后重试')
  expect(wx.calls.showToast.at(-1).title).toBe('网络连接失败，请检查网络后重试')
})
