// The resident's repair requests and feedback (GET /api/v1/tickets).
const { get } = require('../../utils/request')
const fmt = require('../../utils/format')

const KIND = { repair: '报修', feedback: '意见反馈', complaint: '投诉' }
const STATUS = { open: '待处理', in_progress: '处理中', resolved: '已解决', closed: '已关闭' }

Page({
  data: { loading: true, error: '', notReady: false, items: [] },
  onShow() { return this.refresh() },
  async refresh() {
    try {
      const body = await get('/api/v1/tickets')
      this.setData({ loading: false, items: (body.items || []).map(t => ({ id: t.id, title: (KIND[t.kind] || t.kind || '') + ' · ' + (t.title || String(t.content || t.description || '').slice(0, 20)), statusText: STATUS[t.status] || t.status || '', timeText: fmt.timeLabel(t.created_at) })) })
    } catch (e) {
      this.setData({ loading: false, notReady: !!e.notReady, error: e.notReady ? '' : e.message })
    }
  },
  onNew() { wx.navigateTo({ url: '/pages/ticket-new/index' }) }
})
