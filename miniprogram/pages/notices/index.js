// Notices from the property office (GET /api/v1/notices).
const { get } = require('../../utils/request')
const fmt = require('../../utils/format')

Page({
  data: { loading: true, error: '', notReady: false, items: [] },
  onShow() { return this.refresh() },
  async refresh() {
    try {
      const body = await get('/api/v1/notices')
      this.setData({ loading: false, items: (body.items || []).map(n => ({ id: n.id, title: n.title, pinned: !!n.pinned, source: n.community_name || '全部小区', timeText: fmt.timeLabel(n.publish_at) })) })
    } catch (e) {
      this.setData({ loading: false, notReady: !!e.notReady, error: e.notReady ? '' : e.message })
    }
  },
  onOpen(e) { wx.navigateTo({ url: '/pages/notice-detail/index?id=' + e.currentTarget.dataset.id }) }
})
