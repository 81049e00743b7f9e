// One meter's readings, last 30 days (GET /api/v1/meters/{id}/readings).
// `value` is the raw register in Wh or L (before the multiplier): shown in kWh / m³.
const { get } = require('../../utils/request')
const money = require('../../utils/money')
const fmt = require('../../utils/format')

const SOURCE = { auto: '自动采集', manual: '人工抄表', import: '导入', estimate: '估算' }

Page({
  data: { loading: true, error: '', notReady: false, items: [] },
  onLoad(q) { this.meterId = Number(q && q.meter_id); return this.refresh() },
  async refresh() {
    try {
      const body = await get('/api/v1/meters/' + this.meterId + '/readings')
      this.setData({
        loading: false,
        items: (body.items || []).map((r, i) => ({
          key: i,
          valueText: Number.isSafeInteger(r.value) ? money.milliToQty(r.value) : '',
          timeText: fmt.timeLabel(r.read_at),
          sourceText: SOURCE[r.source] || r.source || '',
          flagged: r.status === 'flagged'
        }))
      })
    } catch (e) {
      this.setData({ loading: false, notReady: !!e.notReady, error: e.notReady ? '' : e.message })
    }
  }
})
