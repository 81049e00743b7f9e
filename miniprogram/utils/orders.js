// Orders: create, hand to wx.requestPayment, confirm by the server's state.
//
// wx.requestPayment's own result is not proof of payment (wechat-protocols.md
// §7): the order query is. The out_trade_no is kept in storage from the moment
// the order exists until the server says paid, so a payment whose answer was
// lost (network gone, app killed) is re-queried when the resident returns.
const { get, post } = require('./request')
const config = require('./config')

const PENDING_KEY = 'xq_pending_orders'
const sleep = ms => new Promise(r => setTimeout(r, ms))

function pendingAll() {
  const v = wx.getStorageSync(PENDING_KEY)
  return v && typeof v === 'object' ? v : {}
}
function savePending(order) {
  const all = pendingAll()
  all[order.out_trade_no] = { out_trade_no: order.out_trade_no, house_id: order.house_id, amount_fen: order.amount_fen, purpose: order.purpose, at: Date.now() }
  wx.setStorageSync(PENDING_KEY, all)
}
function clearPending(no) {
  const all = pendingAll()
  delete all[no]
  wx.setStorageSync(PENDING_KEY, all)
}

// {house_id, bill_ids} or {house_id, topup_fen} -> the order with the five payment fields
function create(body) { return post('/api/v1/orders', body) }

// -> {ok: true} | {ok: false, cancelled, errMsg}
function requestPayment(o) {
  if (config.devSimUrl) return simPay(o)
  return new Promise(resolve => {
    wx.requestPayment({
      timeStamp: o.timeStamp,
      nonceStr: o.nonceStr,
      package: o.package,
      signType: o.signType,
      paySign: o.paySign,
      success: () => resolve({ ok: true }),
      fail: r => {
        const errMsg = (r && r.errMsg) || 'requestPayment:fail'
        resolve({ ok: false, cancelled: /cancel/.test(errMsg), errMsg })
      }
    })
  })
}

// DevTools against the local stack (config.devSimUrl): the imitation plays the
// resident paying, verifying paySign like the WeChat client.
function simPay(o) {
  return new Promise(resolve => {
    wx.request({
      url: config.devSimUrl + '/sim/pay',
      method: 'POST',
      data: { appId: config.appid, timeStamp: o.timeStamp, nonceStr: o.nonceStr, package: o.package, signType: o.signType, paySign: o.paySign },
      success: r => resolve(r.statusCode === 200 ? { ok: true } : { ok: false, cancelled: false, errMsg: 'requestPayment:fail ' + ((r.data && r.data.message) || r.statusCode) }),
      fail: r => resolve({ ok: false, cancelled: false, errMsg: 'requestPayment:fail ' + (r && r.errMsg) })
    })
  })
}

// Asks the server until the order is paid or tries run out. Network failures
// are counted and the query repeated. -> {state, order, networkFailures}
async function poll(no, opts = {}) {
  // globalData may override the polling pace (tests, or a slow network).
  const g = (typeof getApp === 'function' && getApp() && getApp().globalData) || {}
  const tries = opts.tries || g.pollMaxTries || config.pollMaxTries
  const interval = opts.intervalMs !== undefined ? opts.intervalMs : g.pollIntervalMs !== undefined ? g.pollIntervalMs : config.pollIntervalMs
  let order = null
  let networkFailures = 0
  let lastNetwork = false
  for (let i = 0; i < tries; i++) {
    if (i) await sleep(interval)
    try {
      order = await get('/api/v1/orders/' + encodeURIComponent(no), { silent: true })
      lastNetwork = false
      if (opts.onAnswer) opts.onAnswer(order)
      if (order.state !== 'created') break
    } catch (e) {
      if (!e.network) throw e
      networkFailures++
      lastNetwork = true
      if (opts.onNetworkFailure) opts.onNetworkFailure(e)
    }
  }
  const state = lastNetwork ? 'unknown' : order ? order.state : 'unknown'
  if (state === 'paid') clearPending(no)
  return { state, order, networkFailures }
}

module.exports = { create, requestPayment, poll, savePending, clearPending, pendingAll }
