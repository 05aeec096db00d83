// Who is on duty now, my shifts, the week's roster and its gaps; the community admin swaps
// two shifts (换班) by tapping one and then the other.
const api = require('../../../utils/api')
const format = require('../../../utils/format')
const session = require('../../../utils/session')

function shiftView(shift) {
  return Object.assign({}, shift, {
    day: format.day(shift.starts_at),
    hours: `${format.clock(shift.starts_at)}–${format.clock(shift.ends_at) === '00:00' ? '24:00' : format.clock(shift.ends_at)}`,
  })
}

Component({
  data: { onDuty: null, mine: [], week: [], gaps: [], isAdmin: false, picked: null, reason: '', error: '' },
  methods: {
    onShow() {
      this.setData({ isAdmin: session.hasRole('community_admin') })
      return Promise.all([api.call('onDuty'), api.call('myShifts'), api.call('roster'), api.call('rosterGaps')])
        .then(([onDuty, mine, week, gaps]) => this.setData({
          onDuty: Object.assign({}, onDuty, { shifts: onDuty.shifts.map(shiftView) }),
          mine: mine.items.map(shiftView), week: week.items.map(shiftView),
          gaps: gaps.items.map(g => ({ from: format.dateTime(g.from), to: format.dateTime(g.to) })), error: '',
        })).catch(err => this.setData({ error: err.message }))
    },

    pick(e) {
      if (!this.data.isAdmin) return Promise.resolve()
      const id = e.currentTarget.dataset.id
      if (!this.data.picked || this.data.picked === id) {
        this.setData({ picked: this.data.picked === id ? null : id })
        return Promise.resolve()
      }
      return this.swap(this.data.picked, id)
    },
    onReason(e) {
      this.setData({ reason: e.detail.value })
    },
    swap(shiftId, withShiftId) {
      const body = { shift_id: shiftId, with_shift_id: withShiftId }
      if (this.data.reason.trim()) body.reason = this.data.reason.trim()
      return api.call('rosterSwap', {}, body).then(answer => {
        const changed = Object.fromEntries(answer.shifts.map(s => [s.id, shiftView(s)]))
        this.setData({ week: this.data.week.map(s => changed[s.id] || s), picked: null, reason: '' })
        wx.showToast({ title: '已换班', icon: 'success' })
      }).catch(err => {
        this.setData({ picked: null })
        api.showError(err)
      })
    },
  },
})
