// Usage per utility, daily (this month) or monthly (last 12 months), from
// GET /api/v1/houses/{id}/usage (the rollups of schema 005); this month vs
// last month. A backend without the route shows "功能即将上线".
const { get } = require('../../utils/request')
const house = require('../../utils/house')
const chart = require('../../utils/chart')

const UNIT = { electric: '度', water: '吨' }
const pad = n => String(n).padStart(2, '0')

// The from/to of a view, as dates (YYYY-MM-DD), given today.
function range(granularity, today = new Date()) {
  const y = today.getFullYear()
  const m = today.getMonth() + 1
  if (granularity === 'day') {
    const py = m === 1 ? y - 1 : y
    const pm = m === 1 ? 12 : m - 1
    return { from: py + '-' + pad(pm) + '-01', to: y + '-' + pad(m) + '-' + pad(today.getDate()), thisPrefix: y + '-' + pad(m), lastPrefix: py + '-' + pad(pm) }
  }
  // twelve months ending with this one
  const fy = m === 12 ? y : y - 1
  const fm = m === 12 ? 1 : m + 1
  return { from: fy + '-' + pad(fm), to: y + '-' + pad(m) }
}

Page({
  data: { utility: 'electric', granularity: 'day', unit: '度', points: [], notReady: false, loading: true, error: '', compare: null },

  onShow() { return this.refresh() },

  async refresh() {
    const id = house.currentId()
    if (!id) { this.setData({ loading: false, error: '请先绑定房屋' }); return }
    const r = range(this.data.granularity)
    this.setData({ loading: true, error: '' })
    try {
      const body = await get('/api/v1/houses/' + id + '/usage', { data: { utility: this.data.utility, granularity: this.data.granularity, from: r.from, to: r.to } })
      const all = chart.normalizeUsage(body)
      let points = all
      let compare = null
      if (this.data.granularity === 'day') {
        points = all.filter(p => p.label.startsWith(r.thisPrefix))
        compare = chart.compare(chart.total(all, r.thisPrefix), chart.total(all, r.lastPrefix))
      }
      this.setData({ loading: false, notReady: false, points, compare, unit: UNIT[this.data.utility] })
    } catch (e) {
      this.setData({ loading: false, notReady: !!e.notReady, error: e.notReady ? '' : e.message, points: [] })
    }
  },

  onUtility(e) { this.setData({ utility: e.currentTarget.dataset.v }); return this.refresh() },
  onGranularity(e) { this.setData({ granularity: e.currentTarget.dataset.v }); return this.refresh() },
  range
})
