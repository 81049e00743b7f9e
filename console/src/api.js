// The console API client: /admin/api/v1, session in the HttpOnly xq_sid
// cookie, X-CSRF-Token on every state-changing request, errors as
// {code, message, field}. A 401 on any call but login sends the user back to
// the login page; a 403 is shown as "no permission".
import { reactive } from 'vue'
import { ElMessage } from 'element-plus'

export const BASE = '/admin/api/v1'

export const session = reactive({ staff: null, csrf: '', checked: false })

let onUnauthenticated = () => {}
export function setUnauthenticatedHandler(fn) { onUnauthenticated = fn }

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `请求失败（HTTP ${status}）`)
    this.status = status
    this.code = (body && body.code) || 'HTTP_' + status
    this.field = body && body.field
    this.body = body
  }
}

function query(params) {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(params || {}))
    if (v !== undefined && v !== null && v !== '') q.set(k, v)
  const s = q.toString()
  return s ? '?' + s : ''
}

export async function api(method, path, { params, body, quiet, probe } = {}) {
  const headers = { Accept: 'application/json' }
  if (body !== undefined) headers['Content-Type'] = 'application/json'
  if (method !== 'GET' && session.csrf) headers['X-CSRF-Token'] = session.csrf
  let res
  try {
    res = await fetch(BASE + path + query(params), {
      method, headers, credentials: 'same-origin',
      body: body !== undefined ? JSON.stringify(body) : undefined,
    })
  } catch (e) {
    const err = new ApiError(0, { code: 'NETWORK', message: '网络连接失败，请检查网络后重试' })
    if (!quiet) ElMessage.error(err.message)
    throw err
  }
  let data = null
  const text = await res.text()
  try { data = text ? JSON.parse(text) : null } catch { data = null }
  if (res.ok) return data
  const err = new ApiError(res.status, data)
  // probe: the /auth/me at start-up, where no session is the normal case
  if (res.status === 401 && path !== '/auth/login' && !probe) {
    const had = !!session.staff
    session.staff = null
    session.csrf = ''
    onUnauthenticated()
    if (had) ElMessage.warning('登录已过期，请重新登录')
    throw err
  }
  if (res.status === 403 && err.code === 'FORBIDDEN') err.message = '没有权限执行此操作（' + (data?.message || '权限不足') + '）'
  if (!quiet) ElMessage.error(err.message)
  throw err
}

export const get = (path, params, opts) => api('GET', path, { params, ...opts })
export const post = (path, body, opts) => api('POST', path, { body: body ?? {}, ...opts })
export const put = (path, body, opts) => api('PUT', path, { body, ...opts })
export const del = (path, opts) => api('DELETE', path, opts)

export function can(perm) {
  return !!session.staff && (session.staff.permissions || []).includes(perm)
}

export async function loadMe() {
  try {
    const me = await get('/auth/me', null, { quiet: true, probe: true })
    session.staff = me.staff
    session.csrf = me.csrf_token
  } catch {
    session.staff = null
  }
  session.checked = true
  return session.staff
}

// Excel export: the server writes the file; the browser downloads it with
// the session cookie (same origin), keeping the list's filters.
export function exportUrl(resource, params) {
  return BASE + '/' + resource + '.xlsx' + query(params)
}

// Downloads an export through fetch, so an error (expired session, too many
// rows) is shown as a message instead of replacing the page with JSON.
export async function download(resource, params) {
  let res
  try { res = await fetch(exportUrl(resource, params), { credentials: 'same-origin' }) } catch {
    ElMessage.error('网络连接失败，请检查网络后重试'); return
  }
  if (!res.ok) {
    let body = null
    try { body = await res.json() } catch { /* not JSON */ }
    if (res.status === 401) { session.staff = null; onUnauthenticated() }
    ElMessage.error((body && body.message) || `导出失败（HTTP ${res.status}）`)
    return
  }
  const cd = res.headers.get('Content-Disposition') || ''
  const m = /filename\*=UTF-8''([^;]+)/i.exec(cd)
  const name = m ? decodeURIComponent(m[1]) : resource + '.xlsx'
  const blob = await res.blob()
  const a = document.createElement('a')
  a.href = URL.createObjectURL(blob)
  a.download = name
  document.body.appendChild(a)
  a.click()
  setTimeout(() => { URL.revokeObjectURL(a.href); a.remove() }, 1000)
  ElMessage.success('已导出：' + name)
}
