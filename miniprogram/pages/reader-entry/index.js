// Entering one reading: the last reading is shown, the new one is checked as
// it is typed (utils/plausibility.js), a photo of the meter face can be
// taken, and the reading goes into the offline queue, synced at once when
// the network allows.
const queue = require('../../utils/reader-queue')
const plaus = require('../../utils/plausibility')
const money = require('../../utils/money')

const ROUTE_KEY = 'xq_reader_route'
const UNIT = { electric: '度', water: '吨' }

Page({
  data: { meter: null, value: '', check: null, warning: '', photo: '', saved: false, error: '', confirmWarn: false },

  onLoad(q) {
    const id = Number(q && q.meter_id)
    const m = (wx.getStorageSync(ROUTE_KEY) || []).find(x => x.id === id)
    if (!m) { this.setData({ error: '未找到该表计，请返回抄表任务刷新' }); return }
    this.setData({ meter: { ...m, unit: UNIT[m.utility] || '', lastText: m.last_milli === null || m.last_milli === undefined ? '无' : money.milliToQty(m.last_milli) } })
  },

  onInput(e) {
    const value = e.detail.value
    const m = this.data.meter
    const v = plaus.parseReading(value)
    const c = plaus.check({ value_milli: v === null ? NaN : v, last_milli: m.last_milli, usual_delta_milli: m.usual_delta_milli, dial_max_milli: m.dial_max_milli })
    this.setData({ value, check: c, warning: c.level === 'ok' ? '' : c.message, confirmWarn: false })
  },

  onPhoto() {
    return new Promise(resolve => {
      wx.chooseMedia({ count: 1, mediaType: ['image'], sourceType: ['camera'],
        success: r => { this.setData({ photo: r.tempFiles[0].tempFilePath }); resolve() },
        fail: () => resolve() })
    })
  },

  // A warned reading needs a second tap (the reader confirms it is right).
  async onSave() {
    const c = this.data.check
    if (!c || c.level === 'error') { this.setData({ error: c ? c.message : '请输入读数' }); return null }
    if (c.level === 'warn' && !this.data.confirmWarn) {
      this.setData({ confirmWarn: true, error: '读数异常：' + c.message + '。确认无误请再次点击保存' })
      return null
    }
    const entry = queue.enqueue({ meter_id: this.data.meter.id, value_milli: plaus.parseReading(this.data.value), photo: this.data.photo, warning: c.level === 'warn' ? c.kind : '' })
    this.setData({ saved: true, error: '' })
    const r = await queue.sync()
    wx.showToast({ title: r.left ? '已保存，待同步' : '已上传', icon: 'none' })
    return entry
  }
})
