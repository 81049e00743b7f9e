// A `wx` stand-in for page tests (frontend-testing.md §2): wx.request really
// sends the page's request over HTTP to `target` (the local stack);
// wx.login hands out xq-wxsim's deterministic test-<name> codes;
// wx.requestPayment pays as the resident through xq-wxsim's /sim/pay with the
// five parameters plus the appId (paySign verified there like WeChat's
// client), so the real callback flows back to xq-api. Storage is in memory.
// `net` lets a test drop answers: dropResponses(pred, n) sends the request
// (the server acts on it) but reports a failure to the page, offline = true
// fails every request without sending it.
const http = require('http')
const path = require('path')

let codeSerial = 0

function httpJson(target, method, urlPath, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const t = new URL(target)
    const data = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body)
    const req = http.request({ host: t.hostname, port: t.port, method, path: urlPath,
      headers: { 'content-type': 'application/json', ...headers } }, async res => {
      const chunks = []
      for await (const c of res) chunks.push(c)
      const raw = Buffer.concat(chunks).toString()
      let json = raw
      try { json = JSON.parse(raw) } catch (e) { /* not JSON */ }
      resolve({ status: res.statusCode, body: json, headers: res.headers })
    })
    req.on('error', reject)
    req.end(data)
  })
}

function createWx({ target, wxsim, appid = 'wx8888888888888888', name = 'mp', uniq = String(Date.now()) }) {
  const calls = { request: [], requestPayment: [], login: [], showToast: [], navigateTo: [], reLaunch: [], subscribe: [] }
  const storage = new Map()
  const drops = []
  const net = {
    offline: false,
    dropResponses(pred, n = 1) { drops.push({ pred, n }) }
  }
  const wx = {
    calls, storage, net,
    payment: { outcome: 'SUCCESS' },
    login({ success, fail }) {
      const code = 'test-' + name + '.' + uniq + '-' + ++codeSerial
      calls.login.push(code)
      setTimeout(() => success && success({ code, errMsg: 'login:ok' }))
    },
    request({ url, method = 'GET', data, header = {}, dataType = 'json', success, fail, complete }) {
      calls.request.push({ url, method, data, header })
      const u = new URL(url)
      const t = new URL(target)
      let body
      if (method === 'GET' && data) for (const [k, v] of Object.entries(data)) u.searchParams.set(k, v)
      else if (data !== undefined) body = typeof data === 'string' ? data : JSON.stringify(data)
      const done = (cb, r) => { cb && cb(r); complete && complete(r) }
      if (net.offline) {
        setTimeout(() => done(fail, { errMsg: 'request:fail net::ERR_INTERNET_DISCONNECTED' }))
        return { abort() {} }
      }
      const drop = drops.find(d => d.n > 0 && d.pred({ url: u, method }))
      if (drop) drop.n--
      const req = http.request({ host: t.hostname, port: t.port, method, path: u.pathname + u.search,
        headers: { ...header, host: u.host } }, async res => {
        const chunks = []
        for await (const c of res) chunks.push(c)
        if (drop) return done(fail, { errMsg: 'request:fail timeout' })
        let out = Buffer.concat(chunks).toString()
        if (dataType === 'json') try { out = JSON.parse(out) } catch (e) { /* as text */ }
        done(success, { data: out, statusCode: res.statusCode, header: res.headers, errMsg: 'request:ok' })
      })
      req.on('error', e => done(fail, { errMsg: 'request:fail ' + e.message }))
      req.end(body)
      return { abort: () => req.destroy() }
    },
    // The resident in the WeChat client: xq-wxsim verifies paySign and pays (or cancels).
    requestPayment(o) {
      calls.requestPayment.push(o)
      const p = { appId: appid, timeStamp: o.timeStamp, nonceStr: o.nonceStr, package: o.package, signType: o.signType, paySign: o.paySign }
      const outcome = wx.payment.outcome
      httpJson(wxsim, 'POST', '/sim/pay', { ...p, outcome: outcome === 'CANCEL' ? 'CANCEL' : outcome, retry_scale: 1000 })
        .then(r => {
          wx.payment.last = r
          if (r.status === 200 && outcome === 'SUCCESS') o.success && o.success({ errMsg: 'requestPayment:ok' })
          else if (outcome === 'CANCEL') o.fail && o.fail({ errMsg: 'requestPayment:fail cancel' })
          else o.fail && o.fail({ errMsg: 'requestPayment:fail ' + (r.body && r.body.message || r.status) })
        }, e => o.fail && o.fail({ errMsg: 'requestPayment:fail ' + e.message }))
    },
    requestSubscribeMessage(o) {
      calls.subscribe.push(o)
      const res = { errMsg: 'requestSubscribeMessage:ok' }
      for (const id of o.tmplIds) res[id] = 'accept'
      setTimeout(() => o.success && o.success(res))
    },
    showToast(o) { calls.showToast.push(o) },
    showLoading() {}, hideLoading() {}, stopPullDownRefresh() {},
    showModal(o) { setTimeout(() => o.success && o.success({ confirm: true, cancel: false })) },
    navigateTo(o) { calls.navigateTo.push(o.url) },
    redirectTo(o) { calls.navigateTo.push(o.url) },
    navigateBack() {},
    reLaunch(o) { calls.reLaunch.push(o.url) },
    switchTab(o) { calls.navigateTo.push(o.url) },
    getStorageSync: k => storage.has(k) ? storage.get(k) : '',
    setStorageSync: (k, v) => { storage.set(k, JSON.parse(JSON.stringify(v))) },
    removeStorageSync: k => { storage.delete(k) },
    getNetworkType(o) { setTimeout(() => o.success && o.success({ networkType: net.offline ? 'none' : 'wifi' })) },
    onNetworkStatusChange(cb) { net.listener = cb },
    chooseMedia(o) { setTimeout(() => o.success && o.success({ tempFiles: [{ tempFilePath: 'wxfile://tmp/photo1.jpg', size: 1024 }] })) },
    createSelectorQuery() { return { select() { return this }, fields() { return this }, exec(cb) { cb && cb([null]) } } }
  }
  return wx
}

// Loads app.js and one page's JS with App/Page/getApp/wx as globals; returns a
// page instance with a setData that understands 'a.b' / 'a[0].b' keys.
function loadPage(root, pagePath, { wx, globalData = {} }) {
  let app, opts
  Object.assign(global, { wx, App: o => { app = o }, Page: o => { opts = o }, getApp: () => app })
  const run = () => {
    for (const f of [path.join(root, 'app.js'), path.join(root, pagePath + '.js')]) {
      delete require.cache[require.resolve(f)]
      require(f)
    }
  }
  typeof jest !== 'undefined' ? jest.isolateModules(run) : run()
  Object.assign(app.globalData, globalData)
  return {
    ...opts,
    route: pagePath,
    data: JSON.parse(JSON.stringify(opts.data || {})),
    setData(patch, cb) {
      for (const [k, v] of Object.entries(patch)) {
        const ks = k.replace(/\[(\d+)\]/g, '.$1').split('.')
        let o = this.data
        for (const p of ks.slice(0, -1)) o = o[p] ??= {}
        o[ks.at(-1)] = v
      }
      cb && cb()
    }
  }
}

module.exports = { createWx, loadPage, httpJson }
