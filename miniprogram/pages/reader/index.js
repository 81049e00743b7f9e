// Reader mode: today's route of meters. GET /api/v1/reader/route is not in
// the API yet; the last route fetched is kept in storage so the reader can
// work offline, and the queue of entered readings is shown with its state.
const { get } = require('../../utils/request')
const queue = require('../../utils/reader-queue')
const money = require('../../utils/money')

const ROUTE_KEY = 'xq_reader_route'

Page({
  data: { meters: [], notReady: false, error: '', queued: 0, syncText: '' },

  onLoad() { queue.watch() },
  onShow() { return this.refresh() },

  async refresh() {
    let meters = wx.getStorageSync(ROUTE_KEY) || []
    try {
      const body = await get('/api/v1/reader/route', { silent: true })
      meters = body.items || []
      wx.setStorageSync(ROUTE_KEY, meters)
      this.setData({ notReady: false, error: '' })
    } catch (e) {
      this.setData({ notReady: !!e.notReady, error: e.notReady ? '' : e.message })
    }
    const done = new Set(queue.all().map(q => q.meter_id))
    this.setData({
      meters: meters.map(m => ({ ...m, lastText: m.last_milli === undefined || m.last_milli === null ? '—' : money.milliToQty(m.last_milli), done: done.has(m.id) })),
      queued: queue.all().length
    })
  },

  async onSync() {
    const r = await queue.sync()
    const why = { network: '网络不可用，稍后自动同步', not_ready: '服务器暂不支持抄表上传（功能即将上线），读数已保存在本机', server: '服务器繁忙，稍后重试' }
    this.setData({ queued: r.left, syncText: r.stopped ? why[r.stopped] : '已同步 ' + r.sent + ' 条' })
    return r
  },

  onOpen(e) { wx.navigateTo({ url: '/pages/reader-entry/index?meter_id=' + e.currentTarget.dataset.id }) }
})
