// The house's meters with their latest reading (GET /api/v1/houses/{id}/meters);
// a tap opens the meter's readings.
const { get } = require('../../utils/request')
const house = require('../../utils/house')
const fmt = require('../../utils/format')

const STATUS = { active: '在用', removed: '已拆除', faulty: '故障' }
const READING = { ok: '', valid: '', flagged: '（待核实）', estimated: '（估算）' }

Page({
  data: { loading: true, error: '', notReady: false, items: [] },
  onShow() { return this.refresh() },
  async refresh() {
    try {
      const body = await get('/api/v1/houses/' + house.currentId() + '/meters')
      this.setData({
        loading: false,
        items: (body.items || []).map(m => {
          const r = m.latest_reading
          return {
            id: m.id,
            title: fmt.utilityLabel(m.utility).replace('费', '表') + ' ' + (m.meter_no || ''),
            statusText: STATUS[m.status] || m.status || '',
            smart: !!m.smart,
            readingText: r ? (r.value_display || '') + ' ' + (m.unit || '') + (READING[r.status] || '') : '暂无读数',
            readAt: r ? fmt.timeLabel(r.read_at) : ''
          }
        })
      })
    } catch (e) {
      this.setData({ loading: false, notReady: !!e.notReady, error: e.notReady ? '' : e.message })
    }
  },
  onOpen(e) { wx.navigateTo({ url: '/pages/readings/index?meter_id=' + e.currentTarget.dataset.id }) }
})
