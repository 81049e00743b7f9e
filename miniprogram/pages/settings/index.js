// Settings: bill reminders (one-time subscribe messages), unbinding the
// current house, logout, and the reader's mode.
const { del, post, setToken } = require('../../utils/request')
const house = require('../../utils/house')
const config = require('../../utils/config')

Page({
  data: { houseLabel: '', subscribed: '', error: '' },

  onShow() {
    const g = getApp().globalData
    this.setData({ houseId: house.currentId(), nickname: (g.user && g.user.nickname) || '' })
  },

  // wx.requestSubscribeMessage -> per template 'accept' / 'reject' / 'ban'.
  // Each acceptance allows one message; the backend has no route yet to
  // record acceptances (docs/miniprogram.md), so the result is shown only.
  subscribe() {
    const ids = [config.templates.billDue, config.templates.arrears]
    return new Promise(resolve => {
      wx.requestSubscribeMessage({
        tmplIds: ids,
        success: r => {
          const ok = ids.filter(id => r[id] === 'accept').length
          this.setData({ subscribed: ok ? '已订阅 ' + ok + ' 项提醒（每次订阅可收到一次通知）' : '未订阅提醒' })
          resolve(r)
        },
        fail: r => { this.setData({ subscribed: '订阅失败，请稍后重试' }); resolve(r) }
      })
    })
  },

  onUnbind() {
    const id = house.currentId()
    if (!id) return
    return new Promise(resolve => {
      wx.showModal({
        title: '解除绑定',
        content: '解除后将无法查看和缴纳该房屋的费用，确定解除吗？',
        confirmColor: '#e64340',
        success: async r => {
          if (!r.confirm) return resolve(false)
          try {
            await del('/api/v1/bindings/' + id)
            house.select(0)
            wx.showToast({ title: '已解除绑定', icon: 'success' })
            wx.reLaunch({ url: '/pages/home/index' })
            resolve(true)
          } catch (e) {
            this.setData({ error: e.message })
            resolve(false)
          }
        }
      })
    })
  },

  async onLogout() {
    try { await post('/api/v1/auth/logout', {}, { silent: true }) } catch (e) { /* gone anyway */ }
    setToken('')
    wx.reLaunch({ url: '/pages/login/index' })
  },

  onReader() { wx.navigateTo({ url: '/pages/reader/index' }) },
  onBind() { wx.navigateTo({ url: '/pages/login/index' }) }
})
