// Pages rendered, not just run: the bills page's WXML with the real
// bill-list component, filled by the page's own onLoad from the real stack;
// tapping a row navigates to the bill, ticking one changes the pay bar.
const path = require('path')
const fs = require('fs')
const simulate = require('miniprogram-simulate')
const { createWx, loadPage } = require('./helpers/wx-harness')
const stack = require('./helpers/stack')

const ROOT = path.join(__dirname, '..')
const uniq = 'r' + Date.now().toString(36) + process.pid
let wx, seed, listId

beforeAll(async () => {
  stack.requireStack()
  listId = simulate.load(path.join(ROOT, 'components/bill-list/index'), 'bill-list', { compiler: 'simulate' })
  seed = stack.seedHouse({ uniq, bills: [
    { period: '2026-09', utility: 'water', amount_fen: 3150, lines: [{ kind: 'component', label_zh: '水费', qty_milli: 9000, unit_price_hao: 35000, amount_fen: 3150 }] },
    { period: '2026-10', utility: 'electric', amount_fen: 8820, lines: [{ kind: 'energy', label_zh: '电费', qty_milli: 150000, unit_price_hao: 5880, amount_fen: 8820 }] }] })
  wx = createWx({ target: stack.URL, wxsim: stack.WXSIM, name: 'mprender', uniq })
  const code = await stack.staffBindingCode(seed.houseId)
  const login = loadPage(ROOT, 'pages/login/index', { wx, globalData: { baseUrl: stack.URL } })
  await login.onLoad({})
  login.setData({ 'form.binding_code': code })
  await login.onBind()
  if (!login.data.bound) throw new Error('binding failed: ' + login.data.error)
})

test('bills page renders the bills from the stack; taps reach the page', async () => {
  const opts = loadPage(ROOT, 'pages/bills/index', { wx, globalData: { baseUrl: stack.URL } })
  const methods = Object.fromEntries(Object.entries(opts).filter(([k, v]) => typeof v === 'function' && k !== 'setData'))
  let loaded
  const pageId = simulate.load({
    template: fs.readFileSync(path.join(ROOT, 'pages/bills/index.wxml'), 'utf8'),
    usingComponents: { 'bill-list': listId },
    data: JSON.parse(JSON.stringify(opts.data)),
    methods,
    lifetimes: { attached() { loaded = this.onLoad({ status: 'issued' }) } }
  })
  const page = simulate.render(pageId)
  page.attach(document.createElement('parent-wrapper'))
  await loaded
  const list = page.querySelector('#list')
  expect(list.querySelectorAll('.title').map(t => t.dom.textContent)).toEqual(['2026年10月 电费', '2026年9月 水费'])
  expect(list.querySelectorAll('.amount').map(t => t.dom.textContent)).toEqual(['¥88.20', '¥31.50'])
  expect(page.querySelector('.pay-total').dom.textContent).toBe('已选 2 笔 ¥119.70')
  expect(list.querySelector('.total').dom.textContent).toBe('合计 ¥119.70')

  list.querySelectorAll('.check')[1].dispatchEvent('tap')
  await simulate.sleep(0)
  expect(page.querySelector('.pay-total').dom.textContent).toBe('已选 1 笔 ¥88.20')
  expect(page.querySelector('#list').querySelector('.total').dom.textContent).toBe('合计 ¥88.20')

  list.querySelectorAll('.main')[0].dispatchEvent('tap')
  await simulate.sleep(0)
  expect(wx.calls.navigateTo.at(-1)).toBe('/pages/bill-detail/index?id=' + seed.billIds[1])
})
