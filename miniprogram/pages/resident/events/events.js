// Upcoming events with the places left; sign up, or join the waiting list when it is full.
const api = require('../../../utils/api')
const session = require('../../../utils/session')

function eventView(e) {
  const mine = e.my_signup
  let mineLabel = ''
  if (mine && mine.status === 'waiting') mineLabel = `候补第 ${mine.waiting_position} 位`
  else if (mine && (mine.status === 'confirmed' || mine.status === 'attended')) mineLabel = '已报名'
  return Object.assign({}, e, { mineLabel, full: e.capacity !== null && e.places_left === 0 })
}

Component({
  data: { items: [], needCommunity: false, busy: false, error: '' },
  methods: {
    onShow() {
      const communityId = session.communityId()
      if (!communityId) {
        this.setData({ needCommunity: true })
        return Promise.resolve()
      }
      return this.load()
    },
    load() {
      return api.call('events', { community_id: session.communityId() }).then(page => this.setData({
        items: page.items.map(eventView), error: '',
      })).catch(err => this.setData({ error: err.message }))
    },
    signup(e) {
      return this.send(e.currentTarget.dataset.id, false)
    },
    // A full event answers 409 "full": offer the waiting list, in the server's words.
    send(eventId, waitlist) {
      this.setData({ busy: true })
      const body = { idempotency_key: api.newKey('signup') }
      if (waitlist) body.waitlist = true
      return api.call('signup', { event_id: eventId }, body).then(answer => {
        this.setData({ busy: false })
        const s = answer.signup
        wx.showToast({ title: s.status === 'waiting' ? `已候补第${s.waiting_position}位` : '报名成功', icon: 'success' })
        return this.load()
      }).catch(err => {
        this.setData({ busy: false })
        if (err.code !== 'full') return api.showError(err)
        return new Promise(resolve => wx.showModal({
          title: '名额已满', content: `${err.message}。要排队候补吗？有人取消时按顺序递补并通知您。`, confirmText: '候补',
          success: res => resolve(res.confirm ? this.send(eventId, true) : null),
        }))
      })
    },
    cancel(e) {
      return api.call('cancelSignup', { event_id: e.currentTarget.dataset.id }).then(() => {
        wx.showToast({ title: '已取消报名', icon: 'success' })
        return this.load()
      }).catch(err => api.showError(err))
    },
    mySignups() {
      wx.navigateTo({ url: '/pages/resident/signups/signups' })
    },
  },
})
