/** @jest-environment node */
// Reader mode, client side (the reader routes are not in the API yet): the
// entry page warns on a reading that goes backwards and needs a second tap
// to save it; the offline queue keeps readings until the network returns
// and sends them in order, each once.
const path = require('path')
const { createWx, loadPage } = require('./helpers/wx-harness')

const ROOT = path.join(__dirname, '..')
const ROUTE = [{ id: 7, code: 'E-0301', house_label: '3号楼1单元301', utility: 'electric', last_milli: 12000000, usual_delta_milli: 150000 }]
let wx

beforeEach(() => {
  // no server at all: port 9 (discard) refuses connections
  wx = createWx({ target: 'http://127.0.0.1:9', name: 'reader' })
  wx.storage.set('xq_reader_route', ROUTE)
  wx.storage.set('xq_token', 'a'.repeat(64))
})

function entry() {
  const p = loadPage(ROOT, 'pages/reader-entry/index', { wx, globalData: { baseUrl: 'http://127.0.0.1:9' } })
  p.onLoad({ meter_id: '7' })
  return p
}

test('a backwards reading shows the warning; saving it needs a confirmation', async () => {
  const p = entry()
  expect(p.data.meter.lastText).toBe('12000')
  expect(p.data.meter.unit).toBe('度')
  p.onInput({ detail: { value: '11990.5' } })
  expect(p.data.check.kind).toBe('backwards')
  expect(p.data.warning).toBe('读数小于上次读数，请核对表盘，或确认是否已换表')
  expect(await p.onSave()).toBeNull()
  expect(p.data.error).toMatch(/^读数异常/)
  expect(wx.storage.get('xq_reader_queue') || []).toHaveLength(0)
  await p.onPhoto()
  expect(p.data.photo).toBe('wxfile://tmp/photo1.jpg')
  const e = await p.onSave()
  expect(e).toMatchObject({ meter_id: 7, value_milli: 11990500, warning: 'backwards', photo: 'wxfile://tmp/photo1.jpg' })
  // no network: kept in the queue
  expect(wx.storage.get('xq_reader_queue').map(x => x.client_id)).toEqual([e.client_id])
  expect(wx.calls.showToast.at(-1).title).toBe('已保存，待同步')
})

test('a normal reading has no warning; a far-too-high one does', () => {
  const p = entry()
  p.onInput({ detail: { value: '12150' } })
  expect(p.data.warning).toBe('')
  p.onInput({ detail: { value: '13500' } })
  expect(p.data.check.kind).toBe('high')
  p.onInput({ detail: { value: '12abc' } })
  expect(p.data.check.level).toBe('error')
})

test('the queue syncs in order when the network returns, each reading once', async () => {
  loadPage(ROOT, 'pages/reader/index', { wx, globalData: {} })
  let q
  jest.isolateModules(() => { q = require('../utils/reader-queue') })
  const a = q.enqueue({ meter_id: 7, value_milli: 12100000 })
  const b = q.enqueue({ meter_id: 8, value_milli: 500000 })
  const c = q.enqueue({ meter_id: 9, value_milli: 1 })
  let online = false
  const sent = []
  const send = async e => {
    if (!online) { const err = new Error('网络连接失败'); err.network = true; throw err }
    if (e.meter_id === 8) { const err = new Error('表计不存在'); err.status = 404; throw err }
    sent.push(e.client_id)
  }
  expect(await q.sync(send)).toEqual({ sent: 0, rejected: 0, left: 3, stopped: 'network' })
  q.watch(send)
  online = true
  wx.net.listener({ isConnected: true, networkType: 'wifi' })
  await new Promise(r => setTimeout(r, 20))
  expect(sent).toEqual([a.client_id, c.client_id])
  expect(q.all()).toEqual([])
  expect(q.rejected().map(x => [x.client_id, x.error])).toEqual([[b.client_id, '表计不存在']])
  expect(await q.sync(send)).toEqual({ sent: 0, rejected: 0, left: 0, stopped: '' })
})

test('a missing server route keeps the queue (功能即将上线)', async () => {
  let q
  loadPage(ROOT, 'pages/reader/index', { wx, globalData: {} })
  jest.isolateModules(() => { q = require('../utils/reader-queue') })
  q.enqueue({ meter_id: 7, value_milli: 12100000 })
  const r = await q.sync(async () => { const e = new Error('功能即将上线'); e.notReady = true; throw e })
  expect(r).toEqual({ sent: 0, rejected: 0, left: 1, stopped: 'not_ready' })
})
