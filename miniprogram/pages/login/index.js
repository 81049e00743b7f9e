// Login (wx.login, silent) and binding a house: by the binding code the
// property office hands out, or by owner name + last 4 mobile digits with
// building and room.
const { post, get } = require('../../utils/request')
const house = require('../../utils/house')

Page({
  data: {
    loggedIn: false,
    mode: 'code', // 'code' | 'owner'
    form: { binding_code: '', owner_name: '', phone_last4: '', building_id: '', unit_no: '', room: '' },
    error: '',
    busy: false,
    bound: false
  },

  async onLoad() {
    try {
      // request() logs in first when there is no session (and again on 401),
      // so a resident who is already logged in does not get a new session.
      const body = await get('/api/v1/houses', { silent: true })
      this.setData({ loggedIn: true })
      if ((body.items || []).length) this.setData({ hasHouses: true })
    } catch (e) {
      this.setData({ error: e.message })
    }
  },

  onMode(e) { this.setData({ mode: e.currentTarget.dataset.mode, error: '' }) },

  onInput(e) { this.setData({ ['form.' + e.currentTarget.dataset.field]: e.detail.value }) },

  // Builds the binding body; null (with an error shown) when incomplete.
  bindBody() {
    const f = this.data.form
    if (this.data.mode === 'code') {
      const code = String(f.binding_code || '').trim().toUpperCase()
      if (!/^[A-Z0-9]{8}$/.test(code)) return this.invalid('请输入8位绑定码')
      return { binding_code: code }
    }
    const name = String(f.owner_name || '').trim()
    if (!name) return this.invalid('请输入业主姓名')
    if (!/^\d{4}$/.test(f.phone_last4 || '')) return this.invalid('请输入手机号后四位')
    const building = Number(f.building_id)
    if (!Number.isInteger(building) || building <= 0) return this.invalid('请选择楼栋')
    if (!String(f.room || '').trim()) return this.invalid('请输入房号')
    const body = { owner_name: name, phone_last4: f.phone_last4, building_id: building, room: String(f.room).trim() }
    if (String(f.unit_no || '').trim()) body.unit_no = String(f.unit_no).trim()
    return body
  },

  invalid(msg) {
    this.setData({ error: msg })
    wx.showToast({ title: msg, icon: 'none' })
    return null
  },

  async onBind() {
    const body = this.bindBody()
    if (!body || this.data.busy) return
    this.setData({ busy: true, error: '' })
    try {
      const r = await post('/api/v1/bindings', body)
      house.select(r.house_id)
      this.setData({ bound: true })
      wx.showToast({ title: '绑定成功', icon: 'success' })
      wx.reLaunch({ url: '/pages/home/index' })
    } catch (e) {
      this.setData({ error: e.message })
    } finally {
      this.setData({ busy: false })
    }
  },

  onSkip() { wx.reLaunch({ url: '/pages/home/index' }) },

  retry() { return this.onLoad() }
})
