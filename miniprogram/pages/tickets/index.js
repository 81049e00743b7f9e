// The resident's repair requests and feedback (GET /api/v1/tickets).
const { get } = require('../../utils/request')
const fmt = require('../../utils/format')

const KIND = { repair: '报修', feedback: '意见反馈', complaint: '投诉', billing: '账单疑问' }
const STATUS = { open: '待处理', assigned: '已派单', in_progress: '处理中', resolved: '已解决', closed: '已关闭' }

Page({
  data: { loading: true, error: '', notReady: false, items: [] },
  onShow() { return this.refresh() },
  async refresh() {
    try {
      const body = await get('/api/v1/tickets')
      this.setData({ loading: false, items: (body.items || []).map(t => ({ id: t.id, title: (KIND[t.kind] || t.kind || '') + ' · ' + (t.title || ''), statusText: t.status_zh || STATUS[t.status] || t.status || '', resolution: t.resolution || '', timeText: fmt.timeLabel(t.created_at) })) })
    } catch (e) {
      this.setData({ loading: false, notReady: !!e.notReady, error: e.notReady ? '' : e.message })
    }
  },
  onNew() { wx.navigateTo({ url: '/pages/ticket-new/index' }) }
})
