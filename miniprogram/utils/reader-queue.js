// The reader's offline queue: readings entered without network are kept in
// wx storage and sent, oldest first, when the network returns. Each entry has
// a client_id so a resend after a lost answer can be recognised by the server
// as the same reading. The server route (POST /api/v1/reader/readings) does
// not exist yet: until it does, sync leaves the queue as it is.
const { post } = require('./request')

const KEY = 'xq_reader_queue'
const REJECTED = 'xq_reader_rejected'

function all() { const v = wx.getStorageSync(KEY); return Array.isArray(v) ? v : [] }
function rejected() { const v = wx.getStorageSync(REJECTED); return Array.isArray(v) ? v : [] }

function newId() {
  return Date.now().toString(36) + '-' + Math.floor(Math.random() * 0x7fffffff).toString(36)
}

// reading: {meter_id, value_milli, photo?, warning?} -> the queued entry
function enqueue(reading) {
  const entry = { client_id: newId(), read_at: new Date().toISOString(), ...reading }
  wx.setStorageSync(KEY, all().concat([entry]))
  return entry
}

const defaultSend = e => post('/api/v1/reader/readings', {
  client_id: e.client_id, meter_id: e.meter_id, value_milli: e.value_milli, read_at: e.read_at, warning: e.warning || ''
}, { silent: true })

// Sends queued entries in order. Stops at the first network failure or
// missing route (kept for later); an entry the server refuses (4xx) moves to
// the rejected list so it does not block the rest.
// -> {sent, rejected, left, stopped: '' | 'network' | 'not_ready'}
let running = null
function sync(send = defaultSend) {
  if (running) return running
  running = (async () => {
    let sent = 0
    let refused = 0
    let stopped = ''
    while (all().length) {
      const e = all()[0]
      try {
        await send(e)
        sent++
      } catch (err) {
        if (err.network) { stopped = 'network'; break }
        if (err.notReady) { stopped = 'not_ready'; break }
        if (!(err.status >= 400 && err.status < 500) || err.status === 401 || err.status === 429) { stopped = 'server'; break }
        refused++
        wx.setStorageSync(REJECTED, rejected().concat([{ ...e, error: err.message }]))
      }
      wx.setStorageSync(KEY, all().filter(x => x.client_id !== e.client_id))
    }
    return { sent, rejected: refused, left: all().length, stopped }
  })()
  const done = () => { running = null }
  running.then(done, done)
  return running
}

// Sync whenever the phone comes back online.
function watch(send) {
  if (wx.onNetworkStatusChange) wx.onNetworkStatusChange(r => { if (r.isConnected) sync(send) })
}

module.exports = { enqueue, sync, watch, all, rejected, KEY }
