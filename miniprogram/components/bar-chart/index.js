// Bar chart on a 2d canvas. points: [{label, value}] (integer Wh or L);
// the geometry comes from utils/chart.js (data.chart), so it is testable
// without a canvas; drawing happens only where a canvas node exists.
const { computeBars } = require('../../utils/chart')

Component({
  properties: {
    points: { type: Array, value: [] },
    unit: { type: String, value: '' },
    width: { type: Number, value: 320 },
    height: { type: Number, value: 180 },
    color: { type: String, value: '#07c160' }
  },
  data: { chart: { max: 0, maxText: '0', bars: [], baseline: 0 } },
  observers: {
    'points, width, height': function (points, width, height) {
      this.setData({ chart: computeBars(points, { width, height }) })
      this.draw()
    }
  },
  lifetimes: { ready() { this.draw() } },
  methods: {
    draw() {
      if (!this.createSelectorQuery) return
      const q = this.createSelectorQuery()
      if (!q || !q.select) return
      q.select('#chart').fields({ node: true, size: true }).exec(res => {
        const node = res && res[0] && res[0].node
        if (!node || !node.getContext) return
        const dpr = (wx.getWindowInfo ? wx.getWindowInfo().pixelRatio : 2) || 2
        node.width = this.properties.width * dpr
        node.height = this.properties.height * dpr
        const ctx = node.getContext('2d')
        ctx.scale(dpr, dpr)
        ctx.clearRect(0, 0, this.properties.width, this.properties.height)
        const c = this.data.chart
        ctx.strokeStyle = '#dcdfe6'
        ctx.beginPath(); ctx.moveTo(0, c.baseline); ctx.lineTo(this.properties.width, c.baseline); ctx.stroke()
        ctx.fillStyle = this.properties.color
        for (const b of c.bars) ctx.fillRect(b.x, b.y, b.w, b.h)
        ctx.fillStyle = '#8a94a6'
        ctx.font = '10px sans-serif'
        const every = Math.max(1, Math.ceil(c.bars.length / 8))
        c.bars.forEach((b, i) => { if (i % every === 0) ctx.fillText(b.label, b.x, c.baseline + 14) })
        ctx.fillText('最高 ' + c.maxText + this.properties.unit, 0, 10)
      })
    }
  }
})
