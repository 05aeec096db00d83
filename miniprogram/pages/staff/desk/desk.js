// Today's proxy-handling desk: the station's bookings of today; scan the resident's booking
// code (or pick from the list) to check in, mark a no-show, or accept the materials (the
// booking becomes a case); then move cases along (转交部门, 审批, 办结).
const api = require('../../../utils/api')
const format = require('../../../utils/format')
const session = require('../../../utils/session')
const { CASE_STEPS } = require('../../../utils/labels')

function bookingView(b) {
  const resident = b.resident || {}
  return Object.assign({}, b, {
    time: `${format.clock(b.slot_start)}–${format.clock(b.slot_end)}`,
    who: resident.name || resident.nickname || `居民${resident.id || ''}`,
    phone: resident.phone || '',
  })
}

function caseView(c) {
  return Object.assign({}, c, {
    due: format.dateTime(c.due_at),
    steps: (c.next || []).map(status => ({ status, label: CASE_STEPS[status] || status })),
  })
}

Component({
  data: { station: null, date: '', bookings: [], counts: {}, cases: [], caseCounts: {}, selected: null, error: '' },
  methods: {
    onShow() {
      const user = session.user() || {}
      return api.call('stations', { community_id: user.community_id }).then(answer => {
        const station = answer.stations[0]
        if (!station) {
          this.setData({ error: '本社区还没有开通代办站' })
          return null
        }
        this.setData({ station, date: format.localDate() })
        return Promise.all([this.loadBookings(), this.loadCases()])
      }).catch(err => this.setData({ error: err.message }))
    },
    loadBookings() {
      return api.call('deskBookings', { station_id: this.data.station.id, date: this.data.date }).then(day => {
        this.setData({ bookings: day.bookings.map(bookingView), counts: day.counts })
      })
    },
    loadCases() {
      return api.call('cases').then(page => this.setData({ cases: page.items.map(caseView), caseCounts: page.counts }))
    },

    scan() {
      return new Promise(resolve => {
        wx.scanCode({
          onlyFromCamera: false,
          success: res => {
            const code = String(res.result || '').trim().toUpperCase()
            const found = this.data.bookings.find(b => b.code === code)
            if (found) this.setData({ selected: found.id })
            else wx.showModal({ title: '没有找到', content: `今天没有预约码为 ${code} 的预约`, showCancel: false })
            resolve()
          },
          fail: () => resolve(),
        })
      })
    },
    select(e) {
      this.setData({ selected: e.currentTarget.dataset.id })
    },
    call(e) {
      wx.makePhoneCall({ phoneNumber: e.currentTarget.dataset.phone })
    },

    act(e) {
      const { id, action } = e.currentTarget.dataset
      const name = { checkin: 'bookingCheckIn', noshow: 'bookingNoShow', complete: 'bookingComplete' }[action]
      return api.call(name, { booking_id: id }, action === 'complete' ? { note: '材料已收齐，窗口受理' } : undefined)
        .then(() => {
          wx.showToast({ title: { checkin: '已签到', noshow: '已记未到', complete: '已受理' }[action], icon: 'success' })
          return Promise.all([this.loadBookings(), action === 'complete' ? this.loadCases() : null])
        }).catch(err => api.showError(err))
    },

    step(e) {
      const { id, status } = e.currentTarget.dataset
      const body = { status }
      if (status === 'rejected') body.note = '审批未通过，请到窗口了解原因'
      return api.call('caseTransition', { case_id: id }, body).then(updated => {
        this.setData({ cases: this.data.cases.map(c => (c.id === updated.id ? caseView(updated) : c)) })
        wx.showToast({ title: '已更新', icon: 'success' })
      }).catch(err => api.showError(err))
    },
  },
})
