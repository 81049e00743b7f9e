// One notice (GET /api/v1/notices/{id}); the body is plain text.
const { get } = require('../../utils/request')
const fmt = require('../../utils/format')

Page({
  data: { loading: true, error: '', notReady: false, notice: null },
  onLoad(q) { this.id = Number(q && q.id); return this.refresh() },
  async refresh() {
    try {
      const n = await get('/api/v1/notices/' + this.id)
      this.setData({ loading: false, notice: { ...n, timeText: fmt.timeLabel(n.publish_at) } })
    } catch (e) {
      this.setData({ loading: false, notReady: !!e.notReady, error: e.notReady ? '' : e.message })
    }
  }
})
