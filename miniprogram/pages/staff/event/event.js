// One event at the door: confirmed and attended first, then the waiting list in order; the
// scanner (wx.scanCode) reads the resident's check-in QR code, or staff tick someone on the list.
const api = require('../../../utils/api')

const STATUS_LABELS = { confirmed: '已报名', attended: '已签到', waiting: '候补', absent: '缺席', cancelled: '已取消' }

function signupView(s) {
  const person = s.resident || s.member || {}
  return Object.assign({}, s, {
    who: person.name || person.nickname || `居民${person.id || ''}`,
    statusLabel: s.status === 'waiting' ? `候补第 ${s.waiting_position} 位` : (STATUS_LABELS[s.status] || s.status),
  })
}

Component({
  data: { id: null, event: null, counts: {}, items: [], mode: 'checkin', error: '' },
  methods: {
    onLoad(query) {
      this.setData({ id: Number(query.id) })
      return this.load()
    },
    load() {
      return api.call('eventSignups', { event_id: this.data.id }).then(answer => this.setData({
        event: answer.event, counts: answer.counts, items: answer.items.map(signupView), error: '',
      })).catch(err => this.setData({ error: err.message }))
    },
    setMode(e) {
      this.setData({ mode: e.currentTarget.dataset.mode })
    },
    scan() {
      return new Promise(resolve => {
        wx.scanCode({
          onlyFromCamera: true, scanType: ['qrCode'],
          success: res => resolve(this.record({ code: res.result })),
          fail: () => resolve(),
        })
      })
    },
    tick(e) {
      return this.record({ signup_id: e.currentTarget.dataset.id })
    },
    // A fresh nonce per scan: a request re-sent on a bad network counts once.
    record(body) {
      const name = this.data.mode === 'checkin' ? 'eventCheckin' : 'eventCheckout'
      return api.call(name, { event_id: this.data.id }, Object.assign({ nonce: api.newKey('scan') }, body))
        .then(answer => {
          const who = signupView(answer.signup).who
          const verb = this.data.mode === 'checkin' ? '签到' : '签退'
          wx.showToast({ title: answer.replay ? `${who} 已${verb}过` : `${who} ${verb}成功`, icon: 'success' })
          return this.load()
        }).catch(err => api.showError(err))
    },
  },
})
