// A repair request or feedback: POST /api/v1/tickets with text only. Photos
// are chosen with wx.chooseMedia and kept on the phone: there is no upload
// endpoint yet, and the page says so instead of pretending to send them.
const { post } = require('../../utils/request')
const house = require('../../utils/house')

const KINDS = [{ v: 'repair', t: '报修' }, { v: 'feedback', t: '意见反馈' }, { v: 'billing', t: '账单疑问' }, { v: 'complaint', t: '投诉' }]

Page({
  data: { kinds: KINDS, kindIndex: 0, title: '', content: '', photos: [], error: '', busy: false, done: false, notReady: false, photoNote: '照片暂存在本机，上传功能即将开放；请在描述中写清位置和情况' },

  onKind(e) { this.setData({ kindIndex: Number(e.detail.value) }) },
  onTitle(e) { this.setData({ title: e.detail.value }) },
  onContent(e) { this.setData({ content: e.detail.value }) },

  onPhoto() {
    return new Promise(resolve => {
      wx.chooseMedia({
        count: 3 - this.data.photos.length,
        mediaType: ['image'],
        sourceType: ['camera', 'album'],
        success: r => { this.setData({ photos: this.data.photos.concat(r.tempFiles.map(f => f.tempFilePath)).slice(0, 3) }); resolve() },
        fail: () => resolve()
      })
    })
  },

  // The request body, or null with an error shown.
  body() {
    const text = String(this.data.content || '').trim()
    if (text.length < 5) { this.setData({ error: '请至少填写5个字的描述' }); return null }
    if (text.length > 2000) { this.setData({ error: '描述不能超过2000字' }); return null }
    // The title is optional for the resident: the first line, cut to 20 characters.
    const title = String(this.data.title || '').trim() || Array.from(text.split('\n')[0]).slice(0, 20).join('')
    if (Array.from(title).length > 100) { this.setData({ error: '标题不能超过100字' }); return null }
    return { house_id: house.currentId(), kind: KINDS[this.data.kindIndex].v, title, content: text }
  },

  async onSubmit() {
    const body = this.body()
    if (!body || this.data.busy) return
    this.setData({ busy: true, error: '' })
    try {
      await post('/api/v1/tickets', body)
      this.setData({ done: true })
      wx.showToast({ title: '已提交', icon: 'success' })
    } catch (e) {
      this.setData({ notReady: !!e.notReady, error: e.notReady ? '' : e.message })
    } finally {
      this.setData({ busy: false })
    }
  }
})
