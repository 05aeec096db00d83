// The duty inbox: every open reply clock of my community, most urgent first, with a live
// countdown; one tap posts a public reply (which stops the clock); the count is the badge.
const api = require('../../../utils/api')
const format = require('../../../utils/format')

const QUICK_REPLIES = [
  '收到，已通知网格员尽快上门查看。',
  '收到，正在联系相关部门，处理进展会在群里告知。',
  '收到，请您留意电话，工作人员马上与您联系。',
]

function decorate(clock, now) {
  const request = clock.request || {}
  const message = clock.message || {}
  return {
    id: clock.id,
    requestId: request.id || null,
    title: request.title || message.text || '（无文字内容）',
    code: request.code || '',
    who: (clock.resident && clock.resident.name) || '居民',
    where: clock.group ? clock.group.name : '私聊',
    started: format.clock(clock.started_at),
    dueAt: clock.due_at,
    countdown: format.countdown(clock.due_at, now),
  }
}

Component({
  data: { items: [], total: 0, loading: true, replyingId: null, draft: '', quickReplies: QUICK_REPLIES, error: '' },

  methods: {
    onLoad() {
      this.refresh()
    },
    onShow() {
      this.startTicking()
    },
    onHide() {
      this.stopTicking()
    },
    onUnload() {
      this.stopTicking()
    },
    onPullDownRefresh() {
      this.refresh().then(() => wx.stopPullDownRefresh())
    },

    refresh() {
      return api.call('inbox', { per_page: 50 }).then(page => {
        const now = Date.now()
        this.setData({ items: page.items.map(c => decorate(c, now)), total: page.total, loading: false, error: '' })
        this.updateBadge(page.total)
      }).catch(err => {
        this.setData({ loading: false, error: err.message })
      })
    },

    updateBadge(total) {
      wx.setNavigationBarTitle({ title: total ? `值班收件箱（${total}）` : '值班收件箱' })
      wx.setStorageSync('linli.inbox_count', total)
    },

    startTicking() {
      this.stopTicking()
      this.timer = setInterval(() => this.tick(), 1000)
    },
    stopTicking() {
      if (this.timer) clearInterval(this.timer)
      this.timer = null
    },
    tick() {
      const now = Date.now()
      const items = this.data.items.map(item => Object.assign({}, item, { countdown: format.countdown(item.dueAt, now) }))
      this.setData({ items })
    },

    openReply(e) {
      this.setData({ replyingId: e.currentTarget.dataset.id, draft: '' })
    },
    cancelReply() {
      this.setData({ replyingId: null, draft: '' })
    },
    onDraft(e) {
      this.setData({ draft: e.detail.value })
    },
    quickReply(e) {
      this.send(e.currentTarget.dataset.id, this.data.quickReplies[e.currentTarget.dataset.index])
    },
    sendDraft() {
      this.send(this.data.replyingId, this.data.draft)
    },
    send(clockId, text) {
      if (!text || !text.trim()) {
        wx.showToast({ title: '请输入回复内容', icon: 'none' })
        return Promise.resolve()
      }
      return api.call('inboxReply', { clock_id: clockId }, { text: text.trim() }).then(() => {
        wx.showToast({ title: '已公开回复', icon: 'success' })
        const items = this.data.items.filter(item => item.id !== clockId)
        this.setData({ items, total: Math.max(0, this.data.total - 1), replyingId: null, draft: '' })
        this.updateBadge(this.data.total)
      }).catch(err => {
        api.showError(err)
        return this.refresh()
      })
    },
    openRequest(e) {
      const id = e.currentTarget.dataset.request
      if (id) wx.navigateTo({ url: `/pages/staff/request/request?id=${id}` })
    },
  },
})
