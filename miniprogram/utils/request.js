// The one way pages talk to the API.
//
// * attaches the resident's session as `Authorization: Bearer <token>`;
// * on 401 logs in again once (wx.login -> POST /api/v1/auth/login) and
//   repeats the request, so an expired session never reaches the user;
// * rejects with an Error carrying {status, code, message, field} from the
//   API's envelope and shows its Chinese `message` as a toast (unless
//   `silent`); a failed connection rejects with {network: true};
// * a route the server does not have (404 "接口不存在", i.e. a feature the
//   backend has not shipped) rejects with {notReady: true} and no toast, so
//   pages can show "功能即将上线".
const config = require('./config')

const NETWORK_MESSAGE = '网络连接失败，请检查网络后重试'
const NOT_READY_MESSAGE = '功能即将上线'
const TOKEN_KEY = 'xq_token'

function app() {
  try { return getApp() || {} } catch (e) { return {} }
}

function globalData() {
  const a = app()
  if (!a.globalData) a.globalData = {}
  return a.globalData
}

function baseUrl() { return globalData().baseUrl || config.baseUrl }

function getToken() {
  const g = globalData()
  if (!g.token) g.token = wx.getStorageSync(TOKEN_KEY) || ''
  return g.token
}

function setToken(token) {
  globalData().token = token || ''
  if (token) wx.setStorageSync(TOKEN_KEY, token)
  else if (wx.removeStorageSync) wx.removeStorageSync(TOKEN_KEY)
}

function toast(title) {
  if (title && wx.showToast) wx.showToast({ title, icon: 'none', duration: 2500 })
}

function apiError(status, body) {
  const b = body && typeof body === 'object' ? body : {}
  const e = new Error(b.message || (status >= 500 ? '服务暂时不可用，请稍后重试' : '请求失败（' + status + '）'))
  e.status = status
  e.code = b.code || 'HTTP_' + status
  e.field = b.field
  e.requestId = b.request_id
  if (status === 404 && b.message === '接口不存在') {
    e.notReady = true
    e.message = NOT_READY_MESSAGE
  }
  return e
}

// One HTTP exchange, as a promise of {statusCode, data}.
function send({ path, method, data, token }) {
  return new Promise((resolve, reject) => {
    const header = { 'Content-Type': 'application/json' }
    if (token) header.Authorization = 'Bearer ' + token
    wx.request({
      url: baseUrl() + path,
      method,
      data,
      header,
      dataType: 'json',
      timeout: config.requestTimeoutMs,
      success: res => resolve(res),
      fail: res => {
        const e = new Error(NETWORK_MESSAGE)
        e.network = true
        e.errMsg = res && res.errMsg
        reject(e)
      }
    })
  })
}

// wx.login -> POST /api/v1/auth/login; stores and returns the session token.
let loginInFlight = null
function login() {
  if (loginInFlight) return loginInFlight
  loginInFlight = new Promise((resolve, reject) => {
    if (config.devLoginName) return resolve('test-' + config.devLoginName + '.' + Date.now().toString(36))
    wx.login({
      success: r => resolve(r.code),
      fail: r => {
        const e = new Error('微信登录失败，请稍后重试')
        e.errMsg = r && r.errMsg
        reject(e)
      }
    })
  }).then(code => send({ path: '/api/v1/auth/login', method: 'POST', data: { code } }))
    .then(res => {
      if (res.statusCode !== 200 || !res.data || !res.data.token) throw apiError(res.statusCode, res.data)
      setToken(res.data.token)
      globalData().user = res.data.user
      return res.data
    })
  const done = () => { loginInFlight = null }
  loginInFlight.then(done, done)
  return loginInFlight
}

// request(path, {method, data, auth = true, silent = false}) -> body
async function request(path, opts = {}) {
  const method = opts.method || 'GET'
  const auth = opts.auth !== false
  let res
  try {
    if (auth && !getToken()) await login()
    res = await send({ path, method, data: opts.data, token: auth ? getToken() : '' })
    if (res.statusCode === 401 && auth) {
      // Expired or revoked session: one fresh login, one retry.
      await login()
      res = await send({ path, method, data: opts.data, token: getToken() })
    }
  } catch (e) {
    if (!opts.silent && !e.notReady) toast(e.message)
    throw e
  }
  if (res.statusCode >= 200 && res.statusCode < 300) return res.data
  const e = apiError(res.statusCode, res.data)
  if (!opts.silent && !e.notReady) toast(e.message)
  throw e
}

module.exports = {
  request,
  login,
  getToken,
  setToken,
  baseUrl,
  NETWORK_MESSAGE,
  NOT_READY_MESSAGE,
  get: (path, opts) => request(path, { ...opts, method: 'GET' }),
  post: (path, data, opts) => request(path, { ...opts, method: 'POST', data }),
  del: (path, opts) => request(path, { ...opts, method: 'DELETE' })
}
